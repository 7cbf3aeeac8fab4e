// Block dequantisers, included twice by cquant.c: once plain (SUFFIX _ref) and once compiled
// for AVX2/FMA/F16C (SUFFIX _avx2) so the compiler vectorises the same loops. Layouts and
// formulas are those of ggml's reference dequantisation, re-derived in this project (see
// Sources/ModelIO/Dequant+*.swift, which these must match bit for bit; tested). Float
// operations keep ggml's order; contraction into FMA is off for the whole file.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SUFFIX)

ATTR static inline float FN(h2f)(const uint8_t *p) { return HALF_TO_FLOAT((uint16_t)(p[0] | (p[1] << 8))); }

ATTR static void FN(dq_f32)(const uint8_t *restrict x, float *restrict y, int64_t n) { memcpy(y, x, (size_t)n * 4); }

ATTR static void FN(dq_f16)(const uint8_t *restrict x, float *restrict y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = HALF_TO_FLOAT((uint16_t)(x[2 * i] | (x[2 * i + 1] << 8)));
}

ATTR static void FN(dq_bf16)(const uint8_t *restrict x, float *restrict y, int64_t n) {
    const uint16_t *s = (const uint16_t *)x; // little-endian host; unaligned access is fine on x86/arm64
    uint32_t *o = (uint32_t *)y;
    for (int64_t i = 0; i < n; i++) { uint16_t v; memcpy(&v, s + i, 2); o[i] = (uint32_t)v << 16; }
}

ATTR static void FN(dq_q8_0)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 34;
        const float d = FN(h2f)(blk);
        const int8_t *q = (const int8_t *)(blk + 2);
        float *o = y + b * 32;
        for (int j = 0; j < 32; j++) o[j] = (float)q[j] * d;
    }
}

ATTR static void FN(dq_q4_0)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 18;
        const float d = FN(h2f)(blk);
        const uint8_t *qs = blk + 2;
        float *o = y + b * 32;
        for (int j = 0; j < 16; j++) o[j] = (float)((int)(qs[j] & 0x0F) - 8) * d;
        for (int j = 0; j < 16; j++) o[j + 16] = (float)((int)(qs[j] >> 4) - 8) * d;
    }
}

ATTR static void FN(dq_q4_1)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 20;
        const float d = FN(h2f)(blk), m = FN(h2f)(blk + 2);
        const uint8_t *qs = blk + 4;
        float *o = y + b * 32;
        for (int j = 0; j < 16; j++) o[j] = (float)(qs[j] & 0x0F) * d + m;
        for (int j = 0; j < 16; j++) o[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
}

ATTR static void FN(dq_q5_0)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 22;
        const float d = FN(h2f)(blk);
        uint32_t qh; memcpy(&qh, blk + 2, 4);
        const uint8_t *qs = blk + 6;
        float *o = y + b * 32;
        for (int j = 0; j < 16; j++) {
            const uint32_t v = qs[j];
            const uint32_t lo = (v & 0x0F) | (((qh >> j) << 4) & 0x10);
            const uint32_t hi = (v >> 4) | ((qh >> (j + 12)) & 0x10);
            o[j] = (float)((int32_t)lo - 16) * d;
            o[j + 16] = (float)((int32_t)hi - 16) * d;
        }
    }
}

ATTR static void FN(dq_q5_1)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 24;
        const float d = FN(h2f)(blk), m = FN(h2f)(blk + 2);
        uint32_t qh; memcpy(&qh, blk + 4, 4);
        const uint8_t *qs = blk + 8;
        float *o = y + b * 32;
        for (int j = 0; j < 16; j++) {
            const uint32_t v = qs[j];
            const uint32_t lo = (v & 0x0F) | (((qh >> j) << 4) & 0x10);
            const uint32_t hi = (v >> 4) | ((qh >> (j + 12)) & 0x10);
            o[j] = (float)lo * d + m;
            o[j + 16] = (float)hi * d + m;
        }
    }
}

ATTR static void FN(dq_q2_K)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 84;
        const uint8_t *sc = blk;
        const float d = FN(h2f)(blk + 80), dmin = FN(h2f)(blk + 82);
        float *o = y + b * 256;
        const uint8_t *q = blk + 16;
        int is = 0;
        for (int h = 0; h < 2; h++) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const uint8_t s = sc[is++];
                    const float dl = d * (float)(s & 0x0F), ml = dmin * (float)(s >> 4);
                    const uint8_t *qq = q + 16 * half;
                    for (int l = 0; l < 16; l++) o[l] = dl * (float)((qq[l] >> shift) & 3) - ml;
                    o += 16;
                }
            }
            q += 32;
        }
    }
}

ATTR static inline int32_t FN(q3_scale)(int k, const uint8_t *s) {
    const uint8_t low = k < 8 ? (s[k] & 0x0F) : (s[k - 8] >> 4);
    const uint8_t high = (s[8 + (k & 3)] >> (2 * (k >> 2))) & 3;
    return (int32_t)(low | (high << 4)) - 32;
}

ATTR static void FN(dq_q3_K)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 110;
        const uint8_t *hm = blk, *s = blk + 96;
        const uint8_t *q = blk + 32;
        const float dall = FN(h2f)(blk + 108);
        float *o = y + b * 256;
        uint8_t mask = 1;
        int is = 0;
        for (int h = 0; h < 2; h++) {
            for (int shift = 0; shift < 8; shift += 2) {
                for (int half = 0; half < 2; half++) {
                    const float dl = dall * (float)FN(q3_scale)(is++, s);
                    const int off = 16 * half;
                    for (int l = 0; l < 16; l++) {
                        const int32_t v = (int32_t)((q[off + l] >> shift) & 3) - ((hm[off + l] & mask) ? 0 : 4);
                        o[l] = dl * (float)v;
                    }
                    o += 16;
                }
                mask <<= 1;
            }
            q += 32;
        }
    }
}

ATTR static inline void FN(scale_min_k4)(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) { *sc = q[j] & 63; *m = q[j + 4] & 63; }
    else {
        *sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

ATTR static void FN(dq_q4_K)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 144;
        const float d = FN(h2f)(blk), dmin = FN(h2f)(blk + 2);
        const uint8_t *scales = blk + 4, *q = blk + 16;
        float *o = y + b * 256;
        for (int p = 0; p < 4; p++) {
            uint8_t s1, m1b, s2, m2b;
            FN(scale_min_k4)(2 * p, scales, &s1, &m1b);
            FN(scale_min_k4)(2 * p + 1, scales, &s2, &m2b);
            const float d1 = d * (float)s1, m1 = dmin * (float)m1b;
            const float d2 = d * (float)s2, m2 = dmin * (float)m2b;
            for (int l = 0; l < 32; l++) o[l] = d1 * (float)(q[l] & 0x0F) - m1;
            for (int l = 0; l < 32; l++) o[32 + l] = d2 * (float)(q[l] >> 4) - m2;
            o += 64; q += 32;
        }
    }
}

ATTR static void FN(dq_q5_K)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 176;
        const float d = FN(h2f)(blk), dmin = FN(h2f)(blk + 2);
        const uint8_t *scales = blk + 4, *qh = blk + 16, *ql = blk + 48;
        float *o = y + b * 256;
        uint8_t u1 = 1, u2 = 2;
        for (int p = 0; p < 4; p++) {
            uint8_t s1, m1b, s2, m2b;
            FN(scale_min_k4)(2 * p, scales, &s1, &m1b);
            FN(scale_min_k4)(2 * p + 1, scales, &s2, &m2b);
            const float d1 = d * (float)s1, m1 = dmin * (float)m1b;
            const float d2 = d * (float)s2, m2 = dmin * (float)m2b;
            for (int l = 0; l < 32; l++) o[l] = d1 * (float)((ql[l] & 0x0F) + ((qh[l] & u1) ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) o[32 + l] = d2 * (float)((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
            o += 64; ql += 32; u1 <<= 2; u2 <<= 2;
        }
    }
}

ATTR static void FN(dq_q6_K)(const uint8_t *restrict x, float *restrict y, int64_t blocks) {
    for (int64_t b = 0; b < blocks; b++) {
        const uint8_t *blk = x + b * 210;
        const uint8_t *ql = blk, *qh = blk + 128;
        const int8_t *sc = (const int8_t *)(blk + 192);
        const float d = FN(h2f)(blk + 208);
        float *o = y + b * 256;
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const uint8_t hb = qh[l];
                const int32_t q1 = (int32_t)((ql[l] & 0x0F) | ((hb & 3) << 4)) - 32;
                const int32_t q2 = (int32_t)((ql[l + 32] & 0x0F) | (((hb >> 2) & 3) << 4)) - 32;
                const int32_t q3 = (int32_t)((ql[l] >> 4) | (((hb >> 4) & 3) << 4)) - 32;
                const int32_t q4 = (int32_t)((ql[l + 32] >> 4) | (((hb >> 6) & 3) << 4)) - 32;
                o[l] = d * (float)sc[is] * (float)q1;
                o[l + 32] = d * (float)sc[is + 2] * (float)q2;
                o[l + 64] = d * (float)sc[is + 4] * (float)q3;
                o[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
            o += 128; ql += 64; qh += 32; sc += 8;
        }
    }
}

/// Dequantises `n` elements (whole blocks) of `type`.
ATTR static void FN(dequant_any)(uint32_t type, const uint8_t *x, float *y, int64_t n) {
    switch (type) {
    case 0: FN(dq_f32)(x, y, n); break;
    case 1: FN(dq_f16)(x, y, n); break;
    case 30: FN(dq_bf16)(x, y, n); break;
    case 8: FN(dq_q8_0)(x, y, n / 32); break;
#ifdef LNQ_AVX2_Q4
    case 2: dq_q4_x_avx2(x, y, n / 32, 0); break;
    case 3: dq_q4_x_avx2(x, y, n / 32, 1); break;
#else
    case 2: FN(dq_q4_0)(x, y, n / 32); break;
    case 3: FN(dq_q4_1)(x, y, n / 32); break;
#endif
    case 6: FN(dq_q5_0)(x, y, n / 32); break;
    case 7: FN(dq_q5_1)(x, y, n / 32); break;
    case 10: FN(dq_q2_K)(x, y, n / 256); break;
    case 11: FN(dq_q3_K)(x, y, n / 256); break;
    case 12: FN(dq_q4_K)(x, y, n / 256); break;
    case 13: FN(dq_q5_K)(x, y, n / 256); break;
    case 14: FN(dq_q6_K)(x, y, n / 256); break;
    default: break;
    }
}

#define CHUNK 256

/// y[r*ldy + j] (+)= W[j,:] · x_r for j in [j0, j1), M rows of x (M is a compile-time constant
/// after inlining). Each row keeps AW partial sums (32 for one row, fewer for more rows so that
/// they stay in registers) so the FMA latency is hidden; the final reduction has a fixed order.
ATTR static inline __attribute__((always_inline)) void FN(gemv_m)(
    uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
    const float *x, int64_t ldx, const int M, float *y, int64_t ldy, int accumulate,
    int64_t per_block, int64_t block_bytes) {
    const int AW = M == 1 ? 32 : (M <= 3 ? 16 : 8);
    float buf[CHUNK] __attribute__((aligned(64)));
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *row = w + j * row_bytes;
        float acc[LNQ_MAX_ROWS][32];
        for (int r = 0; r < M; r++) for (int e = 0; e < AW; e++) acc[r][e] = 0;
        for (int64_t off = 0; off < k; off += CHUNK) {
            const int64_t len = k - off < CHUNK ? k - off : CHUNK;
            FN(dequant_any)(type, row + off / per_block * block_bytes, buf, len);
            {
#pragma clang fp contract(fast)
                int64_t i = 0;
                for (; i + AW <= len; i += AW) {
                    for (int r = 0; r < M; r++) {
                        const float *xr = x + r * ldx + off + i;
                        for (int e = 0; e < AW; e++) acc[r][e] += buf[i + e] * xr[e];
                    }
                }
                for (; i < len; i++) for (int r = 0; r < M; r++) acc[r][i & (AW - 1)] += buf[i] * x[r * ldx + off + i];
            }
        }
        for (int r = 0; r < M; r++) {
            for (int width = AW / 2; width >= 1; width /= 2)
                for (int e = 0; e < width; e++) acc[r][e] += acc[r][e + width];
            if (accumulate) y[r * ldy + j] += acc[r][0]; else y[r * ldy + j] = acc[r][0];
        }
    }
}

ATTR static void FN(gemv)(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                          const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate,
                          int64_t per_block, int64_t block_bytes) {
#define GEMV_CASE(MM) case MM: FN(gemv_m)(type, w, row_bytes, k, j0, j1, x, ldx, MM, y, ldy, accumulate, per_block, block_bytes); break;
    switch (m) {
    GEMV_CASE(1) GEMV_CASE(2) GEMV_CASE(3) GEMV_CASE(4) GEMV_CASE(5) GEMV_CASE(6) GEMV_CASE(7) GEMV_CASE(8)
    default: break;
    }
#undef GEMV_CASE
}

ATTR static void FN(gemv_t)(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                            const float *dy, int64_t lddy, int m, float *dx, int64_t lddx,
                            int64_t per_block, int64_t block_bytes) {
    float buf[CHUNK] __attribute__((aligned(64)));
    for (int64_t j = j0; j < j1; j++) {
        const uint8_t *row = w + j * row_bytes;
        for (int64_t off = 0; off < k; off += CHUNK) {
            const int64_t len = k - off < CHUNK ? k - off : CHUNK;
            FN(dequant_any)(type, row + off / per_block * block_bytes, buf, len);
{
#pragma clang fp contract(fast)
                for (int r = 0; r < m; r++) {
                    const float g = dy[r * lddy + j];
                    float *o = dx + r * lddx + off;
                    for (int64_t i = 0; i < len; i++) o[i] += g * buf[i];
                }
            }
        }
    }
}

#undef FN
#undef CAT
#undef CAT_
