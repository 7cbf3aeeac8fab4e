// Fused few-row products for AVX-512 (F + BW + VL, with F16C): each 32-element group of a stored
// row is decoded in registers into its small integers (centred where the format centres them),
// converted to float and multiplied with x; the group's scale is applied once to the group's sum
// and a format's minimum once to the group's Σx (precomputed per input row):
//     Σ_i w_i x_i = Σ_g s_g · Σ_{i∈g} q_i x_i  +  Σ_g m_g · Σ_{i∈g} x_i,   w_i = s_g q_i + m_g.
// That is the same real number as ggml's dequantise-then-multiply; each weight's own product is
// not rounded separately (for Q4_0, Q5_0, Q8_0 s_g q_i is exact in float32 anyway), so only the
// rounding of the sums differs, which the tests bound like any reordering. Nothing is written to
// memory between decoding and accumulating: one pass over the stored bytes, bound by their
// bandwidth rather than by a store/reload of dequantised floats.
#include "cquant.h"
#include "fused.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c,bmi2")))
#define INL static inline __attribute__((always_inline))

// A half-precision scale read without the compiler folding the load into an insert that depends on
// an accumulator register (which serialises the loop on the FMA latency).
T512 INL float h2f(const uint8_t *p) {
    __m128i v;
    __asm__("vpbroadcastw %1, %0" : "=x"(v) : "m"(*(const uint16_t *)p));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

// One group of 32 elements: its integers as bytes (elements 0..15 in lo, 16..31 in hi, centred
// where the format centres them), the scale of each half (equal except in Q6_K) and the minimum
// (0 for formats without one).
typedef struct { __m128i lo, hi; float s0, s1, m; } group_t;

T512 INL group_t g_q8_0(const uint8_t *b) {
    const float d = h2f(b);
    return (group_t){ _mm_loadu_si128((const __m128i *)(b + 2)), _mm_loadu_si128((const __m128i *)(b + 18)), d, d, 0 };
}

T512 INL group_t g_q4_0(const uint8_t *b) {
    const float d = h2f(b);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2)), m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(8);
    return (group_t){ _mm_sub_epi8(_mm_and_si128(q, m), e), _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), m), e), d, d, 0 };
}

T512 INL group_t g_q4_1(const uint8_t *b) {
    const float d = h2f(b);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 4)), m = _mm_set1_epi8(0x0F);
    return (group_t){ _mm_and_si128(q, m), _mm_and_si128(_mm_srli_epi16(q, 4), m), d, d, h2f(b + 2) };
}

// Q5_0/Q5_1: bit i of qh is bit 4 of element i (adding 16 to a nibble sets it).
T512 INL group_t g_q5_0(const uint8_t *b) {
    const float d = h2f(b);
    uint32_t qh; memcpy(&qh, b + 2, 4);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 6)), m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(16);
    const __m128i lo = _mm_and_si128(q, m), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    return (group_t){ _mm_sub_epi8(_mm_mask_add_epi8(lo, (__mmask16)qh, lo, e), e),
                      _mm_sub_epi8(_mm_mask_add_epi8(hi, (__mmask16)(qh >> 16), hi, e), e), d, d, 0 };
}

T512 INL group_t g_q5_1(const uint8_t *b) {
    const float d = h2f(b);
    uint32_t qh; memcpy(&qh, b + 4, 4);
    const __m128i q = _mm_loadu_si128((const __m128i *)(b + 8)), m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(16);
    const __m128i lo = _mm_and_si128(q, m), hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    return (group_t){ _mm_mask_add_epi8(lo, (__mmask16)qh, lo, e), _mm_mask_add_epi8(hi, (__mmask16)(qh >> 16), hi, e), d, d, h2f(b + 2) };
}

// K-quants: a 256-element super-block holds 8 groups; its scales are decoded once.
typedef struct { float s[16], m[8]; } scales_t;

// Q4_K/Q5_K sub-block scale and minimum (6 bits each, packed in 12 bytes); ggml: d1 = d·sc,
// m1 = dmin·m, w = d1·q − m1.
T512 INL void k_scales(const uint8_t *b, scales_t *S) {
    const float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *q = b + 4;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        if (j < 4) { sc = q[j] & 63; mn = q[j + 4] & 63; }
        else { sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4); mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
        S->s[2 * j] = S->s[2 * j + 1] = d * (float)sc;
        S->m[j] = -(dmin * (float)mn);
    }
}

T512 INL void q4_K_scales(const uint8_t *b, scales_t *S) { k_scales(b, S); }
T512 INL void q5_K_scales(const uint8_t *b, scales_t *S) { k_scales(b, S); }

T512 INL void q6_K_scales(const uint8_t *b, scales_t *S) {
    const float d = h2f(b + 208);
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int i = 0; i < 16; i++) S->s[i] = d * (float)sc[i]; // ggml: (d · sc) · q
    for (int j = 0; j < 8; j++) S->m[j] = 0;
}

// Group j (0..7) of a super-block: its integers.
T512 INL void q4_K_group(const uint8_t *b, int j, __m128i *lo, __m128i *hi) {
    const uint8_t *q = b + 16 + 32 * (j >> 1);
    __m128i a = _mm_loadu_si128((const __m128i *)q), c = _mm_loadu_si128((const __m128i *)(q + 16));
    if (j & 1) { a = _mm_srli_epi16(a, 4); c = _mm_srli_epi16(c, 4); }
    const __m128i m = _mm_set1_epi8(0x0F);
    *lo = _mm_and_si128(a, m); *hi = _mm_and_si128(c, m);
}

T512 INL void q5_K_group(const uint8_t *b, int j, __m128i *lo, __m128i *hi) {
    const uint8_t *q = b + 48 + 32 * (j >> 1);
    __m128i a = _mm_loadu_si128((const __m128i *)q), c = _mm_loadu_si128((const __m128i *)(q + 16));
    if (j & 1) { a = _mm_srli_epi16(a, 4); c = _mm_srli_epi16(c, 4); }
    const __m128i m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(16), bit = _mm_set1_epi8((char)(1 << j));
    a = _mm_and_si128(a, m); c = _mm_and_si128(c, m);
    *lo = _mm_mask_add_epi8(a, _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 16)), bit), a, e);
    *hi = _mm_mask_add_epi8(c, _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 32)), bit), c, e);
}

// Q6_K group j = 4h + t: low 4 bits from ql (+32 for odd t, high nibble for t ≥ 2), bits 2t, 2t+1
// of qh as bits 4, 5; minus 32. Its two halves have scales sc[2j], sc[2j+1].
T512 INL void q6_K_group(const uint8_t *b, int j, __m128i *lo, __m128i *hi) {
    const int h = j >> 2, t = j & 3;
    const uint8_t *ql = b + 64 * h + 32 * (t & 1), *qh = b + 128 + 32 * h;
    __m128i a = _mm_loadu_si128((const __m128i *)ql), c = _mm_loadu_si128((const __m128i *)(ql + 16));
    __m128i ha = _mm_loadu_si128((const __m128i *)qh), hc = _mm_loadu_si128((const __m128i *)(qh + 16));
    if (t & 2) { a = _mm_srli_epi16(a, 4); c = _mm_srli_epi16(c, 4); }
    if (t < 2) { ha = _mm_slli_epi16(ha, 4 - 2 * t); hc = _mm_slli_epi16(hc, 4 - 2 * t); }
    else if (t == 3) { ha = _mm_srli_epi16(ha, 2); hc = _mm_srli_epi16(hc, 2); }
    const __m128i m = _mm_set1_epi8(0x0F), mh = _mm_set1_epi8(0x30), e = _mm_set1_epi8(32);
    *lo = _mm_sub_epi8(_mm_or_si128(_mm_and_si128(a, m), _mm_and_si128(ha, mh)), e);
    *hi = _mm_sub_epi8(_mm_or_si128(_mm_and_si128(c, m), _mm_and_si128(hc, mh)), e);
}

// Float formats: 16 floats at a time, no scale.
T512 INL __m512 f_f32(const uint8_t *row, int64_t i) { return _mm512_loadu_ps((const float *)row + i); }
T512 INL __m512 f_f16(const uint8_t *row, int64_t i) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * i))); }
T512 INL __m512 f_bf16(const uint8_t *row, int64_t i) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(row + 2 * i))), 16));
}

T512 INL float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

// Quantised rows: y[r, j] (+)= Σ_g s_g Σ q x + m_g Σx for j in [j0, j1), M rows of x (constant
// after inlining). Two accumulators per x row alternate over groups to hide the FMA latency.
// One group into accumulator A of every x row: s0·Σlo·x + s1·Σhi·x, and m·Σx when the format has
// a minimum. `g` is the group's index in the row (x offset 32·g).
#define QACC(LO, HI, S0, S1, MN, TWO_SCALES, HAS_MIN, g, A)                                                        \
    {                                                                                                              \
        const __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(LO));                                            \
        const __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(HI));                                            \
        for (int r = 0; r < M; r++) {                                                                              \
            const float *xr = x + r * ldx + (g) * 32;                                                              \
            if (TWO_SCALES) {                                                                                      \
                A[r] = _mm512_fmadd_ps(_mm512_mul_ps(lo, _mm512_loadu_ps(xr)), _mm512_set1_ps(S0), A[r]);          \
                A[r] = _mm512_fmadd_ps(_mm512_mul_ps(hi, _mm512_loadu_ps(xr + 16)), _mm512_set1_ps(S1), A[r]);     \
            } else {                                                                                               \
                const __m512 t = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(xr))); \
                A[r] = _mm512_fmadd_ps(t, _mm512_set1_ps(S0), A[r]);                                               \
            }                                                                                                      \
            if (HAS_MIN) macc[r] += (MN) * sx[r * groups + (g)];                                                   \
        }                                                                                                          \
    }

#define ROW_START                                                                                                  \
        const uint8_t *row = w + j * row_bytes;                                                                    \
        __m512 a0[LNQ_MAX_ROWS], a1[LNQ_MAX_ROWS];                                                                 \
        float macc[LNQ_MAX_ROWS];                                                                                  \
        for (int r = 0; r < M; r++) { a0[r] = a1[r] = _mm512_setzero_ps(); macc[r] = 0; }

#define ROW_END                                                                                                    \
        for (int r = 0; r < M; r++) {                                                                              \
            const float v = hsum(_mm512_add_ps(a0[r], a1[r])) + macc[r];                                           \
            if (accumulate) y[r * ldy + j] += v; else y[r * ldy + j] = v;                                          \
        }

// Legacy 32-element blocks: y[r, j] (+)= Σ_g s_g Σ q x + m_g Σx for j in [j0, j1), M rows of x
// (constant after inlining). Blocks go in pairs into two accumulators per x row (FMA latency).
#define DEFINE_QGEMV(NAME, GROUP, BYTES, HAS_MIN)                                                                  \
T512 INL void NAME##_m(const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, const float *x, \
                       int64_t ldx, const int M, float *y, int64_t ldy, int accumulate, const float *sx) {          \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        int64_t g = 0;                                                                                             \
        for (; g + 2 <= groups; g += 2) {                                                                          \
            const group_t G0 = GROUP(row + g * BYTES), G1 = GROUP(row + (g + 1) * BYTES);                          \
            QACC(G0.lo, G0.hi, G0.s0, G0.s0, G0.m, 0, HAS_MIN, g, a0)                                              \
            QACC(G1.lo, G1.hi, G1.s0, G1.s0, G1.m, 0, HAS_MIN, g + 1, a1)                                          \
        }                                                                                                          \
        if (g < groups) { const group_t G0 = GROUP(row + g * BYTES); QACC(G0.lo, G0.hi, G0.s0, G0.s0, G0.m, 0, HAS_MIN, g, a0) } \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

// K-quant super-blocks of 256: scales decoded once, then 8 groups in pairs.
#define DEFINE_KGEMV(NAME, BYTES, HAS_MIN, TWO_SCALES)                                                             \
T512 INL void NAME##_m(const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, const float *x, \
                       int64_t ldx, const int M, float *y, int64_t ldy, int accumulate, const float *sx) {          \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        for (int64_t sb = 0; sb < groups / 8; sb++) {                                                              \
            const uint8_t *b = row + sb * BYTES;                                                                   \
            scales_t S;                                                                                            \
            NAME##_scales(b, &S);                                                                                  \
            for (int q = 0; q < 8; q += 2) {                                                                       \
                __m128i l0, h0, l1, h1;                                                                            \
                NAME##_group(b, q, &l0, &h0);                                                                      \
                NAME##_group(b, q + 1, &l1, &h1);                                                                  \
                QACC(l0, h0, S.s[2 * q], S.s[2 * q + 1], S.m[q], TWO_SCALES, HAS_MIN, sb * 8 + q, a0)              \
                QACC(l1, h1, S.s[2 * q + 2], S.s[2 * q + 3], S.m[q + 1], TWO_SCALES, HAS_MIN, sb * 8 + q + 1, a1)  \
            }                                                                                                      \
        }                                                                                                          \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

DEFINE_QGEMV(q8_0, g_q8_0, 34, 0)
DEFINE_QGEMV(q4_0, g_q4_0, 18, 0)
DEFINE_QGEMV(q4_1, g_q4_1, 20, 1)
DEFINE_QGEMV(q5_0, g_q5_0, 22, 0)
DEFINE_QGEMV(q5_1, g_q5_1, 24, 1)
DEFINE_KGEMV(q4_K, 144, 1, 0)
DEFINE_KGEMV(q5_K, 176, 1, 0)
DEFINE_KGEMV(q6_K, 210, 0, 1)

// Float rows (k a multiple of 16 handled in vectors, the tail in scalars).
#define DEFINE_FGEMV(NAME, LOAD, SCALAR)                                                                           \
T512 INL void NAME##_m(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const float *x,    \
                       int64_t ldx, const int M, float *y, int64_t ldy, int accumulate) {                          \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        const uint8_t *row = w + j * row_bytes;                                                                    \
        __m512 a0[LNQ_MAX_ROWS], a1[LNQ_MAX_ROWS];                                                                 \
        for (int r = 0; r < M; r++) a0[r] = a1[r] = _mm512_setzero_ps();                                           \
        int64_t i = 0;                                                                                             \
        for (; i + 32 <= k; i += 32) {                                                                             \
            const __m512 w0 = LOAD(row, i), w1 = LOAD(row, i + 16);                                                \
            for (int r = 0; r < M; r++) {                                                                          \
                a0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + r * ldx + i), a0[r]);                              \
                a1[r] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + r * ldx + i + 16), a1[r]);                         \
            }                                                                                                      \
        }                                                                                                          \
        for (; i + 16 <= k; i += 16) {                                                                             \
            const __m512 w0 = LOAD(row, i);                                                                        \
            for (int r = 0; r < M; r++) a0[r] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + r * ldx + i), a0[r]);     \
        }                                                                                                          \
        for (int r = 0; r < M; r++) {                                                                              \
            float v = hsum(_mm512_add_ps(a0[r], a1[r]));                                                           \
            for (int64_t t = i; t < k; t++) v += SCALAR(row, t) * x[r * ldx + t];                                  \
            if (accumulate) y[r * ldy + j] += v; else y[r * ldy + j] = v;                                          \
        }                                                                                                          \
    }                                                                                                              \
}

T512 INL float s_f32(const uint8_t *row, int64_t t) { float f; memcpy(&f, row + 4 * t, 4); return f; }
T512 INL float s_f16(const uint8_t *row, int64_t t) { return h2f(row + 2 * t); }
T512 INL float s_bf16(const uint8_t *row, int64_t t) { uint32_t u = (uint32_t)(row[2 * t] | (row[2 * t + 1] << 8)) << 16; float f; memcpy(&f, &u, 4); return f; }

DEFINE_FGEMV(f32, f_f32, s_f32)
DEFINE_FGEMV(f16, f_f16, s_f16)
DEFINE_FGEMV(bf16, f_bf16, s_bf16)

// Σx of every 32-element group of every x row (the minimum's term), in a fixed order.
T512 static void group_sums(const float *x, int64_t ldx, int m, int64_t groups, float *sx) {
    for (int r = 0; r < m; r++)
        for (int64_t g = 0; g < groups; g++) sx[r * groups + g] = hsum(_mm512_add_ps(_mm512_loadu_ps(x + r * ldx + 32 * g), _mm512_loadu_ps(x + r * ldx + 32 * g + 16)));
}

#define CASES(FN, ...) switch (m) { \
    case 1: FN(__VA_ARGS__, 1); break; case 2: FN(__VA_ARGS__, 2); break; case 3: FN(__VA_ARGS__, 3); break; \
    case 4: FN(__VA_ARGS__, 4); break; case 5: FN(__VA_ARGS__, 5); break; case 6: FN(__VA_ARGS__, 6); break; \
    case 7: FN(__VA_ARGS__, 7); break; case 8: FN(__VA_ARGS__, 8); break; default: break; }

#define QCALL(NAME, MM) NAME##_m(w, row_bytes, groups, j0, j1, x, ldx, MM, y, ldy, accumulate, sx)
#define QRUN(NAME) T512 static void NAME##_run(const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, \
    const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate, const float *sx) { CASES(QCALL, NAME) }
QRUN(q8_0) QRUN(q4_0) QRUN(q4_1) QRUN(q5_0) QRUN(q5_1) QRUN(q4_K) QRUN(q5_K) QRUN(q6_K)

#define FCALL(NAME, MM) NAME##_m(w, row_bytes, k, j0, j1, x, ldx, MM, y, ldy, accumulate)
#define FRUN(NAME) T512 static void NAME##_run(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, \
    const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) { CASES(FCALL, NAME) }
FRUN(f32) FRUN(f16) FRUN(bf16)

int lnq_fused512_has(uint32_t type) {
    switch (type) {
    case 0: case 1: case 30: case 2: case 3: case 6: case 7: case 8: case 12: case 13: case 14: return 1;
    default: return 0;
    }
}

T512 void lnq_gemv_avx512(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                          const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    const int64_t groups = k / 32;
    switch (type) {
    case 0: f32_run(w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate); return;
    case 1: f16_run(w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate); return;
    case 30: bf16_run(w, row_bytes, k, j0, j1, x, ldx, m, y, ldy, accumulate); return;
    default: break;
    }
    float local[LNQ_MAX_ROWS * 512];
    float *sx = NULL, *heap = NULL;
    if (type == 3 || type == 7 || type == 12 || type == 13) {
        sx = (int64_t)m * groups <= (int64_t)(sizeof local / sizeof local[0]) ? local : (heap = malloc(sizeof(float) * (size_t)(m * groups)));
        if (!sx) return; // out of memory: the caller's sizes came from a matrix that exists
        group_sums(x, ldx, m, groups, sx);
    }
    switch (type) {
    case 8: q8_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 2: q4_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 3: q4_1_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 6: q5_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 7: q5_1_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 12: q4_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 13: q5_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    case 14: q6_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate, sx); break;
    default: break;
    }
    free(heap);
}
#else
int lnq_fused512_has(uint32_t type) { (void)type; return 0; }
void lnq_gemv_avx512(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                     const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    (void)type; (void)w; (void)row_bytes; (void)k; (void)j0; (void)j1; (void)x; (void)ldx; (void)m; (void)y; (void)ldy; (void)accumulate;
}
#endif
