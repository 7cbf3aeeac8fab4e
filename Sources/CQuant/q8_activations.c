// Opt-in one-row products with int8 activations: llama.cpp's arithmetic for decoding, not exact.
//
// Each block of 32 x values is rounded to int8 codes with one scale (d = max|x| / 127, codes
// round-to-nearest-even of x / d, as ggml's quantize_row_q8_0 does); the integer dot product of a
// block's codes with the weight block's codes is exact (AVX-512 VNNI vpdpbusd, 4 products per
// 32-bit lane), and only then scaled by the two blocks' scales. Against lnq_gemv this rounds x to
// 8 bits, so it changes the numbers (by up to Σ|w|·d/2 per block); callers use it only when asked
// (`generate --int8-activations`), never for scoring, training or detection.
//
// Q4_0 codes are 0..15 meaning q − 8: vpdpbusd takes them as the unsigned operand, and the −8·Σx
// part is folded in by starting each lane at −8 × the sum of its 4 x codes (precomputed once per
// x in the scratch). Q8_0 codes are signed: |w| is the unsigned operand and x takes w's sign.
#include "cquant.h"
#include "fused.h"
#include <math.h>
#include <string.h>

// Scratch for k elements: codes (k bytes), block scales (k/32 floats), Q4_0 lane starts (k/4 int32).
int64_t lnq_q8_scratch_bytes(int64_t k) { return k + 4 * (k / 32) + 4 * (k / 4); }

static inline float *q8_scales(void *xq, int64_t k) { return (float *)((uint8_t *)xq + k); }
static inline int32_t *q8_starts(void *xq, int64_t k) { return (int32_t *)((uint8_t *)xq + k + 4 * (k / 32)); }

static inline float half_to_float(const uint8_t *p) { return lnq_half_to_float((uint16_t)(p[0] | (p[1] << 8))); }

// Plain C: what the vector code computes, in the same blocks (tests compare the two).
static void quantize_plain(const float *x, int64_t k, void *xq) {
    int8_t *q = (int8_t *)xq;
    float *d = q8_scales(xq, k);
    int32_t *s = q8_starts(xq, k);
    for (int64_t b = 0; b < k / 32; b++) {
        float amax = 0;
        for (int i = 0; i < 32; i++) { const float a = fabsf(x[32 * b + i]); if (a > amax) amax = a; }
        const float db = amax / 127, id = db != 0 ? 1.0f / db : 0.0f;
        d[b] = db;
        for (int i = 0; i < 32; i++) {
            float v = nearbyintf(x[32 * b + i] * id);
            if (v > 127) v = 127; else if (v < -127) v = -127;
            q[32 * b + i] = (int8_t)v;
        }
        for (int l = 0; l < 8; l++) {
            int t = 0;
            for (int i = 0; i < 4; i++) t += q[32 * b + 4 * l + i];
            s[8 * b + l] = -8 * t;
        }
    }
}

// One row: Σ_b d_w·d_x·Σ_i code_w·code_x (integer sums exact; each block's scaled sum added in
// block order, in lanes of 4 codes like the vector code so the two agree to float rounding).
static float row_plain(uint32_t type, const uint8_t *r, const void *xq, int64_t k) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int32_t *s = q8_starts((void *)xq, k);
    float lanes[8] = {0};
    for (int64_t b = 0; b < k / 32; b++) {
        const float scale = half_to_float(type == 2 ? r + 18 * b : r + 34 * b) * d[b];
        for (int l = 0; l < 8; l++) {
            int32_t t = 0;
            for (int i = 4 * l; i < 4 * l + 4; i++) {
                int w;
                if (type == 2) { const uint8_t byte = r[18 * b + 2 + (i & 15)]; w = i < 16 ? (byte & 15) : (byte >> 4); }
                else w = (int8_t)r[34 * b + 2 + i];
                t += w * q[32 * b + i];
            }
            if (type == 2) t += s[8 * b + l];
            lanes[l] += (float)t * scale;
        }
    }
    float y = 0;
    for (int l = 0; l < 8; l++) y += lanes[l];
    return y;
}

void lnq_gemv_q8_reference(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                           const void *xq, float *y, int accumulate) {
    for (int64_t j = j0; j < j1; j++) {
        const float v = row_plain(type, (const uint8_t *)w + j * row_bytes, xq, k);
        y[j] = accumulate ? y[j] + v : v;
    }
}

void lnq_quantize_q8_reference(const float *x, int64_t k, void *xq) { quantize_plain(x, k, xq); }

#if defined(__x86_64__)
#include <immintrin.h>
#define TV __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

static int vnni_available(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
    }
    return cached;
}

TV static void quantize_vnni(const float *x, int64_t k, void *xq) {
    int8_t *q = (int8_t *)xq;
    float *d = q8_scales(xq, k);
    int32_t *s = q8_starts(xq, k);
    for (int64_t b = 0; b < k / 32; b++) {
        const __m512 a = _mm512_loadu_ps(x + 32 * b), c = _mm512_loadu_ps(x + 32 * b + 16);
        const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(c)));
        const float db = amax / 127, id = db != 0 ? 1.0f / db : 0.0f;
        d[b] = db;
        const __m512 vid = _mm512_set1_ps(id), lim = _mm512_set1_ps(127);
        // Round to nearest even (the default MXCSR mode, as nearbyintf), then clamp like the plain code.
        const __m512 ra = _mm512_max_ps(_mm512_min_ps(_mm512_roundscale_ps(_mm512_mul_ps(a, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lim), _mm512_set1_ps(-127));
        const __m512 rc = _mm512_max_ps(_mm512_min_ps(_mm512_roundscale_ps(_mm512_mul_ps(c, vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lim), _mm512_set1_ps(-127));
        const __m128i qa = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(ra)), qc = _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(rc));
        const __m256i codes = _mm256_inserti128_si256(_mm256_castsi128_si256(qa), qc, 1);
        _mm256_storeu_si256((__m256i *)(q + 32 * b), codes);
        const __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), codes);
        _mm256_storeu_si256((__m256i *)(s + 8 * b), _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(sums, 3)));
    }
}

TV static inline __m256i q4_codes(const uint8_t *qs) { // elements 0..15 from the low nibbles, 16..31 from the high
    const __m128i v = _mm_loadu_si128((const __m128i *)qs);
    return _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1), _mm256_set1_epi8(15));
}

TV static inline float hsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

TV static inline float f16(const uint8_t *p) { uint16_t h; memcpy(&h, p, 2); return _cvtsh_ss(h); }

// |w| as the unsigned operand, x negated where w is negative.
TV static inline __m256i q8_lane_sums(const uint8_t *codes, __m256i x) {
    const __m256i wv = _mm256_loadu_si256((const __m256i *)codes);
    const __m256i xs = _mm256_mask_sub_epi8(x, _mm256_movepi8_mask(wv), _mm256_setzero_si256(), x);
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(wv), xs);
}

// Q4_0: codes as the unsigned operand, each lane starting at −8 × the sum of its x codes.
TV static inline __m256i q4_lane_sums(const uint8_t *codes, __m256i x, __m256i start) {
    return _mm256_dpbusd_epi32(start, q4_codes(codes), x);
}

// One kernel per type: four rows share each block's x codes, lane starts and scale, then the tail
// one row at a time. BLOCK is the type's bytes per block of 32 (scale first, then codes).
#define DEFINE_Q8GEMV(NAME, BLOCK, LANES)                                                                    \
TV static void NAME(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const void *xq, \
                    float *y, int accumulate) {                                                             \
    const int8_t *q = (const int8_t *)xq;                                                                   \
    const float *d = q8_scales((void *)xq, k);                                                              \
    const int32_t *s = q8_starts((void *)xq, k);                                                            \
    const int64_t nb = k / 32;                                                                              \
    int64_t j = j0;                                                                                         \
    for (; j + 4 <= j1; j += 4) {                                                                           \
        __m256 a[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()}; \
        const uint8_t *r = w + j * row_bytes;                                                               \
        for (int64_t b = 0; b < nb; b++) {                                                                  \
            const __m256i x = _mm256_loadu_si256((const __m256i *)(q + 32 * b));                            \
            const __m256i st = _mm256_loadu_si256((const __m256i *)(s + 8 * b));                            \
            (void)st;                                                                                       \
            /* The four rows are read side by side, which the hardware prefetchers follow poorly  \
               (Q4_0: 7.4 GB/s streamed against 20 in cache, 14-17 with this): walk the group     \
               after next front to back, as many bytes per step as this step reads. */            \
            for (int o = 0; o < 4 * BLOCK; o += 64)                                                         \
                _mm_prefetch((const char *)r + 8 * row_bytes + 4 * BLOCK * b + o, _MM_HINT_T0);             \
            for (int t = 0; t < 4; t++) {                                                                   \
                const uint8_t *blk = r + t * row_bytes + BLOCK * b;                                         \
                a[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(LANES), _mm256_set1_ps(f16(blk) * d[b]), a[t]);   \
            }                                                                                               \
        }                                                                                                   \
        for (int t = 0; t < 4; t++) { const float v = hsum8(a[t]); y[j + t] = accumulate ? y[j + t] + v : v; } \
    }                                                                                                       \
    for (; j < j1; j++) {                                                                                   \
        __m256 a = _mm256_setzero_ps();                                                                     \
        for (int64_t b = 0; b < nb; b++) {                                                                  \
            const __m256i x = _mm256_loadu_si256((const __m256i *)(q + 32 * b));                            \
            const __m256i st = _mm256_loadu_si256((const __m256i *)(s + 8 * b));                            \
            (void)st;                                                                                       \
            const uint8_t *blk = w + j * row_bytes + BLOCK * b;                                             \
            a = _mm256_fmadd_ps(_mm256_cvtepi32_ps(LANES), _mm256_set1_ps(f16(blk) * d[b]), a);             \
        }                                                                                                   \
        const float v = hsum8(a);                                                                           \
        y[j] = accumulate ? y[j] + v : v;                                                                   \
    }                                                                                                       \
}

DEFINE_Q8GEMV(gemv_q4_0, 18, q4_lane_sums(blk + 2, x, st))
DEFINE_Q8GEMV(gemv_q8_0, 34, q8_lane_sums(blk + 2, x))
#else
static int vnni_available(void) { return 0; }
#endif

int lnq_q8_supported(uint32_t type) { return (type == 2 || type == 8) && vnni_available(); }

void lnq_quantize_q8(const float *x, int64_t k, void *xq) {
#if defined(__x86_64__)
    if (vnni_available()) { quantize_vnni(x, k, xq); return; }
#endif
    quantize_plain(x, k, xq);
}

void lnq_gemv_q8(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                 const void *xq, float *y, int accumulate) {
#if defined(__x86_64__)
    if (vnni_available()) {
        if (type == 2) { gemv_q4_0((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
        if (type == 8) { gemv_q8_0((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
    }
#endif
    lnq_gemv_q8_reference(type, w, row_bytes, k, j0, j1, xq, y, accumulate);
}
