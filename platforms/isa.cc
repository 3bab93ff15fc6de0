// CPU feature detection, the one place that reads cpuid (through GCC's __builtin_cpu_supports,
// which also checks XCR0, so OS support of the AVX state is covered) or AT_HWCAP. Reports the
// best ISA level that this CPU supports and that is compiled into gnrt_kernels, and the
// CpuFeature bits of kernel_registry.h. Needs no extra library on any architecture.
#include "gnrt/kernels.h"
#include "kernel_registry.h"

#if defined(__linux__) && (defined(__arm__) || defined(__aarch64__))
#include <sys/auxv.h>
#endif

namespace gnrt {
namespace kernels {
namespace {

unsigned probe_features() {
  unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    f |= kFeatureAvx2Fma;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
    if (__builtin_cpu_supports("avxvnni")) f |= kFeatureAvxVnni;
#endif
  }
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("fma")) {
    f |= kFeatureAvx512;
    if (__builtin_cpu_supports("avx512vnni")) f |= kFeatureAvx512Vnni;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    if (__builtin_cpu_supports("avx512fp16")) f |= kFeatureAvx512Fp16;
#endif
  }
#elif defined(__aarch64__)
  // Advanced SIMD with FMA is mandatory on AArch64; fp16 arithmetic and dot products are not
  // (Linux arm64 hwcap bits, asm/hwcap.h).
  f |= kFeatureNeon | kFeatureNeonFma;
#if defined(__linux__)
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if ((hwcap & (1ul << 10)) != 0) f |= kFeatureNeonFp16;  // HWCAP_ASIMDHP
  if ((hwcap & (1ul << 20)) != 0) f |= kFeatureNeonDot;   // HWCAP_ASIMDDP
#endif
#elif defined(__arm__) && defined(__linux__)
  // Linux AArch32 hwcap bits (asm/hwcap.h), spelled out so that the file does not depend on the
  // kernel headers of the sysroot.
  const unsigned long hwcap = getauxval(AT_HWCAP);
  if ((hwcap & (1ul << 12)) != 0) {  // HWCAP_NEON
    f |= kFeatureNeon;
    if ((hwcap & (1ul << 16)) != 0) f |= kFeatureNeonFma;  // HWCAP_VFPv4
  }
#endif
  return f;
}

Isa detect_isa_uncached() {
  const unsigned f = cpu_features();
#if defined(GNRT_KERNELS_X86)
  if ((f & kFeatureAvx512) != 0) return Isa::kAvx512;
  if ((f & kFeatureAvx2Fma) != 0) return Isa::kAvx2;
#elif defined(GNRT_KERNELS_ARM)
  if ((f & kFeatureNeon) != 0) return Isa::kNeon;
#endif
  (void)f;
  return Isa::kScalar;
}

}  // namespace

unsigned cpu_features() {
  static const unsigned features = probe_features();  // thread-safe one-time initialization
  return features;
}

Isa detect_isa() {
  static const Isa isa = detect_isa_uncached();
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
