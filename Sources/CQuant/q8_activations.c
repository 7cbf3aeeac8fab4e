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
// part is precomputed once per x in the scratch (per lane of the four-row kernel, per block of the
// one-row one). Q8_0 codes are signed: |w| is the unsigned operand and x takes w's sign.
//
// Two kernels per type: with AVX-512 VBMI, one row at a time (Q4_0 in groups of eight blocks,
// Q8_0 of four), with x laid out for it (8 codes per lane); otherwise four rows side by side with
// x in its natural order (4 codes per lane). Q4_K has one kernel, one row at a time (its own x
// layout, below).
// lnq_quantize_q8 takes the weight type to pick the layout.
#include "cquant.h"
#include "fused.h"
#include <math.h>
#include <string.h>

// Scratch for k elements: codes (k bytes), block scales (k/32 floats), Q4_0 lane starts (k/4 int32).
int64_t lnq_q8_scratch_bytes(int64_t k) { return k + 4 * (k / 32) + 4 * (k / 4); }

static inline float *q8_scales(void *xq, int64_t k) { return (float *)((uint8_t *)xq + k); }
static inline int32_t *q8_starts(void *xq, int64_t k) { return (int32_t *)((uint8_t *)xq + k + 4 * (k / 32)); }

static int use_one_row(uint32_t type);

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

// The sums of _mm512_reduce_add_ps and of hsum8, in their order (halves, then quarters, …), so
// that the plain mirrors below add their lanes as the vector kernels do.
static float sum16_tree(const float v[16]) {
    float h[8];
    for (int l = 0; l < 8; l++) h[l] = v[l] + v[l + 8];
    for (int l = 0; l < 4; l++) h[l] = h[l] + h[l + 4];
    for (int l = 0; l < 2; l++) h[l] = h[l] + h[l + 2];
    return h[0] + h[1];
}

static float sum8_tree(const float v[8]) {
    float h[4];
    for (int l = 0; l < 4; l++) h[l] = v[l] + v[l + 4];
    for (int l = 0; l < 2; l++) h[l] = h[l] + h[l + 2];
    return h[0] + h[1];
}

// The x layout of gemv_q4_0_vbmi, made from the natural one in place: in each group of eight
// blocks, each four blocks' codes become their elements 0-15 (block after block), then their
// elements 16-31, and Q4_0's offset becomes one float per block, −8 × the sum of its codes, in the
// first 8 of the group's 64 start slots (read once per 8 blocks, where per-lane starts cost 256
// bytes of x per 144 weight bytes). Blocks after the last group of eight (Q8_0: of four) stay as
// they are.
static void quads_from_natural(uint32_t type, void *xq, int64_t k) {
    int8_t *q = (int8_t *)xq;
    int32_t *s = q8_starts(xq, k);
    for (int64_t b = 0; type == 2 && b < k / 32 / 8 * 8; b++) { // from the natural order, before it changes
        int sum = 0;
        for (int i = 0; i < 32; i++) sum += q[32 * b + i];
        ((float *)(s + 64 * (b / 8)))[b % 8] = (float)(-8 * sum);
    }
    // Q8_0 goes four blocks at a time to the end (short rows: fewer blocks one at a time).
    const int64_t quads = type == 8 ? k / 32 / 4 : k / 32 / 8 * 2;
    for (int64_t f = 0; f < quads; f++) {
        int8_t *c = q + 128 * f, t[128];
        for (int i = 0; i < 4; i++)
            for (int e = 0; e < 16; e++) { t[16 * i + e] = c[32 * i + e]; t[64 + 16 * i + e] = c[32 * i + 16 + e]; }
        memcpy(c, t, 128);
    }
}

// One Q4_0 row over the layout above, in the lanes of gemv_q4_0_vbmi: the integer sums exact,
// the fused multiply-adds, the tail and the reduction tree as there.
static float row_plain_q4_quads(const uint8_t *r, const void *xq, int64_t k) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int32_t *s = q8_starts((void *)xq, k);
    const int64_t nb = k / 32, groups = nb / 8;
    float acc[2][16] = {{0}}, tail[8] = {0}, corr[8] = {0};
    for (int64_t b = 0; b < 8 * groups; b++) {
        const float scale = half_to_float(r + 18 * b) * d[b];
        corr[b % 8] = fmaf(scale, ((const float *)(s + 64 * (b / 8)))[b % 8], corr[b % 8]);
    }
    for (int64_t f = 0; f < 2 * groups; f++) {
        for (int l = 0; l < 16; l++) {
            const int64_t b = 4 * f + l / 4;
            const uint8_t *codes = r + 18 * b + 2;
            int32_t t = 0;
            for (int e = 0; e < 4; e++) {
                const int i = 4 * (l % 4) + e; // code byte: element i (low nibble) and 16 + i (high)
                t += (codes[i] & 15) * q[128 * f + 4 * l + e] + (codes[i] >> 4) * q[128 * f + 64 + 4 * l + e];
            }
            const float scale = half_to_float(r + 18 * b) * d[b];
            acc[f % 2][l] = fmaf((float)t, scale, acc[f % 2][l]);
        }
    }
    for (int64_t b = 8 * groups; b < nb; b++) {
        const float scale = half_to_float(r + 18 * b) * d[b];
        for (int l = 0; l < 8; l++) {
            int32_t t = s[8 * b + l];
            for (int i = 4 * l; i < 4 * l + 4; i++) {
                const uint8_t byte = r[18 * b + 2 + (i & 15)];
                t += (i < 16 ? (byte & 15) : (byte >> 4)) * q[32 * b + i];
            }
            tail[l] = fmaf((float)t, scale, tail[l]);
        }
    }
    float h[16];
    for (int l = 0; l < 16; l++) h[l] = acc[0][l] + acc[1][l];
    return (sum16_tree(h) + sum8_tree(tail)) + sum8_tree(corr);
}

// One Q8_0 row over the same layout, in the lanes of gemv_q8_0_vbmi (each four blocks' 16 lanes
// start at 0; Q8_0 has no offset).
static float row_plain_q8_quads(const uint8_t *r, const void *xq, int64_t k) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int64_t nb = k / 32, quads = nb / 4;
    float acc[2][16] = {{0}}, tail[8] = {0};
    for (int64_t f = 0; f < quads; f++) {
        for (int l = 0; l < 16; l++) {
            const int64_t b = 4 * f + l / 4;
            const int8_t *codes = (const int8_t *)(r + 34 * b + 2);
            int32_t t = 0;
            for (int e = 0; e < 4; e++) {
                const int i = 4 * (l % 4) + e;
                t += codes[i] * q[128 * f + 4 * l + e] + codes[16 + i] * q[128 * f + 64 + 4 * l + e];
            }
            const float scale = half_to_float(r + 34 * b) * d[b];
            acc[f % 2][l] = fmaf((float)t, scale, acc[f % 2][l]);
        }
    }
    for (int64_t b = 4 * quads; b < nb; b++) {
        const float scale = half_to_float(r + 34 * b) * d[b];
        for (int l = 0; l < 8; l++) {
            int32_t t = 0;
            for (int i = 4 * l; i < 4 * l + 4; i++) t += (int8_t)r[34 * b + 2 + i] * q[32 * b + i];
            tail[l] = fmaf((float)t, scale, tail[l]);
        }
    }
    float h[16];
    for (int l = 0; l < 16; l++) h[l] = acc[0][l] + acc[1][l];
    return sum16_tree(h) + sum8_tree(tail);
}

// Q4_K (super-blocks of 256: f16 d and dmin, twelve bytes of 6-bit scales and mins of its eight
// sub-blocks of 32, 128 bytes of codes; sub-block 2i in the low nibbles of code bytes 32i..32i+31,
// 2i+1 in their high nibbles; element = d·sc·q − dmin·m, as ggml's dequantize_row_q4_K): x's eight
// blocks of 32 per super-block are stored in the order 0, 2, 1, 3, 4, 6, 5, 7, so that each 64 code
// bytes meet 64 contiguous x codes, and each block's d_x·Σ codes goes, as a float, into the first 8
// of the super-block's 64 start slots (for the dmin·m part).
static void k_from_natural(void *xq, int64_t k) {
    int8_t *q = (int8_t *)xq;
    const float *d = q8_scales(xq, k);
    int32_t *s = q8_starts(xq, k);
    for (int64_t g = 0; g < k / 256; g++) {
        float sums[8];
        for (int b = 0; b < 8; b++) {
            int sum = 0;
            for (int i = 0; i < 32; i++) sum += q[256 * g + 32 * b + i];
            sums[b] = d[8 * g + b] * (float)sum;
        }
        memcpy((float *)(s + 64 * g), sums, sizeof sums);
        int8_t t[32];
        for (int pair = 1; pair < 8; pair += 4) { // swap blocks 1 and 2, 5 and 6
            int8_t *a = q + 256 * g + 32 * pair, *b = a + 32;
            memcpy(t, a, 32); memcpy(a, b, 32); memcpy(b, t, 32);
        }
    }
}

// ggml's get_scale_min_k4 for all eight sub-blocks at once: four bytes at a time.
static inline void q4_K_scales(const uint8_t *p, uint8_t sc[8], uint8_t m[8]) {
    uint32_t u0, u1, u2;
    memcpy(&u0, p, 4); memcpy(&u1, p + 4, 4); memcpy(&u2, p + 8, 4);
    const uint32_t sl = u0 & 0x3F3F3F3Fu, ml = u1 & 0x3F3F3F3Fu;
    const uint32_t sh = (u2 & 0x0F0F0F0Fu) | ((u0 >> 2) & 0x30303030u), mh = ((u2 >> 4) & 0x0F0F0F0Fu) | ((u1 >> 2) & 0x30303030u);
    memcpy(sc, &sl, 4); memcpy(sc + 4, &sh, 4); memcpy(m, &ml, 4); memcpy(m + 4, &mh, 4);
}

// Which sub-block each of the 16 lanes of the four dot products of a super-block holds.
static const int q4_K_lane_block[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};

// One Q4_K row over that layout, in the lanes of gemv_q4_K: per super-block, dot product t covers
// code bytes 64(t/2)… (low nibbles for even t, high for odd) against x codes 64t…; its lanes 0-7
// are one sub-block, 8-15 the other; the fused multiply-adds and the reduction tree as there.
static float row_plain_q4_K(const uint8_t *r, const void *xq, int64_t k) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int32_t *s = q8_starts((void *)xq, k);
    float acc[4][16] = {{0}}, corr[8] = {0};
    for (int64_t g = 0; g < k / 256; g++) {
        const uint8_t *p = r + 144 * g;
        uint8_t sc[8], m[8];
        q4_K_scales(p + 4, sc, m);
        const float dd = half_to_float(p), dm = half_to_float(p + 2);
        float a[8];
        for (int b = 0; b < 8; b++) {
            a[b] = ((float)sc[b] * dd) * d[8 * g + b];
            corr[b] = fmaf(-(dm * (float)m[b]), ((const float *)(s + 64 * g))[b], corr[b]);
        }
        for (int t = 0; t < 4; t++)
            for (int l = 0; l < 16; l++) {
                int32_t sum = 0;
                for (int e = 0; e < 4; e++) {
                    const uint8_t byte = p[16 + 64 * (t / 2) + 4 * l + e];
                    sum += (t % 2 ? byte >> 4 : byte & 15) * q[256 * g + 64 * t + 4 * l + e];
                }
                acc[t][l] = fmaf((float)sum, a[q4_K_lane_block[t][l / 8]], acc[t][l]);
            }
    }
    float h[16];
    for (int l = 0; l < 16; l++) h[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
    return sum16_tree(h) + sum8_tree(corr);
}

// Whether Q4_0 and Q8_0 go through the one-row kernels (AVX-512 VBMI); tests turn them off to check the others.
static int one_row_enabled = 1;
static int vbmi_available(void);
static int use_one_row(uint32_t type) { return (type == 2 || type == 8) && one_row_enabled && vbmi_available(); }
void lnq_q8_allow_vbmi(int allow) { one_row_enabled = allow != 0; }
int lnq_q8_uses_vbmi(void) { return use_one_row(2); }

void lnq_gemv_q8_reference(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                           const void *xq, float *y, int accumulate) {
    const int one_row = use_one_row(type);
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *r = (const uint8_t *)w + j * row_bytes;
        const float v = type == 12 ? row_plain_q4_K(r, xq, k)
                      : !one_row ? row_plain(type, r, xq, k) : type == 2 ? row_plain_q4_quads(r, xq, k) : row_plain_q8_quads(r, xq, k);
        y[j] = accumulate ? y[j] + v : v;
    }
}

void lnq_quantize_q8_reference(uint32_t type, const float *x, int64_t k, void *xq) {
    quantize_plain(x, k, xq);
    if (type == 12) k_from_natural(xq, k);
    else if (use_one_row(type)) quads_from_natural(type, xq, k);
}

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
               after next front to back, as many bytes per step as this step reads, into L2 (see  \
               AHEAD in fused.h; 25-26 against 22-23 GB/s on two threads). */                      \
            for (int o = 0; o < 4 * BLOCK; o += 64)                                                         \
                _mm_prefetch((const char *)r + 8 * row_bytes + 4 * BLOCK * b + o, _MM_HINT_T1);             \
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

#define TVB __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx2,fma,f16c")))

static int vbmi_available(void) {
    static int cached = -1;
    if (cached < 0) { __builtin_cpu_init(); cached = vnni_available() && __builtin_cpu_supports("avx512vbmi"); }
    return cached;
}

// Byte offsets, in a group of eight Q4_0 blocks (18 bytes each: f16 scale, 16 code bytes), of
// the code bytes of blocks 0-3 and of the eight scales.
static const uint8_t q4_quad_offsets[64] = {
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
    38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70, 71};
static const uint8_t q4_scale_offsets[16] = {0, 1, 18, 19, 36, 37, 54, 55, 72, 73, 90, 91, 108, 109, 126, 127};

// Q4_0 one row at a time, so that each thread reads one forward stream (the four-row kernel
// reads four side by side, which the prefetchers follow worse). Eight blocks (144 bytes) arrive
// in three loads; byte permutes pick out their eight scales at once and the 64 code bytes of
// each four blocks. Those bytes' low nibbles, then their high nibbles, go through two integer
// dot products into the same 16 lanes (4 per block, 8 codes each; x is laid out to match, see
// quads_from_natural), so that one conversion and one multiply-add cover four blocks. Blocks
// after the last group of eight go one at a time into a 256-bit accumulator.
// row_plain_q4_quads mirrors this, lane for lane.
TVB static void gemv_q4_0_vbmi(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const void *xq,
                              float *y, int accumulate) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int32_t *s = q8_starts((void *)xq, k);
    const int64_t nb = k / 32, groups = nb / 8;
    const __m512i pick0 = _mm512_loadu_si512(q4_quad_offsets);
    const __m512i pick1 = _mm512_add_epi8(pick0, _mm512_set1_epi8(72 - 64)); // blocks 4-7, from bytes 64-191
    const __m512i scale_pick = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)q4_scale_offsets));
    const __m512i spread0 = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m512i spread1 = _mm512_add_epi32(spread0, _mm512_set1_epi32(4));
    const __m512i low4 = _mm512_set1_epi8(15);
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *r = w + j * row_bytes;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        __m256 corr = _mm256_setzero_ps();
        for (int64_t g = 0; g < groups; g++) {
            const uint8_t *p = r + 144 * g;
            AHEAD(p, 144);
            const __m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 64);
            const __m512i z2 = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)(p + 128)));
            const __m128i halves = _mm512_castsi512_si128(_mm512_permutex2var_epi8(z0, scale_pick, z1));
            const __m256 sc8 = _mm256_mul_ps(_mm256_cvtph_ps(halves), _mm256_loadu_ps(d + 8 * g));
            const __m512 sc = _mm512_castps256_ps512(sc8);
            corr = _mm256_fmadd_ps(sc8, _mm256_loadu_ps((const float *)(s + 64 * g)), corr); // the −8 offsets
            const int8_t *x = q + 256 * g;
            const __m512i c0 = _mm512_permutex2var_epi8(z0, pick0, z1), c1 = _mm512_permutex2var_epi8(z1, pick1, z2);
            __m512i i0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(c0, low4), _mm512_loadu_si512(x));
            i0 = _mm512_dpbusd_epi32(i0, _mm512_and_si512(_mm512_srli_epi16(c0, 4), low4), _mm512_loadu_si512(x + 64));
            __m512i i1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(c1, low4), _mm512_loadu_si512(x + 128));
            i1 = _mm512_dpbusd_epi32(i1, _mm512_and_si512(_mm512_srli_epi16(c1, 4), low4), _mm512_loadu_si512(x + 192));
            acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i0), _mm512_permutexvar_ps(spread0, sc), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(i1), _mm512_permutexvar_ps(spread1, sc), acc1);
        }
        __m256 tail = _mm256_setzero_ps();
        for (int64_t b = 8 * groups; b < nb; b++) {
            const uint8_t *blk = r + 18 * b;
            const __m256i x = _mm256_loadu_si256((const __m256i *)(q + 32 * b));
            const __m256i st = _mm256_loadu_si256((const __m256i *)(s + 8 * b));
            tail = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q4_lane_sums(blk + 2, x, st)), _mm256_set1_ps(f16(blk) * d[b]), tail);
        }
        const float v = (_mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + hsum8(tail)) + hsum8(corr);
        y[j] = accumulate ? y[j] + v : v;
    }
}

DEFINE_Q8GEMV(gemv_q8_0, 34, q8_lane_sums(blk + 2, x))

// Byte offsets of the first (or, from 16 bytes on, the second) 16 codes of four Q8_0 blocks (34
// bytes each), and of their four scales.
static const uint8_t q8_quad_offsets[64] = {
    2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
    70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119};
static const uint8_t q8_scale_offsets[16] = {0, 1, 34, 35, 68, 69, 102, 103};

// The signed codes against signed x: |w| as the unsigned operand, x taking w's sign.
TVB static inline __m512i q8_quad_dot(__m512i acc, __m512i w, __m512i x) {
    return _mm512_dpbusd_epi32(acc, _mm512_abs_epi8(w), _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x));
}

// Q8_0 one row at a time over the Q4_0 kernel's x layout (continued to every four blocks, so
// that short rows leave at most three blocks to the end): each four blocks (136 bytes) come in as
// four loads (the second 16 codes of each block from a view 16 bytes on), byte permutes gather
// their first and second 16 codes, and two dot products fill 16 lanes (4 per block, 8 codes each).
// row_plain_q8_quads mirrors it.
TVB static void gemv_q8_0_vbmi(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const void *xq,
                              float *y, int accumulate) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int64_t nb = k / 32, quads = nb / 4;
    const __m512i pick = _mm512_loadu_si512(q8_quad_offsets);
    const __m512i scale_pick = _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)q8_scale_offsets));
    const __m512i spread = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *r = w + j * row_bytes;
        __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
        for (int64_t f = 0; f < quads; f++) {
            const uint8_t *p = r + 136 * f;
            AHEAD(p, 136);
            const __m512i z0 = _mm512_loadu_si512(p), z1 = _mm512_loadu_si512(p + 64);
            // Bytes 16-135 of the four blocks (a masked load never reads past them).
            const __m512i u0 = _mm512_loadu_si512(p + 16), u1 = _mm512_maskz_loadu_epi8(0x00FFFFFFFFFFFFFFull, p + 80);
            const __m128i halves = _mm512_castsi512_si128(_mm512_permutex2var_epi8(z0, scale_pick, z1));
            const __m128 sc = _mm_mul_ps(_mm_cvtph_ps(halves), _mm_loadu_ps(d + 4 * f));
            const int8_t *x = q + 128 * f;
            __m512i t = q8_quad_dot(_mm512_setzero_si512(), _mm512_permutex2var_epi8(z0, pick, z1), _mm512_loadu_si512(x));
            t = q8_quad_dot(t, _mm512_permutex2var_epi8(u0, pick, u1), _mm512_loadu_si512(x + 64));
            acc[f % 2] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(t), _mm512_permutexvar_ps(spread, _mm512_castps128_ps512(sc)), acc[f % 2]);
        }
        __m256 tail = _mm256_setzero_ps();
        for (int64_t b = 4 * quads; b < nb; b++) {
            const uint8_t *blk = r + 34 * b;
            const __m256i x = _mm256_loadu_si256((const __m256i *)(q + 32 * b));
            tail = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q8_lane_sums(blk + 2, x)), _mm256_set1_ps(f16(blk) * d[b]), tail);
        }
        const float v = _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1])) + hsum8(tail);
        y[j] = accumulate ? y[j] + v : v;
    }
}

// Q4_K one row at a time: per super-block (144 bytes), the eight scales and mins unpacked four
// bytes at a time (q4_K_scales), each 64 code bytes' low and then high nibbles in one integer dot
// product each against 64 contiguous x codes (two sub-blocks per product, 8 lanes each), scaled
// by (d·sc)·d_x; the mins as one multiply-add of dmin·m with d_x·Σx per super-block.
// row_plain_q4_K mirrors it.
TV static void gemv_q4_K(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const void *xq,
                         float *y, int accumulate) {
    const int8_t *q = (const int8_t *)xq;
    const float *d = q8_scales((void *)xq, k);
    const int32_t *s = q8_starts((void *)xq, k);
    const int64_t groups = k / 256;
    const __m512i half1 = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i spread[4] = {_mm512_slli_epi32(half1, 1), _mm512_add_epi32(_mm512_slli_epi32(half1, 1), _mm512_set1_epi32(1)),
                               _mm512_add_epi32(_mm512_slli_epi32(half1, 1), _mm512_set1_epi32(4)),
                               _mm512_add_epi32(_mm512_slli_epi32(half1, 1), _mm512_set1_epi32(5))}; // {0,2} {1,3} {4,6} {5,7}
    const __m512i low4 = _mm512_set1_epi8(15);
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *r = w + j * row_bytes;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        __m256 corr = _mm256_setzero_ps();
        for (int64_t g = 0; g < groups; g++) {
            const uint8_t *p = r + 144 * g;
            AHEAD(p, 144);
            uint8_t scb[8], mb[8];
            q4_K_scales(p + 4, scb, mb);
            const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)scb)));
            const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)mb)));
            const __m256 a = _mm256_mul_ps(_mm256_mul_ps(sc, _mm256_set1_ps(f16(p))), _mm256_loadu_ps(d + 8 * g));
            corr = _mm256_fnmadd_ps(_mm256_mul_ps(_mm256_set1_ps(f16(p + 2)), mn), _mm256_loadu_ps((const float *)(s + 64 * g)), corr);
            const __m512 a16 = _mm512_castps256_ps512(a);
            const int8_t *x = q + 256 * g;
            for (int h = 0; h < 2; h++) {
                const __m512i z = _mm512_loadu_si512(p + 16 + 64 * h);
                const __m512i lo = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(z, low4), _mm512_loadu_si512(x + 128 * h));
                const __m512i hi = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(_mm512_srli_epi16(z, 4), low4),
                                                       _mm512_loadu_si512(x + 128 * h + 64));
                acc[2 * h] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(lo), _mm512_permutexvar_ps(spread[2 * h], a16), acc[2 * h]);
                acc[2 * h + 1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(hi), _mm512_permutexvar_ps(spread[2 * h + 1], a16), acc[2 * h + 1]);
            }
        }
        const float v = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]))) + hsum8(corr);
        y[j] = accumulate ? y[j] + v : v;
    }
}
#else
static int vnni_available(void) { return 0; }
static int vbmi_available(void) { return 0; }
#endif

int lnq_q8_supported(uint32_t type) { return (type == 2 || type == 8 || type == 12) && vnni_available(); }

void lnq_quantize_q8(uint32_t type, const float *x, int64_t k, void *xq) {
#if defined(__x86_64__)
    if (vnni_available()) quantize_vnni(x, k, xq); else quantize_plain(x, k, xq);
#else
    quantize_plain(x, k, xq);
#endif
    if (type == 12) k_from_natural(xq, k);
    else if (use_one_row(type)) quads_from_natural(type, xq, k);
}

void lnq_gemv_q8(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                 const void *xq, float *y, int accumulate) {
#if defined(__x86_64__)
    if (vnni_available()) {
        if (type == 2 && use_one_row(2)) { gemv_q4_0_vbmi((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
        if (type == 12) { gemv_q4_K((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
        if (type == 8 && use_one_row(8)) { gemv_q8_0_vbmi((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
        if (type == 2) { gemv_q4_0((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
        if (type == 8) { gemv_q8_0((const uint8_t *)w, row_bytes, k, j0, j1, xq, y, accumulate); return; }
    }
#endif
    lnq_gemv_q8_reference(type, w, row_bytes, k, j0, j1, xq, y, accumulate);
}
