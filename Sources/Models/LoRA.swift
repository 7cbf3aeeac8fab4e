import Foundation
import Kernels

/// A low-rank update of one weight `W [out, in]` (Hu et al. 2021, as PEFT implements it):
/// `W' = W + (alpha / rank) · B · A` with `A [rank, in]`, `B [out, rank]`. Forward and backward
/// are written out (no autograd) so that they can be added next to the trainable-slice gradients.
public struct LoRAShape: Equatable, Sendable {
    public let inDim: Int
    public let outDim: Int
    public let rank: Int
    public let alpha: Float
    public var scale: Float { alpha / Float(rank) }
    /// Trainable parameters: A and B.
    public var parameterCount: Int { rank * (inDim + outDim) }

    public init(inDim: Int, outDim: Int, rank: Int, alpha: Float) {
        self.inDim = inDim; self.outDim = outDim; self.rank = rank; self.alpha = alpha
    }
}

public enum LoRA {
    /// `Y[T, out] += scale · (X · Aᵀ) · Bᵀ`; `xa [T, rank]` receives `X · Aᵀ`, kept for the backward pass.
    public static func forward(_ s: LoRAShape, y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows T: Int,
                               a: UnsafePointer<Float>, b: UnsafePointer<Float>, xa: UnsafeMutablePointer<Float>) {
        BLAS.gemm(transB: true, m: T, n: s.rank, k: s.inDim, a: x, lda: s.inDim, b: a, ldb: s.inDim, beta: 0, c: xa, ldc: s.rank)
        BLAS.gemm(transB: true, m: T, n: s.outDim, k: s.rank, alpha: s.scale, a: xa, lda: s.rank, b: b, ldb: s.rank,
                  beta: 1, c: y, ldc: s.outDim)
    }

    /// Gradients for `dY [T, out]`: `dB += scale · dYᵀ · XA`, `dA += scale · (dY · B)ᵀ · X`, and
    /// when `dX` is given `dX += scale · (dY · B) · A`. `scratch` holds `T · rank` floats.
    public static func backward(_ s: LoRAShape, dY: UnsafePointer<Float>, x: UnsafePointer<Float>, xa: UnsafePointer<Float>, rows T: Int,
                                a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                dA: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>,
                                dX: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        // dB [out, rank] += scale · dYᵀ [out, T] · XA [T, rank]
        BLAS.gemm(transA: true, m: s.outDim, n: s.rank, k: T, alpha: s.scale, a: dY, lda: s.outDim, b: xa, ldb: s.rank,
                  beta: 1, c: dB, ldc: s.rank)
        // G [T, rank] = scale · dY · B
        BLAS.gemm(m: T, n: s.rank, k: s.outDim, alpha: s.scale, a: dY, lda: s.outDim, b: b, ldb: s.rank, beta: 0, c: scratch, ldc: s.rank)
        // dA [rank, in] += Gᵀ · X
        BLAS.gemm(transA: true, m: s.rank, n: s.inDim, k: T, a: scratch, lda: s.rank, b: x, ldb: s.inDim, beta: 1, c: dA, ldc: s.inDim)
        if let dX {
            BLAS.gemm(m: T, n: s.inDim, k: s.rank, a: scratch, lda: s.rank, b: a, ldb: s.inDim, beta: 1, c: dX, ldc: s.inDim)
        }
    }

    /// PEFT's initialisation: A as `nn.Linear` (Kaiming-uniform with a = √5, i.e. U(−1/√in, 1/√in)),
    /// B zero, so that the adapted model starts equal to the base. Deterministic in `seed` (SplitMix64).
    public static func initialise(_ s: LoRAShape, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, seed: UInt64) {
        let bound = 1 / Double(s.inDim).squareRoot()
        var state = seed
        for i in 0..<(s.rank * s.inDim) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let u = Double(z >> 11) / Double(1 << 53) // [0, 1)
            a[i] = Float((2 * u - 1) * bound)
        }
        b.update(repeating: 0, count: s.outDim * s.rank)
    }

    /// `W [out, in] += scale · B · A` (merging the adapter for evaluation), or `-=` with `subtract`.
    public static func merge(_ s: LoRAShape, into w: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                             subtract: Bool = false) {
        BLAS.gemm(m: s.outDim, n: s.inDim, k: s.rank, alpha: subtract ? -s.scale : s.scale, a: b, lda: s.rank, b: a, ldb: s.inDim,
                  beta: 1, c: w, ldc: s.inDim)
    }

    /// The rank (≥ 1) whose parameters, `rank · Σ (in + out)` over the adapted matrices, are closest
    /// to `target` (ties: the smaller rank).
    public static func rank(closestTo target: Int, perRank: Int) -> Int {
        guard perRank > 0 else { return 1 }
        let lo = max(1, target / perRank), hi = lo + 1
        return abs(lo * perRank - target) <= abs(hi * perRank - target) ? lo : hi
    }
}
