// AVX-512 vector traits for the shared kernel loop nests. Include only from files compiled with
// the AVX-512 flags (platforms/x86/kernels.cmake); internal linkage, see sparse_conv_impl.h.
#pragma once

#include <immintrin.h>

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces)

struct VecAvx512 {
  static constexpr int kLanes = 16;
  using Reg = __m512;
  // Mask of the last vector of a run: its `lanes` valid outputs.
  struct Tail {
    __mmask16 out;
  };
  static Tail make_tail(int lanes) {
    return {static_cast<__mmask16>(lanes >= 16 ? 0xFFFFu : lanes <= 0 ? 0u : (1u << lanes) - 1u)};
  }
  // Lanes to keep when storing a vector: the others become 0 (row gaps, x86/row_gaps.h).
  using Keep = __mmask16;
  static Keep keep_bits(unsigned bits) { return static_cast<__mmask16>(bits); }
  static Reg keep(Reg x, Keep k) { return _mm512_maskz_mov_ps(k, x); }
  static Reg zero_outside(Reg x, const Tail& t) { return _mm512_maskz_mov_ps(t.out, x); }
  static Reg set1(float x) { return _mm512_set1_ps(x); }
  // max(floor, x) applies the activation: 0 for ReLU, -inf for none (NaN stays NaN).
  static Reg activation_floor(bool relu) { return _mm512_set1_ps(relu ? 0.0f : -__builtin_inff()); }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float* p) { return _mm512_loadu_ps(p); }
  static Reg load_tail(const float* p, const Tail& t) { return _mm512_maskz_loadu_ps(t.out, p); }
  static Reg even(Reg lo, Reg hi) {
    const __m512i index =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, index, hi);
  }
  static Reg load_even(const float* p) { return even(_mm512_loadu_ps(p), _mm512_loadu_ps(p + 16)); }
  static Reg odd(Reg lo, Reg hi) {
    const __m512i index =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, index, hi);
  }
  // [prev[15], cur[0..14]] and [cur[1..15], next[0]]: the neighbours of each lane.
  static Reg shift_prev(Reg cur, Reg prev) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(cur), _mm512_castps_si512(prev), 15));
  }
  static Reg shift_next(Reg cur, Reg next) {
    return _mm512_castsi512_ps(
        _mm512_alignr_epi32(_mm512_castps_si512(next), _mm512_castps_si512(cur), 1));
  }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static void store(float* p, Reg x) { _mm512_storeu_ps(p, x); }
  static void store_tail(float* p, Reg x, const Tail& t) { _mm512_mask_storeu_ps(p, t.out, x); }
  // x[index[i]] for the lanes of a vector of 32-bit indices.
  static Reg gather(const float* x, const unsigned* index) {
    return _mm512_i32gather_ps(_mm512_loadu_si512(index), x, 4);
  }
  static Reg gather_tail(const float* x, const unsigned* index, const Tail& t) {
    const __m512i i = _mm512_maskz_loadu_epi32(t.out, index);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), t.out, i, x, 4);
  }
  static float reduce(Reg x) { return _mm512_reduce_add_ps(x); }
};

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
