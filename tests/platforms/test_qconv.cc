// int8 convolution: the scalar reference against independent naive loops on NCHW integers (real
// zero padding, zero points subtracted), and every int8 row of the registry this CPU runs against
// the reference with exact equality, including the row gaps and the memory around the planes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gnrt/qkernels.h"
#include "guarded_memory.h"
#include "kernel_registry.h"

namespace k = gnrt::kernels;

namespace {

struct Case {
  k::QConvProblem p;
  bool relu = false;
  std::vector<std::uint8_t> in;  // NCHW
  std::vector<std::uint32_t> row_begin, group, tap;
  std::vector<std::int32_t> w4, bias;
  std::vector<float> mult;
  int pad = 0;  // C4 border of both planes
};

// C4 planes with a border of `pad` and a zero-point fill; element (0,0,0) at `origin`.
struct C4 {
  std::vector<std::uint8_t> bytes;
  std::ptrdiff_t rs = 0, gs = 0, origin = 0;
  C4(int channels, int h, int w, int pad, int fill, std::ptrdiff_t rs_override = 0) {
    rs = rs_override ? rs_override : w + 2 * pad;
    gs = (h + 2 * pad) * rs + 64;
    const int groups = (channels + 3) / 4;
    bytes.assign(static_cast<std::size_t>((groups * gs + 256) * 4), static_cast<std::uint8_t>(fill));
    origin = (64 + pad * rs + pad) * 4;
  }
  std::uint8_t& at(int c, int y, int x) {
    return bytes[origin + ((c / 4) * gs + static_cast<std::ptrdiff_t>(y) * rs + x) * 4 + c % 4];
  }
};

// A random problem; with fixed_k > 0 a stride-1 fixed_k x fixed_k one of size fixed_h x fixed_w.
Case random_case(std::mt19937& rng, bool stride1_same, int fixed_k = 0, int fixed_h = 0,
                 int fixed_w = 0) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Case c;
  k::QConvProblem& p = c.p;
  const int ks[] = {1, 3, 5, 7};
  p.kernel_h = fixed_k > 0 ? fixed_k : ks[uni(0, 3)];
  p.kernel_w = stride1_same || fixed_k > 0 ? p.kernel_h : ks[uni(0, 3)];
  p.stride_h = p.stride_w = stride1_same || fixed_k > 0 ? 1 : uni(1, 2);
  p.pad_top = p.kernel_h / 2;
  p.pad_left = p.kernel_w / 2;
  p.in_channels = uni(1, 40);
  p.out_channels = uni(1, 23);
  p.in_height = fixed_k > 0 ? fixed_h : uni(1, 13);
  p.in_width = fixed_k > 0 ? fixed_w : uni(1, 21);
  p.out_height = (p.in_height + 2 * p.pad_top - p.kernel_h) / p.stride_h + 1;
  p.out_width = (p.in_width + 2 * p.pad_left - p.kernel_w) / p.stride_w + 1;
  p.in_zero_point = uni(0, 3) == 0 ? uni(0, 255) : 0;
  p.out_zero_point = uni(0, 255);
  c.relu = uni(0, 1) == 1;
  p.out_min = c.relu ? p.out_zero_point : 0;
  c.pad = std::max(p.pad_top, p.pad_left);
  c.in.resize(static_cast<std::size_t>(p.in_channels) * p.in_height * p.in_width);
  for (auto& v : c.in) v = static_cast<std::uint8_t>(uni(0, 255));
  const int groups = (p.in_channels + 3) / 4, taps = p.kernel_h * p.kernel_w;
  const double density = std::uniform_real_distribution<double>(0.05, 1.0)(rng);
  c.row_begin.push_back(0);
  for (int o = 0; o < p.out_channels; ++o) {
    for (int g = 0; g < groups; ++g)
      for (int t = 0; t < taps; ++t) {
        if (std::uniform_real_distribution<double>(0, 1)(rng) > density) continue;
        std::uint32_t w = 0;
        for (int b = 0; b < 4; ++b) {
          const int v = 4 * g + b < p.in_channels ? uni(-127, 127) : 0;
          w |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(v)) << (8 * b);
        }
        c.group.push_back(g);
        c.tap.push_back(t);
        c.w4.push_back(static_cast<std::int32_t>(w));
      }
    c.row_begin.push_back(static_cast<std::uint32_t>(c.group.size()));
    c.bias.push_back(uni(-20000, 20000));
    // A quarter of the channels with a power-of-two multiplier: float(acc) * m is then often
    // exactly halfway between two integers, where round half to even is checked.
    c.mult.push_back(uni(0, 3) == 0 ? std::ldexp(1.0f, -uni(5, 9))
                                    : std::uniform_real_distribution<float>(1e-4f, 2e-2f)(rng));
  }
  return c;
}

// Naive NCHW: acc = bias + sum w * (q - z_in) over in-bounds taps.
std::vector<int> naive(const Case& c) {
  const k::QConvProblem& p = c.p;
  std::vector<int> out(static_cast<std::size_t>(p.out_channels) * p.out_height * p.out_width);
  for (int o = 0; o < p.out_channels; ++o)
    for (int y = 0; y < p.out_height; ++y)
      for (int x = 0; x < p.out_width; ++x) {
        std::int64_t acc = c.bias[o];
        for (std::uint32_t e = c.row_begin[o]; e < c.row_begin[o + 1]; ++e) {
          const int ky = c.tap[e] / p.kernel_w, kx = c.tap[e] % p.kernel_w;
          const int iy = y * p.stride_h - p.pad_top + ky, ix = x * p.stride_w - p.pad_left + kx;
          if (iy < 0 || iy >= p.in_height || ix < 0 || ix >= p.in_width) continue;
          for (int b = 0; b < 4; ++b) {
            const int ic = 4 * c.group[e] + b;
            if (ic >= p.in_channels) continue;
            const int w = static_cast<std::int8_t>((static_cast<std::uint32_t>(c.w4[e]) >> (8 * b)) & 0xff);
            acc += w * (c.in[(static_cast<std::size_t>(ic) * p.in_height + iy) * p.in_width + ix] -
                        p.in_zero_point);
          }
        }
        out[(static_cast<std::size_t>(o) * p.out_height + y) * p.out_width + x] =
            k::requantize(static_cast<std::int32_t>(acc), c.mult[o], p.out_zero_point, p.out_min);
      }
  return out;
}

struct Run {
  C4 in, out;
  std::vector<std::uint8_t> packed;
};

Run prepare(Case& c, bool shared_rs) {
  k::QConvProblem& p = c.p;
  C4 in(p.in_channels, p.in_height, p.in_width, c.pad, p.in_zero_point);
  for (int ch = 0; ch < p.in_channels; ++ch)
    for (int y = 0; y < p.in_height; ++y)
      for (int x = 0; x < p.in_width; ++x)
        in.at(ch, y, x) = c.in[(static_cast<std::size_t>(ch) * p.in_height + y) * p.in_width + x];
  C4 out(p.out_channels, p.out_height, p.out_width, c.pad, p.out_zero_point,
         shared_rs ? in.rs : 0);
  p.in_row_stride = in.rs;
  p.in_group_stride = in.gs;
  p.out_row_stride = out.rs;
  p.out_group_stride = out.gs;
  k::QConvWeights w{c.row_begin.data(), c.group.data(), c.tap.data(), c.w4.data(), c.bias.data(),
                    c.mult.data()};
  std::vector<std::uint8_t> packed(k::qconv_packed_bytes(p, w) + 64);
  void* aligned = packed.data() + (64 - reinterpret_cast<std::uintptr_t>(packed.data()) % 64) % 64;
  k::qconv_pack(p, w, aligned);
  return Run{std::move(in), std::move(out), std::move(packed)};
}

const void* packed_of(const Run& r) {
  return r.packed.data() + (64 - reinterpret_cast<std::uintptr_t>(r.packed.data()) % 64) % 64;
}

// Runs `info` and the reference on the case (output channels split at a multiple of 4 as the
// runtime's threads split them); whether the whole buffers are equal. False also when the row
// does not take the problem (*taken false).
bool row_equals_reference(const k::QConvKernelInfo& info, Case& c, bool* taken) {
  Run want = prepare(c, true);
  *taken = !info.supports || info.supports(c.p);
  if (!*taken) return false;
  Run got = prepare(c, true);
  const int mid = (c.p.out_channels / 2) / 4 * 4;
  k::qs8_conv2d_ref(c.p, packed_of(want), want.in.bytes.data() + want.in.origin,
                    want.out.bytes.data() + want.out.origin, 0, c.p.out_channels);
  info.run(c.p, packed_of(got), got.in.bytes.data() + got.in.origin,
           got.out.bytes.data() + got.out.origin, 0, mid);
  info.run(c.p, packed_of(got), got.in.bytes.data() + got.in.origin,
           got.out.bytes.data() + got.out.origin, mid, c.p.out_channels);
  return got.out.bytes == want.out.bytes;
}

// The int8 rows of the reference family and of this CPU's ISA family.
std::vector<const k::QConvKernelInfo*> qconv_rows() {
  std::vector<const k::QConvKernelInfo*> rows;
  for (const k::IsaKernels* family : {&k::scalar_kernels(), k::kernels_for(k::detect_isa())}) {
    if (family == nullptr) continue;
    for (const k::QConvKernelInfo& info : family->qconv) rows.push_back(&info);
  }
  return rows;
}

// Comma-separated row names from an environment variable (empty when unset). The cross builds
// set GNRT_TEST_QCONV_RUN / GNRT_TEST_QCONV_SKIPPED per emulated CPU (tests/platforms/
// CMakeLists.txt), so that a CPU model that silently lost a feature fails instead of skipping.
std::set<std::string> names_from_env(const char* variable) {
  std::set<std::string> names;
  const char* value = std::getenv(variable);
  if (value == nullptr) return names;
  std::stringstream list(value);
  std::string name;
  while (std::getline(list, name, ','))
    if (!name.empty()) names.insert(name);
  return names;
}

}  // namespace

TEST_CASE("qs8 reference convolution equals naive int8 loops (zero points, padding, strides)") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 300; ++trial) {
    Case c = random_case(rng, trial % 2 == 0);
    Run r = prepare(c, false);
    k::qs8_conv2d_ref(c.p, packed_of(r), r.in.bytes.data() + r.in.origin,
                      r.out.bytes.data() + r.out.origin, 0, c.p.out_channels);
    const std::vector<int> want = naive(c);
    int bad = 0;
    for (int o = 0; o < c.p.out_channels; ++o)
      for (int y = 0; y < c.p.out_height; ++y)
        for (int x = 0; x < c.p.out_width; ++x)
          bad += r.out.at(o, y, x) !=
                 want[(static_cast<std::size_t>(o) * c.p.out_height + y) * c.p.out_width + x];
    CHECK_MESSAGE(bad == 0, "trial " << trial);
  }
}

TEST_CASE("every int8 convolution row equals the reference exactly, borders and gaps untouched") {
  std::mt19937 rng(99);
  std::set<std::string> ran, skipped;
  for (const k::QConvKernelInfo* row : qconv_rows()) {
    const k::QConvKernelInfo& info = *row;
    if (!k::cpu_has(info.features)) {
      MESSAGE("skipped (CPU lacks its features): " << std::string(info.name));
      skipped.insert(info.name);
      continue;
    }
    int problems = 0;
    for (int trial = 0; trial < 400 && problems < 150; ++trial) {
      Case c = random_case(rng, trial % 4 != 0);
      bool taken = false;
      const bool equal = row_equals_reference(info, c, &taken);
      if (!taken) continue;
      ++problems;
      CHECK_MESSAGE(equal, std::string(info.name) << " trial " << trial);
    }
    MESSAGE(std::string(info.name) << ": " << problems << " problems");
    CHECK(problems > 0);
    ran.insert(info.name);
  }
  CHECK(ran.size() >= 1);
  for (const std::string& name : names_from_env("GNRT_TEST_QCONV_RUN"))
    CHECK_MESSAGE(ran.count(name) == 1, "expected to run on this CPU: " << name);
  for (const std::string& name : names_from_env("GNRT_TEST_QCONV_SKIPPED"))
    CHECK_MESSAGE(skipped.count(name) == 1, "expected to be skipped on this CPU: " << name);
}

// The flat stride-1 rows cut the run of (out_height - 1) * row_stride + out_width positions into
// tiles, a last tile placed to end at the run's end, shorter tiles for short runs and single
// positions below a vector: every run length from 1 to past two of the widest tiles (128
// positions), 1x1 kernels without a border (row stride = width) and 3x3 ones with a border of 1.
TEST_CASE("every int8 convolution row equals the reference on every flat run length") {
  std::mt19937 rng(7);
  for (const k::QConvKernelInfo* row : qconv_rows()) {
    const k::QConvKernelInfo& info = *row;
    if (!k::cpu_has(info.features)) continue;
    int problems = 0;
    for (int kernel : {1, 3})
      for (int h = 1; h <= 3; ++h)
        for (int w = 1; w <= 48; ++w) {
          Case c = random_case(rng, true, kernel, h, w);
          bool taken = false;
          const bool equal = row_equals_reference(info, c, &taken);
          if (!taken) continue;
          ++problems;
          CHECK_MESSAGE(equal, std::string(info.name) << " kernel " << kernel << " " << h << "x"
                                                      << w);
        }
    MESSAGE(std::string(info.name) << ": " << problems << " problems");
    CHECK(problems > 0);
  }
}

// Tight planes next to inaccessible pages: the input and output C4 buffers hold exactly their
// groups' planes (border of kernel / 2, no slack), starting right after a guard page or ending at
// one, so a row that reads or writes outside the planes crashes. The flat rows read at most what
// the reference reads (their positions run from the first to the last interior position) and
// write only inside the output planes; the bytes must equal the reference's everywhere.
TEST_CASE("every int8 convolution row stays inside tight planes (guard pages on both sides)") {
  std::mt19937 rng(5);
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (const k::QConvKernelInfo* row : qconv_rows()) {
    const k::QConvKernelInfo& info = *row;
    if (!k::cpu_has(info.features)) continue;
    int problems = 0;
    for (int trial = 0; trial < 60; ++trial) {
      const int kernel = 1 + 2 * (trial % 3);
      Case c = random_case(rng, true, kernel, uni(1, 13), uni(1, 21));
      k::QConvProblem& p = c.p;
      const int pad = c.pad;
      const std::ptrdiff_t rs = p.in_width + 2 * pad, gs = (p.in_height + 2 * pad) * rs;
      p.in_row_stride = p.out_row_stride = rs;
      p.in_group_stride = p.out_group_stride = gs;
      if (info.supports && !info.supports(p)) continue;
      ++problems;
      const std::size_t in_positions = static_cast<std::size_t>((p.in_channels + 3) / 4) * gs;
      const std::size_t out_positions = static_cast<std::size_t>((p.out_channels + 3) / 4) * gs;
      const std::ptrdiff_t origin = (pad * rs + pad) * 4;  // bytes
      std::vector<std::uint8_t> in(in_positions * 4, static_cast<std::uint8_t>(p.in_zero_point));
      for (int ch = 0; ch < p.in_channels; ++ch)
        for (int y = 0; y < p.in_height; ++y)
          for (int x = 0; x < p.in_width; ++x)
            in[origin + ((ch / 4) * gs + y * rs + x) * 4 + ch % 4] =
                c.in[(static_cast<std::size_t>(ch) * p.in_height + y) * p.in_width + x];
      k::QConvWeights w{c.row_begin.data(), c.group.data(), c.tap.data(), c.w4.data(),
                        c.bias.data(), c.mult.data()};
      std::vector<std::uint8_t> packed(k::qconv_packed_bytes(p, w) + 64);
      void* aligned =
          packed.data() + (64 - reinterpret_cast<std::uintptr_t>(packed.data()) % 64) % 64;
      k::qconv_pack(p, w, aligned);
      std::vector<std::uint8_t> want(out_positions * 4,
                                     static_cast<std::uint8_t>(p.out_zero_point));
      k::qs8_conv2d_ref(p, aligned, in.data() + origin, want.data() + origin, 0, p.out_channels);
      for (bool at_end : {false, true}) {
        gnrt_test::GuardedFloats gin(in_positions, at_end), gout(out_positions, at_end);
        auto* gi = reinterpret_cast<std::uint8_t*>(gin.data());
        auto* go = reinterpret_cast<std::uint8_t*>(gout.data());
        std::memcpy(gi, in.data(), in.size());
        std::memset(go, p.out_zero_point, want.size());
        const int mid = (p.out_channels / 2) / 4 * 4;
        info.run(p, aligned, gi + origin, go + origin, 0, mid);
        info.run(p, aligned, gi + origin, go + origin, mid, p.out_channels);
        CHECK_MESSAGE(std::memcmp(go, want.data(), want.size()) == 0,
                      std::string(info.name) << " trial " << trial << (at_end ? " at end" : ""));
      }
    }
    MESSAGE(std::string(info.name) << ": " << problems << " problems");
    CHECK(problems > 0);
  }
}
