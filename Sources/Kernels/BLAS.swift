import CBLAS
import Foundation

/// Thin wrapper over OpenBLAS's CBLAS interface. All matrices are row-major.
public enum BLAS {
    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, where `op(A)` is `m×k` and `op(B)` is `k×n`.
    /// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            // BLAS would leave C scaled by beta; do it explicitly so callers need not special-case.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        if m <= gemvRows {
            // A few rows (decoding a few tokens): one matrix-vector product per row reads op(B)
            // once per row, where sgemm would first pack all of it — slower below ~8 rows
            // (measured on gemma3-270m decoding: 52 tokens/s at 1 row, 29 with sgemm at 2).
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            for i in 0..<m {
                let row = transA ? a + i : a + i * lda, inc = Int32(transA ? lda : 1)
                if transB {
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb), row, inc, beta, c + i * ldc, 1)
                } else {
                    cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), alpha, b, Int32(ldb), row, inc, beta, c + i * ldc, 1)
                }
            }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Products with at most this many rows go through sgemv, one row at a time.
    public static let gemvRows = 4

    /// `Y[m×n] (+)= X[m×k] · Wᵀ` for a weight `W` stored `[n, k]` (PyTorch's `[out, in]`).
    @inline(__always)
    public static func linear(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              m: Int, n: Int, k: Int, accumulate: Bool = false) {
        gemm(transB: true, m: m, n: n, k: k, a: x, lda: k, b: w, ldb: k, beta: accumulate ? 1 : 0, c: y, ldc: n)
    }

    /// The OpenBLAS kernel in use (e.g. "Haswell", "SkylakeX").
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }
    /// OpenBLAS build configuration string.
    public static var config: String { openblas_get_config().map { String(cString: $0) } ?? "unknown" }
    /// Threads OpenBLAS will use.
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// Processors OpenBLAS sees.
    public static var processors: Int { Int(openblas_get_num_procs()) }
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
}
