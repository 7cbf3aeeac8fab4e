import Foundation

/// Measures this machine's single-precision matrix-multiply throughput through OpenBLAS,
/// the yardstick every throughput number in the project is reported against.
public enum SgemmPeak {
    public struct Result: Codable {
        public let size: Int
        public let gflops: Double
        public let threads: Int
        public let core: String
    }

    /// Best-of GFLOP/s for square `size`×`size` products, run for about `seconds`.
    public static func measure(size: Int = 1024, seconds: Double = 1.0) -> Result {
        let n = size
        var a = [Float](repeating: 0, count: n * n)
        var b = [Float](repeating: 0, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        for i in 0..<(n * n) {
            a[i] = Float((i * 7) % 13) * 0.01
            b[i] = Float((i * 5) % 11) * 0.01
        }
        let flops = 2.0 * Double(n) * Double(n) * Double(n)
        var best = 0.0
        let start = Date()
        var runs = 0
        while runs < 3 || Date().timeIntervalSince(start) < seconds {
            let t0 = DispatchTime.now().uptimeNanoseconds
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        BLAS.gemm(m: n, n: n, k: n, a: pa.baseAddress!, lda: n, b: pb.baseAddress!, ldb: n,
                                  c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = max(best, flops / dt / 1e9)
            runs += 1
            if runs > 1000 { break }
        }
        return Result(size: n, gflops: best, threads: BLAS.threads, core: BLAS.coreName)
    }
}
