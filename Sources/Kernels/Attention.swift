import CQuant
import Foundation

/// Shape of one grouped-query causal attention call.
public struct AttentionShape {
    /// Query rows in this call, at absolute positions `firstPosition ..< firstPosition + queries`.
    public var queries: Int
    /// Key/value rows, at positions `0 ..< keys` (a KV cache plus the new rows).
    public var keys: Int
    public var firstPosition: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var scale: Float
    /// Sliding window (a query at position t sees keys s with t − s < window); 0 = unlimited.
    public var window: Int

    public init(queries: Int, keys: Int, firstPosition: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float, window: Int) {
        self.queries = queries
        self.keys = keys
        self.firstPosition = firstPosition
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.scale = scale
        self.window = window
    }

    /// The range of key positions query row `i` may attend to.
    @inline(__always)
    public func allowedKeys(row i: Int) -> Range<Int> {
        let t = firstPosition + i
        let lo = window > 0 ? max(0, t - window + 1) : 0
        return lo..<min(t + 1, keys)
    }

    var qStride: Int { heads * headDim }
    var kvStride: Int { kvHeads * headDim }
    var group: Int { heads / kvHeads }
}

/// Softmax attention over BLAS: `z_h = softmax(scale · q_h k_gᵀ + mask) v_g`, head h reading kv head g = h / (heads/kvHeads).
public enum Attention {
    /// - Parameters:
    ///   - z: output `[queries, heads·headDim]`
    ///   - probs: attention probabilities `[heads, queries, keys]`; kept for the backward pass and for PLND
    ///   - q: `[queries, heads·headDim]` (after RoPE)
    ///   - k, v: `[keys, kvHeads·headDim]` (k after RoPE)
    public static func forward(z: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               shape s: AttentionShape) {
        let T = s.queries, L = s.keys, hd = s.headDim
        if T <= fewQueries {
            forwardFew(z: z, probs: probs, q: q, k: k, v: v, shape: s)
            return
        }
        for h in 0..<s.heads {
            let g = h / s.group
            let p = probs + h * T * L
            BLAS.gemm(transB: true, m: T, n: L, k: hd, alpha: s.scale, a: q + h * hd, lda: s.qStride,
                      b: k + g * hd, ldb: s.kvStride, c: p, ldc: L)
            for i in 0..<T {
                softmaxRow(p + i * L, count: L, allowed: s.allowedKeys(row: i))
            }
            BLAS.gemm(m: T, n: hd, k: L, a: p, lda: L, b: v + g * hd, ldb: s.kvStride, c: z + h * hd, ldc: s.qStride)
        }
    }

    /// Query counts up to this (decoding steps) take `forwardFew`.
    public static let fewQueries = 8

    /// `forward` for a few query rows: dot products and row updates over the allowed keys only,
    /// no BLAS call per head (which would cost more than the arithmetic and wake BLAS's threads).
    static func forwardFew(z: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                           q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, shape s: AttentionShape) {
        let T = s.queries, L = s.keys, hd = s.headDim
        for h in 0..<s.heads {
            let g = h / s.group
            for i in 0..<T {
                let p = probs + (h * T + i) * L, qi = q + i * s.qStride + h * hd
                let allowed = s.allowedKeys(row: i)
                let l0 = Int64(allowed.lowerBound), l1 = Int64(allowed.upperBound)
                lnq_attend_scores(p, qi, k + g * hd, Int64(s.kvStride), l0, l1, Int64(hd), s.scale)
                softmaxRow(p, count: L, allowed: allowed)
                lnq_attend_mix(z + i * s.qStride + h * hd, p, v + g * hd, Int64(s.kvStride), l0, l1, Int64(hd))
            }
        }
    }

    /// In-place masked softmax of one row: entries outside `allowed` become 0.
    @inline(__always)
    public static func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int, allowed: Range<Int>) {
        let a = row + allowed.lowerBound
        let m = FastMath.max(a, count: allowed.count)
        let sum = Float(FastMath.expShifted(a, a, count: allowed.count, shift: m))
        let inv = 1 / sum
        for j in 0..<allowed.lowerBound { row[j] = 0 }
        for j in allowed { row[j] *= inv }
        for j in allowed.upperBound..<count { row[j] = 0 }
    }

    /// Backward of `forward`.
    /// - Parameters:
    ///   - dq: output `[queries, heads·headDim]` (overwritten)
    ///   - dk, dv: outputs `[keys, kvHeads·headDim]` (overwritten)
    ///   - scratch: `[queries, keys]` work space
    ///   - dz: upstream gradient `[queries, heads·headDim]`
    ///   - probs, q, k, v: as in `forward`
    public static func backward(dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                scratch: UnsafeMutablePointer<Float>, dz: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                shape s: AttentionShape) {
        let T = s.queries, L = s.keys, hd = s.headDim
        dk.update(repeating: 0, count: L * s.kvStride)
        dv.update(repeating: 0, count: L * s.kvStride)
        for h in 0..<s.heads {
            let g = h / s.group
            let p = probs + h * T * L
            // dV_g += P_hᵀ dZ_h
            BLAS.gemm(transA: true, m: L, n: hd, k: T, a: p, lda: L, b: dz + h * hd, ldb: s.qStride,
                      beta: 1, c: dv + g * hd, ldc: s.kvStride)
            // dP = dZ_h V_gᵀ, then dS = P ⊙ (dP − rowsum(P ⊙ dP))
            BLAS.gemm(transB: true, m: T, n: L, k: hd, a: dz + h * hd, lda: s.qStride, b: v + g * hd, ldb: s.kvStride,
                      c: scratch, ldc: L)
            for i in 0..<T {
                let pr = p + i * L, dr = scratch + i * L
                let allowed = s.allowedKeys(row: i)
                var dot: Float = 0
                for j in allowed { dot += pr[j] * dr[j] }
                for j in 0..<L { dr[j] = pr[j] * (dr[j] - dot) }
            }
            // dQ_h = scale · dS K_g ;  dK_g += scale · dSᵀ Q_h
            BLAS.gemm(m: T, n: hd, k: L, alpha: s.scale, a: scratch, lda: L, b: k + g * hd, ldb: s.kvStride,
                      c: dq + h * hd, ldc: s.qStride)
            BLAS.gemm(transA: true, m: L, n: hd, k: T, alpha: s.scale, a: scratch, lda: L, b: q + h * hd, ldb: s.qStride,
                      beta: 1, c: dk + g * hd, ldc: s.kvStride)
        }
    }
}
