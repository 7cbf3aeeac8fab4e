import Foundation

/// An all-vector float32 `exp` for the PLND inner loop, for arguments ≤ 0 (the kernel shifts by
/// the maximum). Same range reduction and Cephes polynomial as `Kernels.FastMath.exp` (≤ 2 ulp),
/// but the rounding to an integer and the `2^k` scale use the 1.5·2²³ "magic number" trick, so
/// no lane-by-lane conversion is emitted (the generic `SIMD8<Int32>(_:)` and `rounded(_:)`
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
        var p = SIMD8<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let ki = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        return p * unsafeBitCast((ki &+ 127) &<< 23, to: SIMD8<Float>.self)
    }
}
