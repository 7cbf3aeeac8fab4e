// Internal to CQuant: the AVX-512 fused few-row products (fused_avx512.c).
#ifndef LANGNEURON_CQUANT_FUSED_H
#define LANGNEURON_CQUANT_FUSED_H
#include <stdint.h>

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
