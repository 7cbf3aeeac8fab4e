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

void lnq_axpy(float *y, float a, const float *x, int64_t n) {
#if defined(__x86_64__)
    if (lnq_kernel_level() >= 2) { axpy512(y, a, x, n); return; }
#endif
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}
