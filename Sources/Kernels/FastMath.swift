import Foundation

/// Vectorised float32 exponential: range reduction to `x = k·ln2 + r`, |r| ≤ ln2/2, a degree-6
/// polynomial for e^r (the classic Cephes `expf` coefficients), and `2^k` built in the exponent
/// bits. Relative error ≤ 2 ulp over the whole float range; inputs below −87.3 give exactly 0,
/// so masked (−∞) entries vanish.
public enum FastMath {
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let hi = SIMD8<Float>(repeating: 88.3762626647949)
        let lo = SIMD8<Float>(repeating: -87.3365447504)
        var xc = x
        xc.replace(with: hi, where: x .> hi)
        xc.replace(with: lo, where: x .< lo)
        // Rounding and the 2^k scale go through the 1.5·2²³ "magic number": adding it leaves
        // round(x·log2 e) in the low mantissa bits. (The generic SIMD Int32 conversion and
        // `rounded` compile to per-lane calls; this stays in vector registers.)
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
        var y = p * unsafeBitCast((ki &+ 127) &<< 23, to: SIMD8<Float>.self)
        y.replace(with: 0, where: x .< lo)
        return y
    }

    /// Scalar version of `exp(_:)` (same numbers as one lane).
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD8<Float>(repeating: x))[0] }

    /// `y[i] = exp(x[i] − shift)` for `count` elements; returns the sum of the results (Double).
    @inline(__always)
    public static func expShifted(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int, shift: Float) -> Double {
        var acc = SIMD8<Float>(repeating: 0)
        var total = 0.0
        var i = 0
        let s = SIMD8<Float>(repeating: shift)
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        var block = 0
        while i + 8 <= count {
            let v = exp(rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - s)
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            acc += v
            i += 8
            block += 1
            // flush partial sums to Double every 4096 elements to keep float rounding small
            if block == 512 { total += Double(acc.sum()); acc = .zero; block = 0 }
        }
        total += Double(acc.sum())
        while i < count { let v = exp(x[i] - shift); y[i] = v; total += Double(v); i += 1 }
        return total
    }

    /// Maximum of `count` elements (−∞ when empty).
    @inline(__always)
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var m = SIMD8<Float>(repeating: -.infinity)
        var i = 0
        let rx = UnsafeRawPointer(x)
        while i + 8 <= count {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            m.replace(with: v, where: v .> m)
            i += 8
        }
        var r = m.max()
        while i < count { r = Swift.max(r, x[i]); i += 1 }
        return r
    }

    /// An all-vector float32 `exp` for the PLND inner loop, for arguments ≤ 0 (the kernel shifts by
    /// the maximum). Same range reduction as `exp(_:)` with a degree-5 polynomial
    /// (relative error ≤ 1.7e-7, two multiply-adds fewer than Cephes' degree 7). The rounding to an
    /// integer and the `2^k` scale use the 1.5·2²³ "magic number" trick, so no lane-by-lane
    /// conversion is emitted (the generic `SIMD8<Int32>(_:)` and `rounded(_:)`
    /// compile to per-lane library calls). Inputs below −87.34 give 2⁻¹²⁶ ≈ 1.2e-38 instead of 0,
    /// which no PLND sum can notice.
    @inlinable @inline(__always)
    public static func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
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
