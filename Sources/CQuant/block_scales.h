// Internal to CQuant: block-header decoding shared by fused_avx2.c and fused_avx512.c. Included
// once by each; LNQ_TARGET is that file's target attribute, so the functions compile for it.
#ifndef LNQ_TARGET
#error "define LNQ_TARGET before including block_scales.h"
#endif
#include <immintrin.h>
#include <stdint.h>

#define LNQ_INL static inline __attribute__((always_inline))

// A half-precision scale read without the compiler folding the load into an insert that depends on
// an accumulator register (which serialises the loop on the FMA latency).
LNQ_TARGET LNQ_INL float h2f(const uint8_t *p) {
    __m128i v;
    __asm__("vpbroadcastw %1, %0" : "=x"(v) : "m"(*(const uint16_t *)p));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

// K-quants: a 256-element super-block of 8 groups; scales decoded once per super-block.
typedef struct { float d[8], m[8]; } kscales_t;

// Q4_K/Q5_K sub-block scale and minimum (6 bits each, packed in 12 bytes); ggml: d1 = d·sc,
// m1 = dmin·m, w = d1·q − m1.
LNQ_TARGET LNQ_INL void k_scales(const uint8_t *b, kscales_t *S) {
    const float d = h2f(b), dmin = h2f(b + 2);
    const uint8_t *q = b + 4;
    for (int j = 0; j < 8; j++) {
        int sc, mn;
        if (j < 4) { sc = q[j] & 63; mn = q[j + 4] & 63; }
        else { sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4); mn = (q[j + 4] >> 4) | ((q[j] >> 6) << 4); }
        S->d[j] = d * (float)sc;
        S->m[j] = dmin * (float)mn;
    }
}

// Q4_K/Q5_K group j: the low 4 bits of its codes (bytes 32·(j/2) of `qs`, high nibbles for odd j).
LNQ_TARGET LNQ_INL void k_nibbles(const uint8_t *qs, int j, __m128i *lo, __m128i *hi) {
    const uint8_t *q = qs + 32 * (j >> 1);
    __m128i a = _mm_loadu_si128((const __m128i *)q), c = _mm_loadu_si128((const __m128i *)(q + 16));
    if (j & 1) { a = _mm_srli_epi16(a, 4); c = _mm_srli_epi16(c, 4); }
    const __m128i m = _mm_set1_epi8(0x0F);
    *lo = _mm_and_si128(a, m); *hi = _mm_and_si128(c, m);
}

// Q6_K scales: ggml's d·sc[i]·q is (d·sc[i])·q.
LNQ_TARGET LNQ_INL void q6_scales(const uint8_t *b, float *s) {
    const float d = h2f(b + 208);
    const int8_t *sc = (const int8_t *)(b + 192);
    for (int i = 0; i < 16; i++) s[i] = d * (float)sc[i];
}

// Q6_K group j = 4h + t: low 4 bits from ql (+32 for odd t, high nibble for t ≥ 2), bits 2t, 2t+1
// of qh as bits 4, 5; minus 32. Its halves have scales s[2j], s[2j+1].
LNQ_TARGET LNQ_INL void q6_codes(const uint8_t *b, int j, __m128i *lo, __m128i *hi) {
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
