// CPU feature detection. Reports the best ISA that is both supported by this CPU (and its OS:
// GCC's __builtin_cpu_supports checks XCR0, so AVX state saving is covered) and compiled into
// gnrt_kernels. Needs no extra library on any architecture.
#include "gnrt/kernels.h"

#if defined(__arm__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_NEON
#define HWCAP_NEON (1 << 12)  // arch/arm/include/uapi/asm/hwcap.h
#endif
#endif

namespace gnrt {
namespace kernels {
namespace {

Isa detect_isa_uncached() {
#if defined(GNRT_KERNELS_X86) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma")) {
    return Isa::kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
  return Isa::kScalar;
#elif defined(GNRT_KERNELS_ARM) && defined(__aarch64__)
  return Isa::kNeon;  // Advanced SIMD is mandatory on AArch64.
#elif defined(GNRT_KERNELS_ARM) && defined(__arm__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & HWCAP_NEON) != 0 ? Isa::kNeon : Isa::kScalar;
#else
  return Isa::kScalar;
#endif
}

}  // namespace

Isa detect_isa() {
  static const Isa isa = detect_isa_uncached();  // thread-safe one-time initialization
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar:
      return "scalar";
    case Isa::kAvx2:
      return "avx2+fma";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
  }
  return "unknown";
}

}  // namespace kernels
}  // namespace gnrt
