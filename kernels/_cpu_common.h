/* What the compiled CPU kernels share (kernels/_fused_cpu.c, kernels/_denoise_cpu.c and, through it,
 * kernels/_yuv_cpu.c): headers, export / inline / ISA-dispatch macros, the uint8 rounding, the map
 * clamp, the align_corners=True resampling taps and the AVX2 test.  Each kernel is its own shared
 * library, so these are `static`: one copy of the code here, one compiled copy per library. */

#ifndef LOWLIGHT_CPU_COMMON_H
#define LOWLIGHT_CPU_COMMON_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define LL_X86 1
#endif

#if defined(_WIN32)
#define LL_EXPORT __declspec(dllexport)
#else
#define LL_EXPORT __attribute__((visibility("default")))
#endif

/* Runtime ISA dispatch (x86 with GCC/Clang): hot functions are compiled twice,
 * for AVX2+FMA and for the baseline ISA, and the CPU's features pick one at
 * run time.  (target_clones("arch=haswell") is not used: its resolver tests
 * the CPU model, so AMD CPUs would get the baseline.) */
#if (defined(__GNUC__) || defined(__clang__)) && defined(LL_X86)
#define LL_DISPATCH 1
#define LL_AVX2 __attribute__((target("avx2,fma")))
#endif

#if defined(__GNUC__)
#define LL_INLINE static inline __attribute__((always_inline))
#else
#define LL_INLINE static inline
#endif

/* floor(clamp(x * 255 + 0.5, 0, 255)) as uint8, for x produced by the curve.
 * Maps are clamped to [-1, 1] before use, so the curve keeps x in [0, 1] up to
 * float rounding (|error| < 1e-4 after 8 steps) and y = x * 255 + 0.5 lies in
 * (-1, 256): truncation equals floor after the integer clamp.  Clamping in
 * integers compiles to vpmaxsd/vpminsd; float selects here made GCC emit long
 * mask/blend sequences. */
LL_INLINE uint8_t to_u8(float x) {
    int32_t i = (int32_t)(x * 255.0f + 0.5f);
    i = i < 0 ? 0 : i;
    i = i > 255 ? 255 : i;
    return (uint8_t)i;
}

/* A curve map value clamped to its documented range [-1, 1]. */
LL_INLINE float clamp1(float v) { return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v); }

/* 1 when this CPU (and OS) run the AVX2+FMA versions. */
static int use_avx2(void) {
#ifdef LL_DISPATCH
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* Source position of output index `o` for align_corners=True resampling of
 * `in_size` samples to `out_size`: taps i0, i1 and weight f of i1. */
static void taps(int o, int in_size, int out_size, int32_t *i0, int32_t *i1, float *f) {
    double scale = out_size > 1 ? (double)(in_size - 1) / (double)(out_size - 1) : 0.0;
    double src = scale * (double)o;
    int a = (int)src;
    if (a > in_size - 1) a = in_size - 1;
    int b = a + 1 < in_size ? a + 1 : in_size - 1;
    float w = (float)(src - (double)a);
    if (b == a) w = 0.0f;
    *i0 = a;
    *i1 = b;
    *f = w;
}

#endif /* LOWLIGHT_CPU_COMMON_H */
