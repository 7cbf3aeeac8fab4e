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

/// LoRA adapters on some matrices of every layer, with their gradients and what the backward
/// pass keeps (`X · Aᵀ` per adapter). `Transformer.lossAndGradients(…, adapters:)` adds each
/// adapter's output in the forward pass and its gradients (and its share of the input gradient)
/// in the backward pass.
public final class LoRAAdapters {
    public let tensors: [TrainableTensor]
    public let rank: Int
    public let alpha: Float
    public let layers: Int
    /// `A [rank, in]`, `B [out, rank]` and their gradients, by layer and tensor.
    public let a, b, dA, dB: [[TrainableTensor: FloatBuffer]]
    let shapes: [TrainableTensor: LoRAShape]
    let xa: [[TrainableTensor: Scratch]]
    let scratch = Scratch()

    /// The matrix shape (`in`, `out`) of a tensor.
    public static func dims(_ t: TrainableTensor, _ c: ModelConfig) -> (inDim: Int, outDim: Int) {
        switch t {
        case .attnQ: return (c.hidden, c.qDim)
        case .attnK, .attnV: return (c.hidden, c.kvDim)
        case .attnOutput: return (c.qDim, c.hidden)
        case .ffnGate, .ffnUp: return (c.hidden, c.ffn)
        case .ffnDown: return (c.ffn, c.hidden)
        }
    }

    /// Trainable parameters per unit of rank over every layer: `Σ (in + out)`.
    public static func parametersPerRank(_ tensors: [TrainableTensor], _ c: ModelConfig) -> Int {
        c.layers * tensors.reduce(0) { let d = dims($1, c); return $0 + d.inDim + d.outDim }
    }

    /// Adapters initialised as PEFT does (B zero), one SplitMix64 stream per matrix derived from `seed`.
    public init(config c: ModelConfig, tensors: [TrainableTensor], rank: Int, alpha: Float, seed: UInt64) {
        self.tensors = Array(Set(tensors)).sorted()
        self.rank = rank
        self.alpha = alpha
        layers = c.layers
        var shapes = [TrainableTensor: LoRAShape]()
        for t in self.tensors { let d = Self.dims(t, c); shapes[t] = LoRAShape(inDim: d.inDim, outDim: d.outDim, rank: rank, alpha: alpha) }
        self.shapes = shapes
        func make(_ n: (LoRAShape) -> Int) -> [[TrainableTensor: FloatBuffer]] {
            (0..<c.layers).map { _ in Dictionary(uniqueKeysWithValues: shapes.map { ($0.key, FloatBuffer(count: n($0.value))) }) }
        }
        a = make { $0.rank * $0.inDim }; b = make { $0.outDim * $0.rank }
        dA = make { $0.rank * $0.inDim }; dB = make { $0.outDim * $0.rank }
        xa = (0..<c.layers).map { _ in Dictionary(uniqueKeysWithValues: shapes.keys.map { ($0, Scratch()) }) }
        for l in 0..<c.layers {
            for (i, t) in self.tensors.enumerated() {
                LoRA.initialise(shapes[t]!, a: a[l][t]!.pointer, b: b[l][t]!.pointer, seed: seed &+ UInt64(l * 64 + i) &* 0x9E37_79B9)
            }
        }
    }

    public var parameterCount: Int { layers * shapes.values.reduce(0) { $0 + $1.parameterCount } }

    public func zeroGradients() { for l in 0..<layers { for t in tensors { dA[l][t]!.zero(); dB[l][t]!.zero() } } }

    /// `y += scale · x Aᵀ Bᵀ` when tensor `t` of layer `l` has an adapter.
    @inline(__always)
    func forward(_ l: Int, _ t: TrainableTensor, y: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows T: Int) {
        guard let s = shapes[t] else { return }
        LoRA.forward(s, y: y, x: x, rows: T, a: a[l][t]!.pointer, b: b[l][t]!.pointer, xa: xa[l][t]!.ensure(T * s.rank))
    }

    /// Adds the adapter's gradients for `dY`, and its input gradient into `dX`.
    @inline(__always)
    func backward(_ l: Int, _ t: TrainableTensor, dY: UnsafePointer<Float>, x: UnsafePointer<Float>, rows T: Int, dX: UnsafeMutablePointer<Float>) {
        guard let s = shapes[t] else { return }
        LoRA.backward(s, dY: dY, x: x, xa: xa[l][t]!.pointer, rows: T, a: a[l][t]!.pointer, b: b[l][t]!.pointer,
                      dA: dA[l][t]!.pointer, dB: dB[l][t]!.pointer, dX: dX, scratch: scratch.ensure(T * s.rank))
    }
}
