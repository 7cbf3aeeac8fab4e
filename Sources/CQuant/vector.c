// Small float32 vector kernels for decoding-time attention (one query row against a KV cache),
// where a BLAS call per head costs more than the arithmetic and wakes BLAS's threads.
#include "cquant.h"
#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f")))
static float dot512(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx512f")))
static void axpy512(float *y, float a, const float *x, int64_t n) {
    const __m512 av = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

// Scores of one query against keys [l0, l1): p[j] = scale · q·k_j, k_j at k + j·ldk.
__attribute__((target("avx512f")))
static void scores512(float *p, const float *q, const float *k, int64_t ldk, int64_t l0, int64_t l1, int64_t hd, float scale) {
    for (int64_t j = l0; j < l1; j++) p[j] = scale * dot512(q, k + j * ldk, hd);
}

// z = Σ_j p[j] · v_j over [l0, l1) (z overwritten), v_j at v + j·ldv; rows of up to 256 values stay in registers.
__attribute__((target("avx512f")))
static void mix512(float *z, const float *p, const float *v, int64_t ldv, int64_t l0, int64_t l1, int64_t hd) {
    if (hd % 16 != 0 || hd > 256) {
        for (int64_t i = 0; i < hd; i++) z[i] = 0;
        for (int64_t j = l0; j < l1; j++) axpy512(z, p[j], v + j * ldv, hd);
        return;
    }
    __m512 acc[16];
    const int nv = (int)(hd / 16);
    for (int t = 0; t < nv; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t j = l0; j < l1; j++) {
        const __m512 a = _mm512_set1_ps(p[j]);
        const float *vj = v + j * ldv;
        for (int t = 0; t < nv; t++) acc[t] = _mm512_fmadd_ps(a, _mm512_loadu_ps(vj + 16 * t), acc[t]);
    }
    for (int t = 0; t < nv; t++) _mm512_storeu_ps(z + 16 * t, acc[t]);
}
#endif

static float dot_plain(const float *a, const float *b, int64_t n) {
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) for (int e = 0; e < 8; e++) s[e] += a[i + e] * b[i + e];
    float t = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++) t += a[i] * b[i];
    return t;
}

float lnq_dot(const float *a, const float *b, int64_t n) {
#if defined(__x86_64__)
    if (lnq_kernel_level() >= 2) return dot512(a, b, n);
#endif
    return dot_plain(a, b, n);
}

void lnq_attend_scores(float *p, const float *q, const float *k, int64_t ldk, int64_t l0, int64_t l1, int64_t hd, float scale) {
#if defined(__x86_64__)
    if (lnq_kernel_level() >= 2) { scores512(p, q, k, ldk, l0, l1, hd, scale); return; }
#endif
    for (int64_t j = l0; j < l1; j++) p[j] = scale * dot_plain(q, k + j * ldk, hd);
}

void lnq_attend_mix(float *z, const float *p, const float *v, int64_t ldv, int64_t l0, int64_t l1, int64_t hd) {
#if defined(__x86_64__)
    if (lnq_kernel_level() >= 2) { mix512(z, p, v, ldv, l0, l1, hd); return; }
#endif
    for (int64_t i = 0; i < hd; i++) z[i] = 0;
    for (int64_t j = l0; j < l1; j++) for (int64_t i = 0; i < hd; i++) z[i] += p[j] * v[j * ldv + i];
}

void lnq_axpy(float *y, float a, const float *x, int64_t n) {
#if defined(__x86_64__)
    if (lnq_kernel_level() >= 2) { axpy512(y, a, x, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
