// Internal to CQuant: the AVX-512 fused few-row products (fused_avx512.c).
#ifndef LANGNEURON_CQUANT_FUSED_H
#define LANGNEURON_CQUANT_FUSED_H
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#ifndef LNQ_PREFETCH_AHEAD
#define LNQ_PREFETCH_AHEAD 8192
#endif
// Rows are read front to back and lie one after another, so the weights are one linear stream.
// The hardware prefetchers alone leave a core waiting on memory (Q4_0: 7.3 GB/s streamed against
// 10.6 in cache; 10.3 with this), so each step also asks for the lines a fixed distance ahead of
// the `n` bytes it reads (a prefetch never faults, past the end of the matrix too). Into L2, not
// L1 (likely because an L1 prefetch holds one of the core's few L1 miss slots for a whole memory
// latency): the int8 Q4_0 kernel streamed at 11 GB/s on one core with L1 prefetches at any
// distance, and at 20-21 with L2 prefetches 6-16 KB ahead (AMD Zen 4; the seven products of a 7B
// layer, 32 layers).
#define AHEAD(p, n) do { for (int o_ = 0; o_ < (n); o_ += 64) _mm_prefetch((const char *)(p) + o_ + LNQ_PREFETCH_AHEAD, _MM_HINT_T1); } while (0)
#endif

/// IEEE half to float in plain C (cquant.c), for code that cannot assume F16C.
float lnq_half_to_float(uint16_t h);

/// 1 when fused_avx512.c has a kernel for `type`.
int lnq_fused512_has(uint32_t type);

/// lnq_gemv for AVX-512 processors (the caller checked the processor and the type).
void lnq_gemv_avx512(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                     const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate);
/// 1 when fused_avx512.c dequantises `type`.
int lnq_dequant512_has(uint32_t type);

/// Dequantises `n` elements (whole blocks) of `type`, bit for bit as the plain dequantiser.
void lnq_dequant_avx512(uint32_t type, const uint8_t *x, float *y, int64_t n);
/// 1 when fused_avx2.c has a kernel for `type`.
int lnq_fused2_has(uint32_t type);

/// lnq_gemv for AVX2/FMA/F16C processors (the caller checked the processor and the type).
void lnq_gemv_avx2_fused(uint32_t type, const uint8_t *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                         const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate);
#endif
