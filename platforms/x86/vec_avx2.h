// AVX2+FMA vector traits for the shared kernel loop nests. Include only from files compiled with
// -mavx2 -mfma (platforms/x86/kernels.cmake); internal linkage, see sparse_conv_impl.h.
#pragma once

#include <immintrin.h>

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces)

struct VecAvx2 {
  static constexpr int kLanes = 8;
  using Reg = __m256;
  // Mask of the last vector of a run: its `lanes` valid outputs.
  struct Tail {
    __m256i out;  // lane i active when its sign bit is set
  };
  static __m256i first(int n) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
  }
  static Tail make_tail(int lanes) { return {first(lanes)}; }
  // Lanes to keep when storing a vector: the others become 0 (row gaps, x86/row_gaps.h).
  using Keep = __m256;
  static Keep keep_bits(unsigned bits) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i set = _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(bits)), bit);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, bit));
  }
  static Reg keep(Reg x, Keep k) { return _mm256_and_ps(x, k); }
  static Reg zero_outside(Reg x, const Tail& t) {
    return _mm256_and_ps(x, _mm256_castsi256_ps(t.out));
  }
  static Reg set1(float x) { return _mm256_set1_ps(x); }
  // max(floor, x) applies the activation: 0 for ReLU, -inf for none (NaN stays NaN).
  static Reg activation_floor(bool relu) { return _mm256_set1_ps(relu ? 0.0f : -__builtin_inff()); }
  static Reg zero() { return _mm256_setzero_ps(); }
  static Reg load(const float* p) { return _mm256_loadu_ps(p); }
  static Reg load_tail(const float* p, const Tail& t) { return _mm256_maskload_ps(p, t.out); }
  static Reg even(Reg lo, Reg hi) {
    // [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6] -> [lo0 lo2 lo4 lo6 | hi0 hi2 hi4 hi6]
    const __m256 mixed = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  static Reg load_even(const float* p) { return even(_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)); }
  static Reg odd(Reg lo, Reg hi) {
    const __m256 mixed = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
  }
  // [prev[7], cur[0..6]] and [cur[1..7], next[0]]: the neighbours of each lane.
  static Reg shift_prev(Reg cur, Reg prev) {
    const __m256 t = _mm256_permute2f128_ps(prev, cur, 0x21);  // [prev_hi, cur_lo]
    return _mm256_castsi256_ps(
        _mm256_alignr_epi8(_mm256_castps_si256(cur), _mm256_castps_si256(t), 12));
  }
  static Reg shift_next(Reg cur, Reg next) {
    const __m256 t = _mm256_permute2f128_ps(cur, next, 0x21);  // [cur_hi, next_lo]
    return _mm256_castsi256_ps(
        _mm256_alignr_epi8(_mm256_castps_si256(t), _mm256_castps_si256(cur), 4));
  }
  static Reg fmadd(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static void store(float* p, Reg x) { _mm256_storeu_ps(p, x); }
  static void store_tail(float* p, Reg x, const Tail& t) { _mm256_maskstore_ps(p, t.out, x); }
  static Reg gather(const float* x, const unsigned* index) {
    return _mm256_i32gather_ps(x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(index)), 4);
  }
  static Reg gather_tail(const float* x, const unsigned* index, const Tail& t) {
    const __m256i i = _mm256_maskload_epi32(reinterpret_cast<const int*>(index), t.out);
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), x, i, _mm256_castsi256_ps(t.out), 4);
  }
  static float reduce(Reg x) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
  }
};

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
