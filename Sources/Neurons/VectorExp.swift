import Foundation

/// An all-vector float32 `exp` for the PLND inner loop, for arguments ≤ 0 (the kernel shifts by
/// the maximum). Same range reduction as `Kernels.FastMath.exp` with a degree-5 polynomial
/// (relative error ≤ 1.7e-7, two multiply-adds fewer than Cephes' degree 7). The rounding to an
/// integer and the `2^k` scale use the 1.5·2²³ "magic number" trick, so no lane-by-lane
/// conversion is emitted (the generic `SIMD8<Int32>(_:)` and `rounded(_:)`
/// compile to per-lane library calls). Inputs below −87.34 give 2⁻¹²⁶ ≈ 1.2e-38 instead of 0,
/// which no PLND sum can notice.
enum VectorExp {
    @inline(__always)
    static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let lo = SIMD8<Float>(repeating: -87.3365447504)
        var xc = x
        xc.replace(with: lo, where: x .< lo)
        // t = round(x·log2 e) + 1.5·2²³: the integer lands in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12582912)
        let t = xc * 1.44269504088896341 + magic
        let k = t - magic
        var r = xc - k * 0.693359375
        r = r - k * -2.12194440e-4
        // e^r ≈ 1 + r + r²·(c0 + c1·r + c2·r² + c3·r³) on |r| ≤ ln2/2: a relative-error minimax fit
        // (Lawson-weighted least squares, our own), max relative error 1.7e-7 in float32.
        var p = SIMD8<Float>(repeating: 0.00831253)
        p = p * r + 0.04189011
        p = p * r + 0.16667114
        p = p * r + 0.4999923
        p = p * (r * r) + r + 1
        let ki = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        return p * unsafeBitCast((ki &+ 127) &<< 23, to: SIMD8<Float>.self)
    }
}
