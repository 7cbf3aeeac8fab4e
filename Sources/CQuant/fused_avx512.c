// Fused few-row products for AVX-512 (F + BW + VL, with F16C): one pass over the stored bytes,
// nothing written to memory between decoding a block and accumulating it.
//
// 4- and 5-bit formats (Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K): each block's 16 or 32 possible
// values are computed with ggml's own formula (so they are bit for bit ggml's dequantised
// values), and each element is looked up in that table in a register by its code (vpermps /
// vpermt2ps), then multiplied with x and accumulated.
// Q8_0 and Q6_K (256 and 64 codes): the codes are converted to float and multiplied by their
// scale as ggml does; for one x row Q8_0 applies its scale to the block's sum instead,
// Σ_i (s·q_i) x_i = s · Σ_i q_i x_i (s·q_i is exact in float32 for Q8_0).
// F16/BF16/F32: converted 16 at a time. Either way only the order and rounding of the sums differ
// from dequantise-then-multiply; the tests bound that like any reordering.
#include "cquant.h"
#include "fused.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c,bmi2")))
#define INL LNQ_INL
#define LNQ_TARGET T512
#include "block_scales.h"

// Tables are built with ggml's separate multiply and add (no FMA), as the dequantiser does.
#pragma clang fp contract(off)

static const float codes16[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const float codes32[32] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

// A block of 32 elements with a value table: codes as bytes (elements 0..15 in lo, 16..31 in
// hi; only the low 4 or 5 bits matter) and the values of codes 0..15 (t0) and 16..31 (t1).
typedef struct { __m128i lo, hi; __m512 t0, t1; } tgroup_t;

T512 INL void nib(const uint8_t *qs, __m128i *lo, __m128i *hi) { // low nibbles, high nibbles
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    *lo = q; *hi = _mm_srli_epi16(q, 4);
}

// ggml Q4_0: (q − 8)·d
T512 INL tgroup_t t_q4_0(const uint8_t *b) {
    tgroup_t G;
    nib(b + 2, &G.lo, &G.hi);
    G.t0 = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(codes16), _mm512_set1_ps(8)), _mm512_set1_ps(h2f(b)));
    G.t1 = G.t0;
    return G;
}

// ggml Q4_1: q·d + m
T512 INL tgroup_t t_q4_1(const uint8_t *b) {
    tgroup_t G;
    nib(b + 4, &G.lo, &G.hi);
    const __m512 qd = _mm512_mul_ps(_mm512_loadu_ps(codes16), _mm512_set1_ps(h2f(b)));
    G.t0 = _mm512_add_ps(qd, _mm512_set1_ps(h2f(b + 2)));
    G.t1 = G.t0;
    return G;
}

// Q5_0/Q5_1: bit i of qh is bit 4 of element i.
T512 INL void nib5(const uint8_t *qs, uint32_t qh, __m128i *lo, __m128i *hi) {
    const __m128i q = _mm_loadu_si128((const __m128i *)qs), m = _mm_set1_epi8(0x0F), e = _mm_set1_epi8(16);
    const __m128i l = _mm_and_si128(q, m), h = _mm_and_si128(_mm_srli_epi16(q, 4), m);
    *lo = _mm_mask_add_epi8(l, (__mmask16)qh, l, e);
    *hi = _mm_mask_add_epi8(h, (__mmask16)(qh >> 16), h, e);
}

// ggml Q5_0: (q − 16)·d
T512 INL tgroup_t t_q5_0(const uint8_t *b) {
    tgroup_t G;
    uint32_t qh; memcpy(&qh, b + 2, 4);
    nib5(b + 6, qh, &G.lo, &G.hi);
    const __m512 d = _mm512_set1_ps(h2f(b)), c = _mm512_set1_ps(16);
    G.t0 = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(codes32), c), d);
    G.t1 = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(codes32 + 16), c), d);
    return G;
}

// ggml Q5_1: q·d + m
T512 INL tgroup_t t_q5_1(const uint8_t *b) {
    tgroup_t G;
    uint32_t qh; memcpy(&qh, b + 4, 4);
    nib5(b + 8, qh, &G.lo, &G.hi);
    const __m512 d = _mm512_set1_ps(h2f(b)), m = _mm512_set1_ps(h2f(b + 2));
    G.t0 = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(codes32), d), m);
    G.t1 = _mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(codes32 + 16), d), m);
    return G;
}

T512 INL tgroup_t t_q4_K(const uint8_t *b, const kscales_t *S, int j) {
    tgroup_t G;
    k_nibbles(b + 16, j, &G.lo, &G.hi);
    G.t0 = _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(S->d[j]), _mm512_loadu_ps(codes16)), _mm512_set1_ps(S->m[j]));
    G.t1 = G.t0;
    return G;
}

T512 INL tgroup_t t_q5_K(const uint8_t *b, const kscales_t *S, int j) {
    tgroup_t G;
    __m128i l, h;
    k_nibbles(b + 48, j, &l, &h);
    const __m128i e = _mm_set1_epi8(16), bit = _mm_set1_epi8((char)(1 << j));
    G.lo = _mm_mask_add_epi8(l, _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 16)), bit), l, e);
    G.hi = _mm_mask_add_epi8(h, _mm_test_epi8_mask(_mm_loadu_si128((const __m128i *)(b + 32)), bit), h, e);
    const __m512 d1 = _mm512_set1_ps(S->d[j]), m1 = _mm512_set1_ps(S->m[j]);
    G.t0 = _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_loadu_ps(codes32)), m1);
    G.t1 = _mm512_sub_ps(_mm512_mul_ps(d1, _mm512_loadu_ps(codes32 + 16)), m1);
    return G;
}

// A block converted to float codes with a scale per half (Q8_0, Q6_K): s0·Σ lo·x + s1·Σ hi·x.
typedef struct { __m128i lo, hi; float s0, s1; } cgroup_t;

T512 INL cgroup_t c_q8_0(const uint8_t *b) {
    const float d = h2f(b);
    return (cgroup_t){ _mm_loadu_si128((const __m128i *)(b + 2)), _mm_loadu_si128((const __m128i *)(b + 18)), d, d };
}

T512 INL cgroup_t c_q6_K(const uint8_t *b, const float *s, int j) {
    cgroup_t G; q6_codes(b, j, &G.lo, &G.hi);
    G.s0 = s[2 * j]; G.s1 = s[2 * j + 1];
    return G;
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
// A table group into accumulator A of every x row (group index g: x offset 32·g). WIDE: 32-entry
// tables (5-bit codes).
#define TACC(G, WIDE, g, A, B)                                                                                     \
    {                                                                                                              \
        const __m512i il = _mm512_cvtepu8_epi32((G).lo), ih = _mm512_cvtepu8_epi32((G).hi);                       \
        const __m512 lo = WIDE ? _mm512_permutex2var_ps((G).t0, il, (G).t1) : _mm512_permutexvar_ps(il, (G).t0);   \
        const __m512 hi = WIDE ? _mm512_permutex2var_ps((G).t0, ih, (G).t1) : _mm512_permutexvar_ps(ih, (G).t0);   \
        for (int r = 0; r < M; r++) {                                                                              \
            const float *xr = x + r * ldx + (g) * 32;                                                              \
            A[r] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xr), A[r]);                                                 \
            B[r] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + 16), B[r]);                                            \
        }                                                                                                          \
    }

// A converted group: the codes times their scales, as ggml multiplies them (exact weights), then
// two FMAs per x row. With one x row and one scale (Q8_0 decoding) the scale is applied to the
// group's sum instead, one multiply fewer: s·Σ q·x, the same real number as Σ (s·q)·x.
#define CACC(G, TWO_SCALES, g, A, B)                                                                               \
    {                                                                                                              \
        __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32((G).lo));                                              \
        __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32((G).hi));                                              \
        if (M == 1 && !TWO_SCALES) {                                                                               \
            const float *xr = x + (g) * 32;                                                                        \
            const __m512 t = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + 16), _mm512_mul_ps(lo, _mm512_loadu_ps(xr))); \
            A[0] = _mm512_fmadd_ps(t, _mm512_set1_ps((G).s0), A[0]);                                               \
        } else {                                                                                                   \
            lo = _mm512_mul_ps(lo, _mm512_set1_ps((G).s0));                                                        \
            hi = _mm512_mul_ps(hi, _mm512_set1_ps((G).s1));                                                        \
            for (int r = 0; r < M; r++) {                                                                          \
                const float *xr = x + r * ldx + (g) * 32;                                                          \
                A[r] = _mm512_fmadd_ps(lo, _mm512_loadu_ps(xr), A[r]);                                             \
                B[r] = _mm512_fmadd_ps(hi, _mm512_loadu_ps(xr + 16), B[r]);                                        \
            }                                                                                                      \
        }                                                                                                          \
    }

// Accumulators: a0/a1 for the low halves of even/odd groups, b0/b1 for the high halves, so that
// one x row has four independent FMA chains (one would wait on the FMA latency); with several x
// rows the rows are independent chains already and the halves share (registers run out).
#define ROW_START                                                                                                  \
        const uint8_t *row = w + j * row_bytes;                                                                    \
        __m512 a0[LNQ_MAX_ROWS], a1[LNQ_MAX_ROWS], b0s[2], b1s[2];                                                 \
        __m512 *b0 = M <= 2 ? b0s : a0, *b1 = M <= 2 ? b1s : a1;                                                   \
        for (int r = 0; r < M; r++) a0[r] = a1[r] = _mm512_setzero_ps();                                           \
        if (M <= 2) for (int r = 0; r < M; r++) b0s[r] = b1s[r] = _mm512_setzero_ps();

#define ROW_END                                                                                                    \
        for (int r = 0; r < M; r++) {                                                                              \
            __m512 t = _mm512_add_ps(a0[r], a1[r]);                                                                \
            if (M <= 2) t = _mm512_add_ps(t, _mm512_add_ps(b0s[r], b1s[r]));                                      \
            const float v = hsum(t);                                                                               \
            if (accumulate) y[r * ldy + j] += v; else y[r * ldy + j] = v;                                          \
        }

#define KERNEL_ARGS const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, const float *x, \
                    int64_t ldx, const int M, float *y, int64_t ldy, int accumulate

// Legacy 32-element blocks, in pairs into two accumulators per x row (FMA latency).
#define DEFINE_TGEMV(NAME, GROUP, BYTES, WIDE)                                                                     \
T512 INL void NAME##_m(KERNEL_ARGS) {                                                                              \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        int64_t g = 0;                                                                                             \
        for (; g + 2 <= groups; g += 2) {                                                                          \
            AHEAD(row + g * BYTES, 2 * BYTES);                                                                     \
            const tgroup_t G0 = GROUP(row + g * BYTES), G1 = GROUP(row + (g + 1) * BYTES);                         \
            TACC(G0, WIDE, g, a0, b0)                                                                                  \
            TACC(G1, WIDE, g + 1, a1, b1)                                                                              \
        }                                                                                                          \
        if (g < groups) { const tgroup_t G0 = GROUP(row + g * BYTES); TACC(G0, WIDE, g, a0, b0) }                      \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

// K-quant super-blocks of 256 with value tables: scales decoded once, then 8 groups in pairs.
#define DEFINE_KGEMV(NAME, GROUP, BYTES, WIDE)                                                                     \
T512 INL void NAME##_m(KERNEL_ARGS) {                                                                              \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        ROW_START                                                                                                  \
        for (int64_t sb = 0; sb < groups / 8; sb++) {                                                              \
            const uint8_t *b = row + sb * BYTES;                                                                   \
            kscales_t S;                                                                                           \
            k_scales(b, &S);                                                                                       \
            for (int q = 0; q < 8; q += 2) {                                                                       \
                AHEAD(b + q * (BYTES / 8), BYTES / 4);                                                             \
                const tgroup_t G0 = GROUP(b, &S, q), G1 = GROUP(b, &S, q + 1);                                     \
                TACC(G0, WIDE, sb * 8 + q, a0, b0)                                                                     \
                TACC(G1, WIDE, sb * 8 + q + 1, a1, b1)                                                                 \
            }                                                                                                      \
        }                                                                                                          \
        ROW_END                                                                                                    \
    }                                                                                                              \
}

T512 INL void q8_0_m(KERNEL_ARGS) {
    for (int64_t j = j0; j < j1; j++) {
        ROW_START
        int64_t g = 0;
        for (; g + 2 <= groups; g += 2) {
            AHEAD(row + g * 34, 68);
            const cgroup_t G0 = c_q8_0(row + g * 34), G1 = c_q8_0(row + (g + 1) * 34);
            CACC(G0, 0, g, a0, b0)
            CACC(G1, 0, g + 1, a1, b1)
        }
        if (g < groups) { const cgroup_t G0 = c_q8_0(row + g * 34); CACC(G0, 0, g, a0, b0) }
        ROW_END
    }
}

T512 INL void q6_K_m(KERNEL_ARGS) {
    for (int64_t j = j0; j < j1; j++) {
        ROW_START
        for (int64_t sb = 0; sb < groups / 8; sb++) {
            const uint8_t *b = row + sb * 210;
            float s[16];
            q6_scales(b, s);
            for (int q = 0; q < 8; q += 2) {
                AHEAD(b + q * 26, 53);
                const cgroup_t G0 = c_q6_K(b, s, q), G1 = c_q6_K(b, s, q + 1);
                CACC(G0, 1, sb * 8 + q, a0, b0)
                CACC(G1, 1, sb * 8 + q + 1, a1, b1)
            }
        }
        ROW_END
    }
}

DEFINE_TGEMV(q4_0, t_q4_0, 18, 0)
DEFINE_TGEMV(q4_1, t_q4_1, 20, 0)
DEFINE_TGEMV(q5_0, t_q5_0, 22, 1)
DEFINE_TGEMV(q5_1, t_q5_1, 24, 1)
DEFINE_KGEMV(q4_K, t_q4_K, 144, 0)
DEFINE_KGEMV(q5_K, t_q5_K, 176, 1)

// Float rows (k a multiple of 16 handled in vectors, the tail in scalars).
#define DEFINE_FGEMV(NAME, LOAD, SCALAR, SIZE)                                                                     \
T512 INL void NAME##_m(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, const float *x,    \
                       int64_t ldx, const int M, float *y, int64_t ldy, int accumulate) {                          \
    for (int64_t j = j0; j < j1; j++) {                                                                            \
        const uint8_t *row = w + j * row_bytes;                                                                    \
        __m512 a0[LNQ_MAX_ROWS], a1[LNQ_MAX_ROWS];                                                                 \
        for (int r = 0; r < M; r++) a0[r] = a1[r] = _mm512_setzero_ps();                                           \
        int64_t i = 0;                                                                                             \
        for (; i + 32 <= k; i += 32) {                                                                             \
            AHEAD(row + SIZE * i, 32 * SIZE);                                                                      \
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

DEFINE_FGEMV(f32, f_f32, s_f32, 4)
DEFINE_FGEMV(f16, f_f16, s_f16, 2)
DEFINE_FGEMV(bf16, f_bf16, s_bf16, 2)

#define CASES(FN, ...) switch (m) { \
    case 1: FN(__VA_ARGS__, 1); break; case 2: FN(__VA_ARGS__, 2); break; case 3: FN(__VA_ARGS__, 3); break; \
    case 4: FN(__VA_ARGS__, 4); break; case 5: FN(__VA_ARGS__, 5); break; case 6: FN(__VA_ARGS__, 6); break; \
    case 7: FN(__VA_ARGS__, 7); break; case 8: FN(__VA_ARGS__, 8); break; default: break; }

#define QCALL(NAME, MM) NAME##_m(w, row_bytes, groups, j0, j1, x, ldx, MM, y, ldy, accumulate)
#define QRUN(NAME) T512 static void NAME##_run(const uint8_t *w, int64_t row_bytes, int64_t groups, int64_t j0, int64_t j1, \
    const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) { CASES(QCALL, NAME) }
QRUN(q8_0) QRUN(q4_0) QRUN(q4_1) QRUN(q5_0) QRUN(q5_1) QRUN(q4_K) QRUN(q5_K) QRUN(q6_K)

#define FCALL(NAME, MM) NAME##_m(w, row_bytes, k, j0, j1, x, ldx, MM, y, ldy, accumulate)
#define FRUN(NAME) T512 static void NAME##_run(const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1, \
    const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) { CASES(FCALL, NAME) }
FRUN(f32) FRUN(f16) FRUN(bf16)

// Dequantisation into float32 (the tiles of many-row products), bit for bit ggml's values: the
// same tables and products as above, stored 16 at a time.
T512 INL void store_t(float *o, const tgroup_t *G, int wide) {
    const __m512i il = _mm512_cvtepu8_epi32(G->lo), ih = _mm512_cvtepu8_epi32(G->hi);
    _mm512_storeu_ps(o, wide ? _mm512_permutex2var_ps(G->t0, il, G->t1) : _mm512_permutexvar_ps(il, G->t0));
    _mm512_storeu_ps(o + 16, wide ? _mm512_permutex2var_ps(G->t0, ih, G->t1) : _mm512_permutexvar_ps(ih, G->t0));
}

T512 INL void store_c(float *o, const cgroup_t *G) { // s·q, as ggml multiplies
    _mm512_storeu_ps(o, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(G->lo)), _mm512_set1_ps(G->s0)));
    _mm512_storeu_ps(o + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(G->hi)), _mm512_set1_ps(G->s1)));
}

int lnq_dequant512_has(uint32_t type) {
    switch (type) {
    case 2: case 3: case 6: case 7: case 8: case 12: case 13: case 14: return 1;
    default: return 0;
    }
}

T512 void lnq_dequant_avx512(uint32_t type, const uint8_t *x, float *y, int64_t n) {
    const int64_t groups = n / 32;
    switch (type) {
    case 2: for (int64_t g = 0; g < groups; g++) { const tgroup_t G = t_q4_0(x + g * 18); store_t(y + 32 * g, &G, 0); } break;
    case 3: for (int64_t g = 0; g < groups; g++) { const tgroup_t G = t_q4_1(x + g * 20); store_t(y + 32 * g, &G, 0); } break;
    case 6: for (int64_t g = 0; g < groups; g++) { const tgroup_t G = t_q5_0(x + g * 22); store_t(y + 32 * g, &G, 1); } break;
    case 7: for (int64_t g = 0; g < groups; g++) { const tgroup_t G = t_q5_1(x + g * 24); store_t(y + 32 * g, &G, 1); } break;
    case 8: for (int64_t g = 0; g < groups; g++) { const cgroup_t G = c_q8_0(x + g * 34); store_c(y + 32 * g, &G); } break;
    case 12: case 13:
        for (int64_t sb = 0; sb < groups / 8; sb++) {
            const uint8_t *b = x + sb * (type == 12 ? 144 : 176);
            kscales_t S;
            k_scales(b, &S);
            for (int j = 0; j < 8; j++) {
                const tgroup_t G = type == 12 ? t_q4_K(b, &S, j) : t_q5_K(b, &S, j);
                store_t(y + 256 * sb + 32 * j, &G, type == 13);
            }
        }
        break;
    case 14:
        for (int64_t sb = 0; sb < groups / 8; sb++) {
            const uint8_t *b = x + sb * 210;
            float sc[16];
            q6_scales(b, sc);
            for (int j = 0; j < 8; j++) { const cgroup_t G = c_q6_K(b, sc, j); store_c(y + 256 * sb + 32 * j, &G); }
        }
        break;
    default: break;
    }
}

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
    switch (type) {
    case 8: q8_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 2: q4_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 3: q4_1_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 6: q5_0_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 7: q5_1_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 12: q4_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 13: q5_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    case 14: q6_K_run(w, row_bytes, groups, j0, j1, x, ldx, m, y, ldy, accumulate); break;
    default: break;
    }
}
#else
int lnq_fused512_has(uint32_t type) { (void)type; return 0; }
int lnq_dequant512_has(uint32_t type) { (void)type; return 0; }
void lnq_dequant_avx512(uint32_t type, const uint8_t *x, float *y, int64_t n) { (void)type; (void)x; (void)y; (void)n; }
void lnq_gemv_avx512(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                     const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate) {
    (void)type; (void)w; (void)row_bytes; (void)k; (void)j0; (void)j1; (void)x; (void)ldx; (void)m; (void)y; (void)ldy; (void)accumulate;
}
#endif
