// int8 execution (format 1.1) against an oracle written here from the definitions in
// docs/format.md and qkernels.h: random small GoogLeNet-like graphs (a strided stem, max pool,
// an inception-like block whose concat is aligned or not, average or global pool, FC, softmax),
// built with ModelBuilder from weights that quantize exactly (integer values times a power of
// two), so the oracle knows every stored integer without reading the file. The oracle runs the
// integer arithmetic on plain [C][H][W] arrays; libgnrt must match it exactly (conv, pool and FC
// outputs) with its selected kernels, with the scalar reference and with two threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gnrt/gnrt.h"
#include "gnrt/model_builder.h"

namespace {

struct QTensor {
  int c = 0, h = 0, w = 0;
  float scale = 1.0f;
  int zero = 0;
  std::vector<int> q;  // [c][h][w]
  int& at(int ci, int y, int x) { return q[(static_cast<std::size_t>(ci) * h + y) * w + x]; }
  int at(int ci, int y, int x) const { return q[(static_cast<std::size_t>(ci) * h + y) * w + x]; }
};

int requant(std::int64_t acc, float m, int z, int lo) {
  float x = static_cast<float>(static_cast<std::int32_t>(acc)) * m;
  x = std::min(512.0f, std::max(-512.0f, x));
  const int y = static_cast<int>(std::nearbyint(x)) + z;
  return std::min(255, std::max(lo, y));
}

std::int64_t div_half_even(std::int64_t s, std::int64_t n) {
  const long double v = static_cast<long double>(s) / n;
  const long double f = std::floor(v);
  const long double r = v - f;
  std::int64_t q = static_cast<std::int64_t>(f);
  if (r > 0.5L || (r == 0.5L && (q % 2 != 0))) ++q;
  return q;
}

struct Rng {
  std::mt19937 g;
  explicit Rng(unsigned seed) : g(seed) {}
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }
  float real(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(g); }
  bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(g); }
};

// A builder and the oracle side by side.
struct Graph {
  gnrt::ModelBuilder b;
  std::vector<QTensor> values;  // by TensorId (oracle values)
  Rng* rng;

  gnrt::TensorId input(QTensor t, const std::vector<float>& real) {
    const gnrt::TensorId id = b.input("input", t.c, t.h, t.w);
    b.set_quantization(id, t.scale, t.zero);
    t.q.resize(real.size());
    for (std::size_t i = 0; i < real.size(); ++i)
      t.q[i] = std::min(255, std::max(0, static_cast<int>(std::nearbyint(real[i] / t.scale)) +
                                             t.zero));
    put(id, t);
    return id;
  }

  void put(gnrt::TensorId id, const QTensor& t) {
    if (static_cast<std::size_t>(id) >= values.size()) values.resize(id + 1);
    values[id] = t;
  }

  gnrt::TensorId conv(const std::string& name, gnrt::TensorId in, int oc, int k, int stride,
                      int pad, bool relu, float out_scale, int out_zero, double density,
                      int storage /* 0 dense, 1 sparse, 4 sparse blocks of 4 */) {
    const QTensor& x = values[in];
    const int taps = k * k;
    std::vector<int> qw(static_cast<std::size_t>(oc) * x.c * taps, 0);
    std::vector<float> scale_w(oc);
    std::vector<int> bias_q(oc);
    for (int o = 0; o < oc; ++o) {
      int* row = &qw[static_cast<std::size_t>(o) * x.c * taps];
      for (int i = 0; i < x.c * taps; ++i)
        if (rng->coin(density)) row[i] = rng->uniform(-127, 127);
      if (rng->coin(0.9)) row[rng->uniform(0, x.c * taps - 1)] = rng->coin() ? 127 : -127;
      bool any = false;
      for (int i = 0; i < x.c * taps; ++i) any = any || row[i] != 0;
      int peak = 0;
      for (int i = 0; i < x.c * taps; ++i) peak = std::max(peak, std::abs(row[i]));
      if (any && peak != 127) row[0] = 127;  // max |w| / 127 must be the power of two
      scale_w[o] = any ? std::ldexp(1.0f, -rng->uniform(5, 9)) : 1.0f;
      bias_q[o] = rng->uniform(-3000, 3000);
    }
    std::vector<float> w(qw.size()), bias(oc);
    for (int o = 0; o < oc; ++o) {
      for (int i = 0; i < x.c * taps; ++i) {
        const std::size_t j = static_cast<std::size_t>(o) * x.c * taps + i;
        w[j] = static_cast<float>(qw[j]) * scale_w[o];
      }
      bias[o] = static_cast<float>(bias_q[o]) * (x.scale * scale_w[o]);
    }
    gnrt::ConvParams p;
    p.out_channels = oc;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.relu = relu;
    gnrt::WeightOptions wo;
    wo.storage = gnrt::ValueStorage::kInt8;
    wo.encoding = storage == 0 ? gnrt::WeightEncoding::kDense : gnrt::WeightEncoding::kSparse;
    wo.block_size = storage == 4 ? 4 : 1;
    const gnrt::TensorId id = b.conv2d(name, in, p, w, bias, wo);
    b.set_quantization(id, out_scale, out_zero);

    QTensor y;
    y.c = oc;
    y.h = (x.h + 2 * pad - k) / stride + 1;
    y.w = (x.w + 2 * pad - k) / stride + 1;
    y.scale = out_scale;
    y.zero = out_zero;
    y.q.resize(static_cast<std::size_t>(y.c) * y.h * y.w);
    for (int o = 0; o < oc; ++o) {
      const float m = static_cast<float>(static_cast<double>(x.scale) *
                                         static_cast<double>(scale_w[o]) /
                                         static_cast<double>(out_scale));
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          std::int64_t acc = bias_q[o];
          for (int ci = 0; ci < x.c; ++ci)
            for (int ky = 0; ky < k; ++ky)
              for (int kx = 0; kx < k; ++kx) {
                const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
                acc += static_cast<std::int64_t>(
                           qw[((static_cast<std::size_t>(o) * x.c + ci) * k + ky) * k + kx]) *
                       (x.at(ci, iy, ix) - x.zero);
              }
          y.at(o, oy, ox) = requant(acc, m, out_zero, relu ? out_zero : 0);
        }
    }
    put(id, y);
    return id;
  }

  gnrt::TensorId pool(const std::string& name, gnrt::TensorId in, bool max, bool global, int k,
                      int stride, int pad, bool ceil_mode, bool count_pad) {
    const QTensor& x = values[in];
    gnrt::PoolParams p;
    p.global = global;
    p.kernel_h = p.kernel_w = k;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.ceil_mode = ceil_mode;
    p.count_include_pad = count_pad;
    const gnrt::TensorId id = max ? b.max_pool(name, in, p) : b.avg_pool(name, in, p);
    b.set_quantization(id, x.scale, x.zero);
    QTensor y;
    y.scale = x.scale;
    y.zero = x.zero;
    y.c = x.c;
    if (global) {
      y.h = y.w = 1;
      y.q.resize(y.c);
      for (int c = 0; c < x.c; ++c) {
        std::int64_t s = 0;
        for (int yy = 0; yy < x.h; ++yy)
          for (int xx = 0; xx < x.w; ++xx) s += x.at(c, yy, xx) - x.zero;
        y.q[c] = std::min<std::int64_t>(255, std::max<std::int64_t>(
                                                 0, x.zero + div_half_even(s, x.h * x.w)));
      }
      put(id, y);
      return id;
    }
    y.h = gnrt::pool_output_size(x.h, k, stride, pad, pad, ceil_mode);
    y.w = gnrt::pool_output_size(x.w, k, stride, pad, pad, ceil_mode);
    y.q.resize(static_cast<std::size_t>(y.c) * y.h * y.w);
    for (int c = 0; c < x.c; ++c)
      for (int oy = 0; oy < y.h; ++oy)
        for (int ox = 0; ox < y.w; ++ox) {
          const int y0 = oy * stride - pad, x0 = ox * stride - pad;
          int best = -1, inside = 0;
          std::int64_t sum = 0;
          for (int yy = y0; yy < y0 + k; ++yy)
            for (int xx = x0; xx < x0 + k; ++xx) {
              if (yy < 0 || xx < 0 || yy >= x.h || xx >= x.w) continue;
              best = std::max(best, x.at(c, yy, xx));
              sum += x.at(c, yy, xx) - x.zero;
              ++inside;
            }
          int v;
          if (max) {
            v = inside ? best : x.zero;
          } else {
            const int rows = std::min(y0 + k, x.h + pad) - y0;
            const int cols = std::min(x0 + k, x.w + pad) - x0;
            const int divisor = count_pad ? rows * cols : inside;
            v = divisor > 0 ? static_cast<int>(x.zero + div_half_even(sum, divisor)) : x.zero;
            v = std::min(255, std::max(0, v));
          }
          y.at(c, oy, ox) = v;
        }
    put(id, y);
    return id;
  }

  gnrt::TensorId concat(const std::string& name, const std::vector<gnrt::TensorId>& ins) {
    const gnrt::TensorId id = b.concat(name, ins);
    QTensor y = values[ins[0]];
    y.c = 0;
    y.q.clear();
    for (gnrt::TensorId t : ins) {
      y.c += values[t].c;
      y.q.insert(y.q.end(), values[t].q.begin(), values[t].q.end());
    }
    b.set_quantization(id, y.scale, y.zero);
    put(id, y);
    return id;
  }

  // Float logits: float(acc) * float(double(s_in) * double(s_w)).
  gnrt::TensorId fc(gnrt::TensorId in, int out, std::vector<float>* logits) {
    const QTensor& x = values[in];
    const int features = x.c * x.h * x.w;
    std::vector<float> w(static_cast<std::size_t>(out) * features), bias(out);
    logits->assign(out, 0.0f);
    for (int o = 0; o < out; ++o) {
      std::vector<int> row(features);
      for (int& v : row) v = rng->uniform(-127, 127);
      row[rng->uniform(0, features - 1)] = 127;
      for (int& v : row) v = std::max(-127, std::min(127, v));
      const float s = std::ldexp(1.0f, -rng->uniform(4, 8));
      const int bq = rng->uniform(-5000, 5000);
      bias[o] = static_cast<float>(bq) * (x.scale * s);
      std::int64_t acc = bq;
      for (int f = 0; f < features; ++f) {
        w[static_cast<std::size_t>(o) * features + f] = static_cast<float>(row[f]) * s;
        acc += static_cast<std::int64_t>(row[f]) * (x.q[f] - x.zero);
      }
      (*logits)[o] = static_cast<float>(static_cast<std::int32_t>(acc)) *
                     static_cast<float>(static_cast<double>(x.scale) * static_cast<double>(s));
    }
    gnrt::WeightOptions wo;
    wo.storage = gnrt::ValueStorage::kInt8;
    wo.encoding = gnrt::WeightEncoding::kDense;
    return b.fully_connected("fc", in, out, w, bias, false, wo);
  }
};

struct Built {
  std::vector<std::uint8_t> bytes;
  std::vector<float> input;
  std::vector<float> expected;  // dequantized conv output or logits or probabilities
  bool exact = true;
  std::string what;
};

Built random_model(unsigned seed) {
  Rng rng(seed);
  Graph g;
  g.rng = &rng;
  Built out;
  const int in_c = std::vector<int>{1, 3, 4, 8}[rng.uniform(0, 3)];
  const int h = rng.uniform(9, 26), w = rng.uniform(9, 26);
  QTensor in;
  in.c = in_c;
  in.h = h;
  in.w = w;
  in.scale = rng.real(0.01f, 0.05f);
  in.zero = rng.uniform(0, 255);
  out.input.resize(static_cast<std::size_t>(in_c) * h * w);
  for (float& v : out.input) v = rng.real(-3.0f, 3.0f);
  const gnrt::TensorId x = g.input(in, out.input);

  // Stem: k in {1, 3, 5, 7}, stride 1 or 2.
  const int k = std::vector<int>{1, 3, 5, 7}[rng.uniform(0, 3)];
  const int stride = rng.uniform(1, 2);
  const int pad = rng.uniform(0, k / 2);
  const int stem_c = rng.uniform(3, 12);
  const int stem_storage = in_c % 4 == 0 && rng.coin() ? 4 : rng.uniform(0, 1);
  const gnrt::TensorId stem =
      g.conv("stem", x, stem_c, k, stride, pad, rng.coin(0.8), rng.real(0.02f, 0.2f),
             rng.uniform(0, 40), rng.real(0.1f, 0.9f), stem_storage);
  gnrt::TensorId t = stem;
  if (g.values[t].h >= 3 && g.values[t].w >= 3)
    t = g.pool("pool1", t, true, false, 3, 2, rng.uniform(0, 1), rng.coin(), false);

  // Inception-like: three branches at one quantization, concatenated.
  const float s_cat = rng.real(0.02f, 0.2f);
  const int z_cat = rng.uniform(0, 30);
  const bool aligned = rng.coin();
  auto branch_c = [&]() { return aligned ? 4 * rng.uniform(1, 4) : rng.uniform(1, 9); };
  const gnrt::TensorId b1 = g.conv("b1", t, branch_c(), 1, 1, 0, true, s_cat, z_cat,
                                   rng.real(0.1f, 0.8f), rng.uniform(0, 1));
  const gnrt::TensorId r2 = g.conv("b2_reduce", t, 4 * rng.uniform(1, 3), 1, 1, 0, true,
                                   rng.real(0.02f, 0.2f), rng.uniform(0, 30), 0.5, 1);
  const gnrt::TensorId b2 =
      g.conv("b2", r2, branch_c(), 3, 1, 1, true, s_cat, z_cat, rng.real(0.1f, 0.8f),
             rng.uniform(0, 2) == 2 ? 4 : rng.uniform(0, 1));
  const gnrt::TensorId p3 = g.pool("b3_pool", t, true, false, 3, 1, 1, false, false);
  const gnrt::TensorId b3 = g.conv("b3", p3, branch_c(), 1, 1, 0, true, s_cat, z_cat,
                                   rng.real(0.1f, 0.8f), rng.uniform(0, 1));
  const gnrt::TensorId cat = g.concat("cat", {b1, b2, b3});

  const int ending = rng.uniform(0, 2);
  if (ending == 0) {
    // Output at a convolution: dequantized, exact.
    const gnrt::TensorId c2 = g.conv("head", cat, rng.uniform(2, 9), 3, 1, 1, rng.coin(),
                                     rng.real(0.02f, 0.2f), rng.uniform(0, 128),
                                     rng.real(0.2f, 0.9f), 1);
    const QTensor& y = g.values[c2];
    for (int v : y.q) out.expected.push_back(y.scale * static_cast<float>(v - y.zero));
    out.bytes = g.b.finish({c2});
    out.what = "conv output";
    return out;
  }
  gnrt::TensorId pooled;
  if (rng.coin() && g.values[cat].h >= 2 && g.values[cat].w >= 2)
    pooled = g.pool("avg", cat, false, false, 2, 2, rng.uniform(0, 1), rng.coin(), rng.coin());
  else
    pooled = g.pool("gap", cat, false, true, 1, 1, 0, false, false);
  std::vector<float> logits;
  const gnrt::TensorId fc = g.fc(pooled, rng.uniform(3, 10), &logits);
  if (ending == 1) {
    out.expected = logits;
    out.bytes = g.b.finish({fc});
    out.what = "logits";
    return out;
  }
  const gnrt::TensorId sm = g.b.softmax("prob", fc);
  double mx = *std::max_element(logits.begin(), logits.end()), sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l) - mx);
  for (float l : logits)
    out.expected.push_back(static_cast<float>(std::exp(static_cast<double>(l) - mx) / sum));
  out.exact = false;
  out.bytes = g.b.finish({sm});
  out.what = "probabilities";
  return out;
}

// `kernels`: the kernels the plan chose, added to the set.
std::vector<float> run(const Built& m, int threads, bool reference, std::set<std::string>* kernels) {
  gnrt_model* model = nullptr;
  REQUIRE_MESSAGE(gnrt_model_load_buffer(m.bytes.data(), m.bytes.size(), &model) == GNRT_OK,
                  gnrt_last_error());
  gnrt_options o;
  gnrt_options_init(&o);
  o.num_threads = threads;
  o.force_reference = reference ? 1 : 0;
  gnrt_plan* plan = nullptr;
  REQUIRE_MESSAGE(gnrt_plan_create(model, &o, &plan) == GNRT_OK, gnrt_last_error());
  REQUIRE(gnrt_plan_set_input(plan, m.input.data(), m.input.size()) == GNRT_OK);
  std::vector<float> out(m.expected.size());
  // Twice: the second run sees the arena as the first left it (borders rewritten per run).
  for (int i = 0; i < 2; ++i) {
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    REQUIRE_MESSAGE(gnrt_plan_get_output(plan, out.data(), out.size()) == GNRT_OK,
                    gnrt_last_error());
  }
  for (int i = 0; i < gnrt_plan_num_operators(plan); ++i)
    kernels->insert(gnrt_plan_operator_kernel(plan, i));
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
  return out;
}

}  // namespace

TEST_CASE("int8 plans match the integer oracle exactly (selected kernels, reference, 2 threads)") {
  int mismatched = 0;
  std::set<std::string> selected;  // by the plans without force_reference
  for (unsigned seed = 1; seed <= 120; ++seed) {
    const Built m = random_model(seed);
    for (int variant = 0; variant < 3; ++variant) {
      std::set<std::string> kernels;
      const std::vector<float> got = run(m, variant == 2 ? 2 : 1, variant == 1, &kernels);
      if (variant != 1) selected.insert(kernels.begin(), kernels.end());
      CAPTURE(seed);
      CAPTURE(variant);
      CAPTURE(m.what);
      REQUIRE(got.size() == m.expected.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        const bool ok = m.exact ? got[i] == m.expected[i]
                                : std::fabs(got[i] - m.expected[i]) <= 1e-5f;
        if (!ok && mismatched++ < 10)
          FAIL_CHECK("element " << i << ": got " << got[i] << ", expected " << m.expected[i]);
      }
    }
  }
  CHECK(mismatched == 0);
  // The cross builds name, per emulated CPU, int8 kernels that the plans must have selected
  // (GNRT_TEST_INT8_KERNELS, comma-separated; tests/runtime/CMakeLists.txt), so that the exact
  // match above is known to cover them.
  if (const char* expected = std::getenv("GNRT_TEST_INT8_KERNELS")) {
    std::stringstream list(expected);
    std::string name;
    while (std::getline(list, name, ','))
      if (!name.empty()) CHECK_MESSAGE(selected.count(name) == 1, "not selected: " << name);
  }
}

TEST_CASE("an int8 plan refuses input of the wrong size and runs only after set_input") {
  const Built m = random_model(5);
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(m.bytes.data(), m.bytes.size(), &model) == GNRT_OK);
  gnrt_plan* plan = nullptr;
  REQUIRE(gnrt_plan_create(model, nullptr, &plan) == GNRT_OK);
  CHECK(gnrt_plan_run(plan) == GNRT_INVALID_STATE);
  CHECK(gnrt_plan_set_input(plan, m.input.data(), m.input.size() - 1) == GNRT_INVALID_ARGUMENT);
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
}
