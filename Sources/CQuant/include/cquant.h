// Stored-type weight kernels: dequantisation of ggml blocks and fused few-row products.
// Types use ggml's numbering (GGMLType in ModelIO, WeightStorage in Kernels).
#ifndef LANGNEURON_CQUANT_H
#define LANGNEURON_CQUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when `type` has a kernel here, else 0.
int lnq_supported(uint32_t type);

/// Elements per block and bytes per block of `type` (0, 0 when unsupported).
void lnq_block_layout(uint32_t type, int64_t *elements, int64_t *bytes);

/// Dequantises `n` elements (a whole number of blocks) of `type` from `src` into `dst`.
/// Values are bit-identical with ggml's reference dequantisation.
void lnq_dequantize(uint32_t type, const void *src, float *dst, int64_t n);

/// Fused product for a few input rows, one pass over the stored bytes:
/// for j in [j0, j1) and r in [0, m): y[r*ldy + j] (+)= sum_i W[j, i] * x[r*ldx + i],
/// where row j of W starts at `w + j*row_bytes` and holds `k` elements of `type`.
/// `m` must be at most LNQ_MAX_ROWS. Each W value is exactly its dequantised value;
/// only the summation order differs from dequantise-then-multiply.
void lnq_gemv(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
              const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate);

/// lnq_gemv over all `n` rows, split by rows into `threads` parts run by a spinning fork-join
/// pool (the caller runs one part). Results do not depend on `threads`.
void lnq_gemv_parallel(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t n,
                       const float *x, int64_t ldx, int m, float *y, int64_t ldy, int accumulate, int threads);

/// Int8 activations (opt-in, llama.cpp's decoding arithmetic; changes the numbers): bytes of the
/// scratch that lnq_quantize_q8 fills for `k` elements (`k` a multiple of 32).
int64_t lnq_q8_scratch_bytes(int64_t k);

/// 1 when lnq_gemv_q8 has a vector kernel for `type` here (Q4_0, Q8_0, Q4_K with AVX-512 VNNI).
int lnq_q8_supported(uint32_t type);

/// Rounds x[0..k) per block of 32 to int8 codes with one scale, d = max|x|/127, codes
/// round-to-nearest-even(x/d), as ggml's Q8_0; writes codes, scales and Q4_0 lane starts to `xq`,
/// laid out for lnq_gemv_q8 with weights of `type` (the layout differs between kernels).
void lnq_quantize_q8(uint32_t type, const float *x, int64_t k, void *xq);

/// One row of activations quantised by lnq_quantize_q8: for j in [j0, j1),
/// y[j] (+)= Σ_blocks d_w·d_x·Σ_i code_w·code_x (the integer sums exact). Q4_0, Q8_0 and Q4_K.
void lnq_gemv_q8(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                 const void *xq, float *y, int accumulate);

/// lnq_gemv_q8 over all `n` rows on the fork-join pool. Results do not depend on `threads`.
void lnq_gemv_q8_parallel(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t n,
                          const void *xq, float *y, int accumulate, int threads);

/// Products with int8 activations use the one-row kernels when the processor has AVX-512 VBMI
/// and this is not turned off (tests run both); lnq_gemv_q8_reference follows the choice.
void lnq_q8_allow_vbmi(int allow);
/// 1 when products with int8 activations use the one-row (VBMI) kernels.
int lnq_q8_uses_vbmi(void);

/// Plain C versions of lnq_quantize_q8 and lnq_gemv_q8 (tests).
void lnq_quantize_q8_reference(uint32_t type, const float *x, int64_t k, void *xq);
void lnq_gemv_q8_reference(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                           const void *xq, float *y, int accumulate);

/// Fused transposed product for a few rows: for r in [0, m), i in [0, k):
/// dx[r*lddx + i] += sum_{j in [j0, j1)} dy[r*lddy + j] * W[j, i].
void lnq_gemv_t(uint32_t type, const void *w, int64_t row_bytes, int64_t k, int64_t j0, int64_t j1,
                const float *dy, int64_t lddy, int m, float *dx, int64_t lddx);

/// Σ a[i]·b[i] (decoding-time attention scores).
float lnq_dot(const float *a, const float *b, int64_t n);

/// Attention scores of one query: p[j] = scale · Σ_i q[i]·k[j·ldk + i] for j in [l0, l1).
void lnq_attend_scores(float *p, const float *q, const float *k, int64_t ldk, int64_t l0, int64_t l1, int64_t hd, float scale);

/// z[i] = Σ_{j in [l0, l1)} p[j]·v[j·ldv + i] for i < hd (z overwritten).
void lnq_attend_mix(float *z, const float *p, const float *v, int64_t ldv, int64_t l0, int64_t l1, int64_t hd);

/// y[i] += a·x[i].
void lnq_axpy(float *y, float a, const float *x, int64_t n);

/// 1 when the AVX2/FMA paths are in use on this processor.
int lnq_vectorized(void);

/// Tests: 1 forces the plain C kernels even where AVX2 is available.
void lnq_set_reference_only(int on);

/// The kernel level in use: 0 plain C, 1 AVX2/FMA, 2 AVX-512 fused products.
int lnq_kernel_level(void);

/// The highest level this processor supports.
int lnq_available_level(void);

/// Caps the level (tests check each level the processor has); 2 restores the default.
void lnq_set_kernel_level(int cap);

#define LNQ_MAX_ROWS 8

#ifdef __cplusplus
}
#endif
#endif
