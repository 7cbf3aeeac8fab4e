import Foundation
import Kernels

/// The softmax part of the query/key importance (method §3).
///
/// For one query row with probabilities `p[s]` over its `n` allowed keys and, per unit `e`, the
/// score change `Δ[s,e]` that zeroing `e` causes, it adds to `out[e]`
/// `Σ_s (p[s] − softmax_s(S[s] − scale·Δ[s,e]))²`. Because `p = softmax(S)`, the new
/// distribution is `p[s]·x[s] / Σ p·x` with `x[s] = exp(−scale·Δ[s,e] − shift)`, so the raw scores
/// are not needed; the shift (the largest exponent over `s`) keeps every `x ≤ 1`.
enum QKSoftmaxKernel {
    /// - Parameters:
    ///   - delta: `Δ` as `[n, ld]`, preserved.
    ///   - expd: scratch `[n, ld]`.
    ///   - coef: per-unit multiplier of `Δ` in the exponent (`−scale`, or `−scale·q[e]`), `[ld]`.
    ///   - lo, hi: per-unit min and max of `Δ` over the `n` rows, `[ld]`.
    ///   - acc: scratch `[ld]`; on return holds the row's importance per unit.
    @inline(__always)
    static func run(delta: UnsafePointer<Float>, expd: UnsafeMutablePointer<Float>, n: Int, ld: Int, headDim: Int,
                    p: UnsafePointer<Float>, coef: UnsafePointer<Float>, lo: UnsafePointer<Float>, hi: UnsafePointer<Float>,
                    z: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>) {
        let rd = UnsafeRawPointer(delta), rx = UnsafeMutableRawPointer(expd)
        let rowBytes = ld * 4
        var j = 0
        while j < ld {
            let c = UnsafeRawPointer(coef).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            let l8 = UnsafeRawPointer(lo).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            let h8 = UnsafeRawPointer(hi).loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
            // The largest exponent c·Δ over s is c·max Δ for c ≥ 0 and c·min Δ otherwise.
            var shift = c * h8
            shift.replace(with: c * l8, where: c .< 0)
            var zs = SIMD8<Float>(repeating: 0)
            var off = j * 4
            for s in 0..<n {
                let d = rd.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                let x = FastMath.expNonPositive(c * d - shift)
                rx.storeBytes(of: x, toByteOffset: off, as: SIMD8<Float>.self)
                zs += p[s] * x
                off += rowBytes
            }
            UnsafeMutableRawPointer(z).storeBytes(of: zs, toByteOffset: j * 4, as: SIMD8<Float>.self)
            let inv = 1 / zs
            var a = SIMD8<Float>(repeating: 0)
            off = j * 4
            for s in 0..<n {
                let x = UnsafeRawPointer(rx).loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                let ps = p[s]
                let diff = ps * (1 - x * inv)
                a += diff * diff
                off += rowBytes
            }
            UnsafeMutableRawPointer(acc).storeBytes(of: a, toByteOffset: j * 4, as: SIMD8<Float>.self)
            j += 8
        }
        // Underflow guard: when every p·x is tiny (the new scores dwarf the old ones), redo the unit in
        // Double through log-probabilities. Practically never taken.
        for e in 0..<headDim where !(z[e] >= 1e-30) || !acc[e].isFinite {
            acc[e] = Float(exactUnit(delta: delta + e, stride: ld, n: n, p: p, coef: Double(coef[e])))
        }
    }

    /// `Σ_s (p[s] − softmax_s(log p[s] + coef·Δ[s]))²` in Double.
    static func exactUnit(delta: UnsafePointer<Float>, stride: Int, n: Int, p: UnsafePointer<Float>, coef: Double) -> Double {
        var m = -Double.infinity
        for s in 0..<n where p[s] > 0 { m = max(m, Foundation.log(Double(p[s])) + coef * Double(delta[s * stride])) }
        guard m.isFinite else { return 0 }
        var zsum = 0.0
        for s in 0..<n where p[s] > 0 { zsum += Foundation.exp(Foundation.log(Double(p[s])) + coef * Double(delta[s * stride]) - m) }
        var total = 0.0
        for s in 0..<n {
            let q = p[s] > 0 ? Foundation.exp(Foundation.log(Double(p[s])) + coef * Double(delta[s * stride]) - m) / zsum : 0
            let d = Double(p[s]) - q
            total += d * d
        }
        return total
    }
}
