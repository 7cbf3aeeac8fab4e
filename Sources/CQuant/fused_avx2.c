// Fused few-row products for AVX2/FMA/F16C processors without AVX-512 (the same one-pass design
// as fused_avx512.c, in 256-bit registers). Each 32-element group of a stored row is decoded in
// registers into its integer codes (centred where the format centres them), converted to float
// eight at a time and multiplied with x; the group's scale is applied to the group's sum and a
// format's minimum to the group's Σx (computed once per x row):
//     Σ_i w_i x_i = Σ_g s_g · Σ_{i∈g} q_i x_i + Σ_g m_g · Σ_{i∈g} x_i,   w_i = s_g q_i + m_g,
// the same real number as ggml's dequantise-then-multiply; only the rounding of the sums differs
// (the tests bound it at this level too).
#include "cquant.h"
#include "fused.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define TA2 __attribute__((target("avx2,fma,f16c")))
#define INL LNQ_INL
#define LNQ_TARGET TA2
#include "block_scales.h"

// A group: 32 codes as bytes (lo: elements 0..15, hi: 16..31), the scale of each half (equal
// except in Q6_K) and the minimum (0 where the format has none).
typedef struct { __m128i lo, hi; float s0, s1, m; } group_t;

// 16 bits of `bits` as 16 bytes: 0x10 where the bit is set (bit 4 of Q5 codes).
TA2 INL __m128i bit4_bytes(uint32_t bits) {
    const __m128i v = _mm_set1_epi16((short)bits);
    const __m128i spread = _mm_shuffle_epi8(v, _mm_set_epi8(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m128i sel = _mm_set_epi8((char)0x80, 0x40, 0x20, 0x10, 8, 4, 2, 1, (char)0x80, 0x40, 0x20, 0x10, 8, 4, 2, 1);
    return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(spread, sel), sel), _mm_set1_epi8(0x10));
}

TA2 INL void split(const uint8_t *qs, __m128i *lo, __m128i *hi) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0F);
    *lo = _mm_and_si128(q, m); *hi = _mm_and_si128(_mm_srli_epi16(q, 4), m);
}

TA2 INL group_t g_q8_0(const uint8_t *b) {
    const float d = h2f(b);
    return (group_t){ _mm_loadu_si128((const __m128i *)(b + 2)), _mm_loadu_si128((const __m128i *)(b + 18)), d, d, 0 };
}

TA2 INL group_t g_q4_0(const uint8_t *b) {
    group_t G; split(b + 2, &G.lo, &G.hi);
    const __m128i e = _mm_set1_epi8(8);
    G.lo = _mm_sub_epi8(G.lo, e); G.hi = _mm_sub_epi8(G.hi, e);
    G.s0 = G.s1 = h2f(b); G.m = 0;
    return G;
}

TA2 INL group_t g_q4_1(const uint8_t *b) {
    group_t G; split(b + 4, &G.lo, &G.hi);
    G.s0 = G.s1 = h2f(b); G.m = h2f(b + 2);
    return G;
}

TA2 INL group_t g_q5_0(const uint8_t *b) {
    group_t G; split(b + 6, &G.lo, &G.hi);
    uint32_t qh; memcpy(&qh, b + 2, 4);
    const __m128i e = _mm_set1_epi8(16);
    G.lo = _mm_sub_epi8(_mm_or_si128(G.lo, bit4_bytes(qh)), e);
    G.hi = _mm_sub_epi8(_mm_or_si128(G.hi, bit4_bytes(qh >> 16)), e);
    G.s0 = G.s1 = h2f(b); G.m = 0;
    return G;
}

TA2 INL group_t g_q5_1(const uint8_t *b) {
    group_t G; split(b + 8, &G.lo, &G.hi);
    uint32_t qh; memcpy(&qh, b + 4, 4);
    G.lo = _mm_or_si128(G.lo, bit4_bytes(qh));
    G.hi = _mm_or_si128(G.hi, bit4_bytes(qh >> 16));
    G.s0 = G.s1 = h2f(b); G.m = h2f(b + 2);
    return G;
}

// Q4_K/Q5_K: w = d1·q − m1, so the minimum term is −m1.
TA2 INL group_t g_q4_K(const uint8_t *b, const kscales_t *S, int j) {
    group_t G; k_nibbles(b + 16, j, &G.lo, &G.hi);
    G.s0 = G.s1 = S->d[j]; G.m = -S->m[j];
    return G;
}

TA2 INL group_t g_q5_K(const uint8_t *b, const kscales_t *S, int j) {
    __m128i a, c;
    k_nibbles(b + 48, j, &a, &c);
    const __m128i bit = _mm_set1_epi8((char)(1 << j)), e = _mm_set1_epi8(16);
    const __m128i ha = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(_mm_loadu_si128((const __m128i *)(b + 16)), bit), bit), e);
    const __m128i hc = _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(_mm_loadu_si128((const __m128i *)(b + 32)), bit), bit), e);
    return (group_t){ _mm_or_si128(a, ha), _mm_or_si128(c, hc), S->d[j], S->d[j], -S->m[j] };
}

// Q6_K: 16 scales per super-block (block_scales.h); a group's halves have s[2j], s[2j+1].
TA2 INL group_t g_q6_K(const uint8_t *b, const float *s, int j) {
    group_t G; q6_codes(b, j, &G.lo, &G.hi);
    G.s0 = s[2 * j]; G.s1 = s[2 * j + 1]; G.m = 0;
    return G;
}

TA2 INL __m256 cvt8(__m128i bytes) { return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)); }

TA2 INL float hsum(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

// One group into accumulator A of every x row.
#define ACC(G, TWO, MIN, g, A)                                                                                      \
    {                                                                                                              \
        const __m256 q0 = cvt8((G).lo), q1 = cvt8(_mm_srli_si128((G).lo, 8));                                      \
        const __m256 q2 = cvt8((G).hi), q3 = cvt8(_mm_srli_si128((G).hi, 8));                                      \
        for (int r = 0; r < M; r++) {                                                                              \
            const float *xr = x + r * ldx + (g) * 32;                                                              \
            __m256 t0 = _mm256_fmadd_ps(q1, _mm256_loadu_ps(xr + 8), _mm256_mul_ps(q0, _mm256_loadu_ps(xr)));      \
            __m256 t1 = _mm256_fmadd_ps(q3, _mm256_loadu_ps(xr + 24), _mm256_mul_ps(q2, _mm256_loadu_ps(xr + 16))); \
            if (TWO) {                                                                                             \
                A[r] = _mm256_fmadd_ps(t0, _mm256_set1_ps((G).s0), A[r]);                                          \
                A[r] = _mm256_fmadd_ps(t1, _mm256_set1_ps((G).s1), A[r]);                                          \
            } else {                                                                                               \
                A[r] = _mm256_fmadd_ps(_mm256_add_ps(t0, t1), _mm256_set1_ps((G).s0), A[r]);                       \
            }                                                                                                      \
            if (MIN) mac[r] += (G).m * sx[r * groups + (g)];                                                       \
        }                                                                                                          \
    }

#define ARGS const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, const float *x, int64_t ldx, \
             const int M, float *y, int64_t ldy, int accumulate, const float *sx

#define ROW_START                                                                                                  \
        const uint8_t *row = w + j * row_bytes;                                                                    \
        __m256 a0[LNQ_MAX_ROWS], a1[LNQ_MAX_ROWS];                                                                 \
        float mac[LNQ_MAX_ROWS];                                                                                   \
        for (int r = 0; r < M; r++) { a0[r] = a1[r] = _mm256_setzero_ps(); mac[r] = 0; }

#define ROW_END                                                                                                    \
        for (int r = 0; r < M; r++) {                                                                              \
            const float v = hsum(_mm256_add_ps(a0[r], a1[r])) + mac[r];                                            \
            if (accumulate) y[r * ldy + j] += v; else y[r * ldy + j] = v;                                          \
        }

#define DEFINE_LEGACY(NAME, GROUP, BYTES, MIN)                                                                     \
TA2 INL void NAME##_m(ARGS) {                                                                                      \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        int64_t g = 0;                                                                                             \
        for (; g + 2 <= groups; g += 2) {                                                                          \
            AHEAD(row + g * BYTES, 2 * BYTES);                                                                     \
            const group_t G0 = GROUP(row + g * BYTES), G1 = GROUP(row + (g + 1) * BYTES);                          \
            ACC(G0, 0, MIN, g, a0)                                                                                 \
            ACC(G1, 0, MIN, g + 1, a1)                                                                             \
        }                                                                                                          \
        if (g < groups) { const group_t G0 = GROUP(row + g * BYTES); ACC(G0, 0, MIN, g, a0) }                      \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

#define DEFINE_K(NAME, GROUP, BYTES, MIN)                                                                          \
TA2 INL void NAME##_m(ARGS) {                                                                                      \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        for (int64_t sb = 0; sb < groups / 8; sb++) {                                                              \
            const uint8_t *b = row + sb * BYTES;                                                                   \
            kscales_t S;                                                                                           \
            k_scales(b, &S);                                                                                       \
            for (int q = 0; q < 8; q += 2) {                                                                       \
                AHEAD(b + q * (BYTES / 8), BYTES / 4);                                                             \
                const group_t G0 = GROUP(b, &S, q), G1 = GROUP(b, &S, q + 1);                                      \
                ACC(G0, 0, MIN, sb * 8 + q, a0)                                                                    \
                ACC(G1, 0, MIN, sb * 8 + q + 1, a1)                                                                \
            }                                                                                                      \
        }                                                                                                          \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

DEFINE_LEGACY(q8_0, g_q8_0, 34, 0)
DEFINE_LEGACY(q4_0, g_q4_0, 18, 0)
DEFINE_LEGACY(q4_1, g_q4_1, 20, 1)
DEFINE_LEGACY(q5_0, g_q5_0, 22, 0)
DEFINE_LEGACY(q5_1, g_q5_1, 24, 1)
DEFINE_K(q4_K, g_q4_K, 144, 1)
DEFINE_K(q5_K, g_q5_K, 176, 1)

TA2 INL void q6_K_m(ARGS) {
    for (int64_t j = j0; j < j1; j++) {
        ROW_START
        for (int64_t sb = 0; sb < groups / 8; sb++) {
            const uint8_t *b = row + sb * 210;
            float s[16];
            q6_scales(b, s);
            for (int q = 0; q < 8; q += 2) {
                AHEAD(b + q * 26, 53);
                const group_t G0 = g_q6_K(b, s, q), G1 = g_q6_K(b, s, q + 1);
                ACC(G0, 1, 0, sb * 8 + q, a0)
                ACC(G1, 1, 0, sb * 8 + q + 1, a1)
            }
        }
        ROW_END
    }
}

#define CASES(FN, ...) switch (m) { \
    case 1: FN(__VA_ARGS__, 1); break; case 2: FN(__VA_ARGS__, 2); break; case 3: FN(__VA_ARGS__, 3); break; \
    case 4: FN(__VA_ARGS__, 4); break; case 5: FN(__VA_ARGS__, 5); break; case 6: FN(__VA_ARGS__, 6); break; \
    case 7: FN(__VA_ARGS__, 7); break; case 8: FN(__VA_ARGS__, 8); break; default: break; }
#define CALL(NAME, MM) NAME##_m(w, row_bytes, groups, j0, j1, x, ldx, MM, y, ldy, accumulate, sx)
#define RUN(NAME) TA2 static void NAME##_run(const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, \
    const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate, const float *sx) { CASES(CALL, NAME) }
RUN(q8_0) RUN(q4_0) RUN(q4_1) RUN(q5_0) RUN(q5_1) RUN(q4_K) RUN(q5_K) RUN(q6_K)

int lnq_fused2_has(uint32_t type) {
    switch (type) {
    case 2: case 3: case 6: case 7: case 8: case 12: case 13: case 14: return 1;
    default: return 0;
    }
}

TA2 void lnq_gemv_avx2_fused(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                             const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    const int64_t groups = k / 32;
    float local[LNQ_MAX_ROWS * 512];
    float *sx = NULL, *heap = NULL;
    if (type == 3 || type == 7 || type == 12 || type == 13) { // formats with a minimum: Σx per group
        const int64_t need = (int64_t)m * groups;
        sx = need <= (int64_t)(sizeof local / sizeof local[0]) ? local : (heap = malloc(sizeof(float) * (size_t)need));
        if (!sx) return; // out of memory for a few KB: nothing sensible to compute
        for (int r = 0; r < m; r++)
            for (int64_t g = 0; g < groups; g++) {
                const float *xr = x + r * ldx + 32 * g;
                const __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(xr), _mm256_loadu_ps(xr + 8)),
                                               _mm256_add_ps(_mm256_loadu_ps(xr + 16), _mm256_loadu_ps(xr + 24)));
                sx[r * groups + g] = hsum(s);
            }
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
int lnq_fused2_has(uint32_t type) { (void)type; return 0; }
void lnq_gemv_avx2_fused(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                         const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    (void)type; (void)w; (void)row_bytes; (void)k; (void)j0; (void)j1; (void)x; (void)ldx; (void)m; (void)y; (void)ldy; (void)accumulate;
}
#endif
