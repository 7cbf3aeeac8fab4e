import Foundation

/// RMSNorm over the last dimension: `y = x / sqrt(mean(x²) + eps) · w`.
/// The effective weight `w` is passed in (Gemma's `1 + w` is folded in at load time).
public enum RMSNorm {
    /// - Parameters:
    ///   - y: output `[rows, dim]` (may alias `x`)
    ///   - rstd: saved `1/sqrt(mean(x²)+eps)` per row, `[rows]` (nil when not training)
    ///   - x: input `[rows, dim]`
    ///   - weight: `[dim]`
    public static func forward(y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>?,
                               x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows: Int, dim: Int, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * dim
            let yr = y + r * dim
            var ss: Float = 0
            for i in 0..<dim { ss += xr[i] * xr[i] }
            let s = 1 / (ss / Float(dim) + eps).squareRoot()
            rstd?[r] = s
            for i in 0..<dim { yr[i] = xr[i] * s * weight[i] }
        }
    }

    /// Gradient with respect to the input (norm weights are frozen here).
    /// - Parameters:
    ///   - dx: output `[rows, dim]`; written, or added to when `accumulate`
    ///   - dy: upstream gradient `[rows, dim]`
    ///   - x, weight, rstd: as saved by `forward`
    public static func backward(dx: UnsafeMutablePointer<Float>, dy: UnsafePointer<Float>,
                                x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                rows: Int, dim: Int, accumulate: Bool) {
        let invDim = 1 / Float(dim)
        for r in 0..<rows {
            let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
            let s = rstd[r]
            var dot: Float = 0
            for i in 0..<dim { dot += dyr[i] * weight[i] * xr[i] }
            let c = dot * s * s * s * invDim
            if accumulate {
                for i in 0..<dim { dxr[i] += dyr[i] * weight[i] * s - xr[i] * c }
            } else {
                for i in 0..<dim { dxr[i] = dyr[i] * weight[i] * s - xr[i] * c }
            }
        }
    }
}
