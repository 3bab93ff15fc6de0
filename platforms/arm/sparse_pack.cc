// Plan-time packing for the NEON sparse kernels; layout documented in sparse_pack.h.
#include "arm/sparse_pack.h"

#include <cstring>
#include <limits>

namespace gnrt {
namespace kernels {
namespace arm {
namespace {

constexpr std::uint64_t kAlign = 16;

std::uint64_t align_up(std::uint64_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

struct Layout {
  std::uint64_t bias, row_begin, weights, tail, total;
};

// Four arrays after a header; `tail_element` is the size of the last per-nonzero array.
Layout layout_for(std::uint64_t header_bytes, std::uint64_t rows, std::uint64_t nonzeros) {
  Layout l;
  l.bias = align_up(header_bytes);
  l.row_begin = align_up(l.bias + rows * sizeof(float));
  l.weights = align_up(l.row_begin + (rows + 1) * sizeof(std::uint32_t));
  l.tail = align_up(l.weights + nonzeros * sizeof(float));
  l.total = align_up(l.tail + nonzeros * sizeof(std::uint32_t));
  return l;
}

bool fits_u32(std::uint64_t bytes) { return bytes <= std::numeric_limits<std::uint32_t>::max(); }

// Whether the header's int32 nonzero count and uint32 offsets can describe the block.
bool packable(std::uint64_t header_bytes, std::uint64_t rows, std::uint64_t nonzeros) {
  if (nonzeros > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) return false;
  return fits_u32(layout_for(header_bytes, rows, nonzeros).total);
}

// Nonzeros of `rows` dense rows of `row_size` weights, or of the CSR rows.
std::uint64_t count_nonzeros(const float* dense, const SparseRows& sparse, std::uint64_t rows,
                             std::uint64_t row_size) {
  if (dense == nullptr) return sparse.row_begin[rows];
  std::uint64_t count = 0;
  for (std::uint64_t i = 0; i < rows * row_size; ++i) count += dense[i] != 0.0f;
  return count;
}

// Whether CSR rows start at 0, never go backwards and index inside a row of `row_size`.
bool sparse_rows_ok(const SparseRows& rows, int count, std::uint64_t row_size) {
  if (rows.row_begin[0] != 0) return false;
  for (int r = 0; r < count; ++r) {
    if (rows.row_begin[r + 1] < rows.row_begin[r]) return false;
    for (std::uint32_t k = rows.row_begin[r]; k < rows.row_begin[r + 1]; ++k)
      if (rows.indices[k] >= row_size) return false;
  }
  return true;
}

// emit(index, value) for the nonzeros of row `row`, in index order for dense weights, in CSR
// order otherwise (explicit zeros of sparse rows kept).
template <typename Emit>
void for_each_nonzero(const float* dense, const SparseRows& sparse, int row, std::uint32_t row_size,
                      Emit emit) {
  if (dense != nullptr) {
    const float* w = dense + static_cast<std::uint64_t>(row) * row_size;
    for (std::uint32_t i = 0; i < row_size; ++i)
      if (w[i] != 0.0f) emit(i, w[i]);
  } else {
    for (std::uint32_t k = sparse.row_begin[row]; k < sparse.row_begin[row + 1]; ++k)
      emit(sparse.indices[k], sparse.values[k]);
  }
}

// The arrays of a packed block being written; `tail` is its last per-nonzero array.
struct Arrays {
  float* bias;
  std::uint32_t* row_begin;
  float* weights;
  unsigned char* tail;
};

// Stores `header` with the offsets of the arrays every block has, and the bias (the block is
// zeroed before: no bias leaves zeros).
template <typename Header>
Arrays write_header(Header header, const Layout& l, const float* bias, int rows,
                    unsigned char* base) {
  header.bias_offset = static_cast<std::uint32_t>(l.bias);
  header.row_begin_offset = static_cast<std::uint32_t>(l.row_begin);
  header.weights_offset = static_cast<std::uint32_t>(l.weights);
  std::memcpy(base, &header, sizeof header);
  Arrays a{reinterpret_cast<float*>(base + l.bias),
           reinterpret_cast<std::uint32_t*>(base + l.row_begin),
           reinterpret_cast<float*>(base + l.weights), base + l.tail};
  if (bias != nullptr) std::memcpy(a.bias, bias, sizeof(float) * rows);
  return a;
}

// The arrays every packed block has after its header (bias, row_begin, weights).
template <typename View, typename Header>
View common_view(const void* packed) {
  const auto* base = static_cast<const unsigned char*>(packed);
  View v;
  v.header = reinterpret_cast<const Header*>(base);
  v.bias = reinterpret_cast<const float*>(base + v.header->bias_offset);
  v.row_begin = reinterpret_cast<const std::uint32_t*>(base + v.header->row_begin_offset);
  v.weights = reinterpret_cast<const float*>(base + v.header->weights_offset);
  return v;
}

}  // namespace

Segments plan_segments(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  Segments s;
  // Merging rows writes the positions between rows; they must land in the output's border
  // (right border of row y or left border of row y + 1), never in another row's interior.
  s.merged = g.stride_h == 1 && g.stride_w == 1 && p.in_row_stride == p.out_row_stride &&
             p.out_row_stride <= static_cast<std::int64_t>(g.out_width) + 2 * p.out_pad;
  if (s.merged) {
    s.count = 1;
    s.length = static_cast<std::int64_t>(g.out_height - 1) * p.out_row_stride + g.out_width;
    s.in_step = 0;
    s.out_step = 0;
  } else {
    s.count = g.out_height;
    s.length = g.out_width;
    s.in_step = static_cast<std::int64_t>(g.stride_h) * p.in_row_stride;
    s.out_step = p.out_row_stride;
  }
  return s;
}

namespace {

std::int64_t tap_offset(const ConvProblem& p, std::uint32_t index) {
  const ConvGeometry& g = p.geometry;
  const std::uint32_t taps = static_cast<std::uint32_t>(g.kernel_h) * g.kernel_w;
  const std::int64_t ic = index / taps;
  const std::int64_t ky = (index % taps) / g.kernel_w;
  const std::int64_t kx = index % g.kernel_w;
  return ic * p.in_channel_stride + (ky - g.pad_top) * p.in_row_stride + (kx - g.pad_left);
}

}  // namespace

std::uint64_t conv_sparse_count_nonzeros(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  return count_nonzeros(p.dense_weights, p.sparse, g.out_channels,
                        static_cast<std::uint64_t>(g.in_channels) * g.kernel_h * g.kernel_w);
}

bool conv_sparse_supported(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  if (g.groups != 1 || g.dilation_h != 1 || g.dilation_w != 1) return false;
  if (g.stride_w != 1 && g.stride_w != 2) return false;
  if (g.stride_h < 1 || g.kernel_h < 1 || g.kernel_w < 1) return false;
  if (g.in_channels < 1 || g.out_channels < 1 || g.in_height < 1 || g.in_width < 1 ||
      g.out_height < 1 || g.out_width < 1)
    return false;
  if (g.pad_top < 0 || g.pad_left < 0 || p.in_pad < 0 || p.out_pad < 0) return false;
  if (!padded_plane_ok(p.in_row_stride, p.in_channel_stride, g.in_height, g.in_width, p.in_pad) ||
      p.out_row_stride < g.out_width)
    return false;
  // Every tap of every output must fall inside the zero border: the kernels never clip.
  const std::int64_t pad_bottom = static_cast<std::int64_t>(g.out_height - 1) * g.stride_h +
                                  g.kernel_h - g.pad_top - g.in_height;
  const std::int64_t pad_right = static_cast<std::int64_t>(g.out_width - 1) * g.stride_w +
                                 g.kernel_w - g.pad_left - g.in_width;
  if (g.pad_top > p.in_pad || g.pad_left > p.in_pad || pad_bottom > p.in_pad ||
      pad_right > p.in_pad)
    return false;
  const bool dense = p.dense_weights != nullptr;
  const bool sparse = p.sparse.row_begin != nullptr;
  if (dense == sparse) return false;
  // Byte deltas between any two taps of one channel must fit in int32.
  const std::int64_t span = static_cast<std::int64_t>(g.in_channels) * p.in_channel_stride +
                            static_cast<std::int64_t>(g.kernel_h + 1) * p.in_row_stride +
                            g.kernel_w + 1;
  if (span * static_cast<std::int64_t>(sizeof(float)) > std::numeric_limits<std::int32_t>::max())
    return false;
  if (plan_segments(p).length > std::numeric_limits<std::int32_t>::max()) return false;
  const std::uint64_t taps = static_cast<std::uint64_t>(g.in_channels) * g.kernel_h * g.kernel_w;
  if (sparse && !sparse_rows_ok(p.sparse, g.out_channels, taps)) return false;
  return packable(sizeof(PackedConvHeader), g.out_channels, conv_sparse_count_nonzeros(p));
}

std::size_t conv_sparse_packed_bytes(const ConvProblem& p) {
  return layout_for(sizeof(PackedConvHeader), p.geometry.out_channels,
                    conv_sparse_count_nonzeros(p))
      .total;
}

void conv_sparse_pack(const ConvProblem& p, void* packed) {
  const ConvGeometry& g = p.geometry;
  const std::uint64_t nonzeros = conv_sparse_count_nonzeros(p);
  const Layout l = layout_for(sizeof(PackedConvHeader), g.out_channels, nonzeros);
  const Segments s = plan_segments(p);
  auto* base = static_cast<unsigned char*>(packed);
  std::memset(base, 0, l.total);

  PackedConvHeader header{};
  header.out_channels = g.out_channels;
  header.nonzeros = static_cast<std::int32_t>(nonzeros);
  header.stride_w = g.stride_w;
  header.segments = static_cast<std::int32_t>(s.count);
  header.segment_length = static_cast<std::int32_t>(s.length);
  header.in_segment_step = s.in_step;
  header.out_segment_step = s.out_step;
  header.deltas_offset = static_cast<std::uint32_t>(l.tail);
  const Arrays a = write_header(header, l, p.bias, g.out_channels, base);
  std::uint32_t* row_begin = a.row_begin;
  float* weights = a.weights;
  auto* deltas = reinterpret_cast<std::int32_t*>(a.tail);

  const std::uint32_t taps = static_cast<std::uint32_t>(g.in_channels) * g.kernel_h * g.kernel_w;
  std::uint32_t n = 0;
  for (int oc = 0; oc < g.out_channels; ++oc) {
    row_begin[oc] = n;
    std::int64_t previous = 0;
    auto emit = [&](std::uint32_t index, float value) {
      const std::int64_t offset = tap_offset(p, index);
      weights[n] = value;
      deltas[n] = static_cast<std::int32_t>((offset - previous) * std::int64_t{sizeof(float)});
      previous = offset;
      ++n;
    };
    for_each_nonzero(p.dense_weights, p.sparse, oc, taps, emit);
  }
  row_begin[g.out_channels] = n;
}

PackedConv conv_sparse_view(const void* packed) {
  PackedConv v = common_view<PackedConv, PackedConvHeader>(packed);
  v.deltas = reinterpret_cast<const std::int32_t*>(static_cast<const unsigned char*>(packed) +
                                                   v.header->deltas_offset);
  return v;
}

// ---------------------------------------------------------------------------------------------

std::uint64_t fc_sparse_count_nonzeros(const FcProblem& p) {
  return count_nonzeros(p.dense_weights, p.sparse, p.out_features,
                        static_cast<std::uint64_t>(p.in_features));
}

bool fc_sparse_supported(const FcProblem& p) {
  if (p.in_features < 1 || p.out_features < 1) return false;
  const bool dense = p.dense_weights != nullptr;
  const bool sparse = p.sparse.row_begin != nullptr;
  if (dense == sparse) return false;
  if (sparse &&
      !sparse_rows_ok(p.sparse, p.out_features, static_cast<std::uint64_t>(p.in_features)))
    return false;
  return packable(sizeof(PackedFcHeader), p.out_features, fc_sparse_count_nonzeros(p));
}

std::size_t fc_sparse_packed_bytes(const FcProblem& p) {
  return layout_for(sizeof(PackedFcHeader), p.out_features, fc_sparse_count_nonzeros(p)).total;
}

void fc_sparse_pack(const FcProblem& p, void* packed) {
  const std::uint64_t nonzeros = fc_sparse_count_nonzeros(p);
  const Layout l = layout_for(sizeof(PackedFcHeader), p.out_features, nonzeros);
  auto* base = static_cast<unsigned char*>(packed);
  std::memset(base, 0, l.total);

  PackedFcHeader header{};
  header.in_features = p.in_features;
  header.out_features = p.out_features;
  header.nonzeros = static_cast<std::int32_t>(nonzeros);
  header.indices_offset = static_cast<std::uint32_t>(l.tail);
  const Arrays a = write_header(header, l, p.bias, p.out_features, base);
  std::uint32_t* row_begin = a.row_begin;
  float* weights = a.weights;
  auto* indices = reinterpret_cast<std::uint32_t*>(a.tail);

  std::uint32_t n = 0;
  for (int o = 0; o < p.out_features; ++o) {
    row_begin[o] = n;
    for_each_nonzero(p.dense_weights, p.sparse, o, static_cast<std::uint32_t>(p.in_features),
                     [&](std::uint32_t index, float value) {
                       weights[n] = value;
                       indices[n] = index;
                       ++n;
                     });
  }
  row_begin[p.out_features] = n;
}

PackedFc fc_sparse_view(const void* packed) {
  PackedFc v = common_view<PackedFc, PackedFcHeader>(packed);
  v.indices = reinterpret_cast<const std::uint32_t*>(static_cast<const unsigned char*>(packed) +
                                                     v.header->indices_offset);
  return v;
}

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
