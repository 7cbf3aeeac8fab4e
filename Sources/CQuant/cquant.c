// Stored-type weight kernels (see include/cquant.h). The kernels in dequant_kernels.h are compiled
// twice, plain and for AVX2/FMA/F16C, and chosen once at run time by what the processor has.
#include "cquant.h"
#include "fused.h"
#include <string.h>

// Exact dequantisation needs ggml's separate multiply and add; products that only sum
// (the dot products) turn contraction back on locally.
#pragma clang fp contract(off)

static inline float half_to_float_soft(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1F, mant = h & 0x3FF, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else { // subnormal: normalise
            int e = -1;
            do { mant <<= 1; e++; } while (!(mant & 0x400));
            bits = sign | (uint32_t)(127 - 15 - e) << 23 | (mant & 0x3FF) << 13;
        }
    } else if (exp == 31) bits = sign | 0x7F800000u | mant << 13;
    else bits = sign | (exp + 112) << 23 | mant << 13;
    float f; memcpy(&f, &bits, 4);
    return f;
}

float lnq_half_to_float(uint16_t h) { return half_to_float_soft(h); }

#define ATTR
#define SUFFIX _ref
#define HALF_TO_FLOAT(h) half_to_float_soft(h)
#include "dequant_kernels.h"
#undef ATTR
#undef SUFFIX
#undef HALF_TO_FLOAT

// The kernel level in use, at most the processor's: 0 plain C, 1 AVX2, 2 AVX-512 (fused
// products); tests lower it to check every level.
static int level_cap = 2;

#if defined(__x86_64__)
#include <immintrin.h>
// Hand-vectorised dequantisers for the 4-bit legacy formats (the compiler does not vectorise the
// nibble split well); same values as the plain loops: (float)(q - 8) * d and (float)q * d + m.
__attribute__((target("avx2,fma,f16c")))
static void dq_q4_x_avx2(const uint8_t *restrict x, float *restrict y, int64_t blocks, int with_min) {
    const int64_t bb = with_min ? 20 : 18;
    const __m128i mask = _mm_set1_epi8(0x0F);
    const __m256i eight = _mm256_set1_epi32(8);
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * bb;
        uint16_t hd; memcpy(&hd, blk, 2);
        const __m256 d = _mm256_set1_ps(_cvtsh_ss(hd));
        __m256 m = _mm256_setzero_ps();
        if (with_min) { uint16_t hm; memcpy(&hm, blk + 2, 2); m = _mm256_set1_ps(_cvtsh_ss(hm)); }
        const __m128i q = _mm_loadu_si128((const __m128i *)(blk + (with_min ? 4 : 2)));
        const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
        __m256i v[4] = { _mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)),
                         _mm256_cvtepu8_epi32(hi), _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)) };
        float *o = y + b * 32;
        for (int i = 0; i < 4; i++) {
            if (with_min) {
                // q * d, then + m: two roundings, as ggml (no FMA)
                _mm256_storeu_ps(o + 8 * i, _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v[i]), d), m));
            } else {
                _mm256_storeu_ps(o + 8 * i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(v[i], eight)), d));
            }
        }
    }
}

#define ATTR __attribute__((target("avx2,fma,f16c")))
#define SUFFIX _avx2
#define LNQ_AVX2_Q4 1
#define HALF_TO_FLOAT(h) _cvtsh_ss(h)
#include "dequant_kernels.h"
#undef ATTR
#undef SUFFIX
#undef HALF_TO_FLOAT
static int detected_level(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
        const int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("bmi2");
        cached = avx512 ? 2 : (avx2 ? 1 : 0);
    }
    return cached;
}
static int level(void) { const int d = detected_level(); return d < level_cap ? d : level_cap; }
static int has_avx2(void) { return level() >= 1; }
#else
static int level(void) { return 0; }
static int detected_level(void) { return 0; }
static int has_avx2(void) { return 0; }
#endif

int lnq_vectorized(void) { return has_avx2(); }

int lnq_kernel_level(void) { return level(); }

int lnq_available_level(void) { return detected_level(); }

void lnq_set_kernel_level(int cap) { level_cap = cap < 0 ? 0 : (cap > 2 ? 2 : cap); }

void lnq_set_reference_only(int on) { lnq_set_kernel_level(on ? 0 : 2); }

void lnq_block_layout(uint32_t type, int64_t *elements, int64_t *bytes) {
    int64_t e = 0, b = 0;
    switch (type) {
    case 0: e = 1; b = 4; break;
    case 1: case 30: e = 1; b = 2; break;
    case 2: e = 32; b = 18; break;
    case 3: e = 32; b = 20; break;
    case 6: e = 32; b = 22; break;
    case 7: e = 32; b = 24; break;
    case 8: e = 32; b = 34; break;
    case 10: e = 256; b = 84; break;
    case 11: e = 256; b = 110; break;
    case 12: e = 256; b = 144; break;
    case 13: e = 256; b = 176; break;
    case 14: e = 256; b = 210; break;
    default: break;
    }
    *elements = e; *bytes = b;
}

int lnq_supported(uint32_t type) {
    int64_t e, b;
    lnq_block_layout(type, &e, &b);
    return e > 0;
}

void lnq_dequantize(uint32_t type, const void *src, float *dst, int64_t n) {
#if defined(__x86_64__)
    if (level() >= 2 && lnq_dequant512_has(type)) { lnq_dequant_avx512(type, (const uint8_t *)src, dst, n); return; }
    if (has_avx2()) { dequant_any_avx2(type, (const uint8_t *)src, dst, n); return; }
#endif
    dequant_any_ref(type, (const uint8_t *)src, dst, n);
}

void lnq_gemv(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
              const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    int64_t e, b;
    lnq_block_layout(type, &e, &b);
    if (e == 0 || m < 1 || m > LNQ_MAX_ROWS) return;
#if defined(__x86_64__)
    if (level() >= 2 && lnq_fused512_has(type)) { lnq_gemv_avx512(type, (const uint8_t *)w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate); return; }
    if (has_avx2() && lnq_fused2_has(type)) { lnq_gemv_avx2_fused(type, (const uint8_t *)w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate); return; }
    if (has_avx2()) { gemv_avx2(type, (const uint8_t *)w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate, e, b); return; }
#endif
    gemv_ref(type, (const uint8_t *)w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate, e, b);
}

void lnq_gemv_t(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                const float *dy, int64_t lddy, int m, float *dx, int64_t lddx) {
    int64_t e, b;
    lnq_block_layout(type, &e, &b);
    if (e == 0 || m < 1) return;
#if defined(__x86_64__)
    if (has_avx2()) { gemv_t_avx2(type, (const uint8_t *)w, row_bytes, k, j0, j1, dy, lddy, m, dx, lddx, e, b); return; }
#endif
    gemv_t_ref(type, (const uint8_t *)w, row_bytes, k, j0, j1, dy, lddy, m, dx, lddx, e, b);
}
