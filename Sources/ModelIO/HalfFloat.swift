/// Exact IEEE-754 binary16 and bfloat16 → binary32 conversion done on the bit patterns, so
/// that results do not depend on whether the platform's `Float16` is available or how it is
/// lowered. Both widenings are exact: every half and bfloat16 value is representable as Float.
public enum HalfFloat {
    /// Converts IEEE binary16 bits to Float: signed zeros, subnormals, infinities and NaNs
    /// (payload kept in the top mantissa bits, as a hardware widening does) included.
    @inline(__always)
    public static func float(fromHalfBits h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        if exponent == 0 {
            // Zero or subnormal: value = mantissa · 2^-24, exact in Float (10 bits, exponent ≥ -24).
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        }
        if exponent == 0x1F {
            // Infinity (mantissa 0) or NaN (payload shifted into the Float mantissa).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }

    /// Converts bfloat16 bits (the top half of a Float) to Float.
    @inline(__always)
    public static func float(fromBFloat16Bits b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// All 65536 half values, so that converting whole F16 tensors is a table load per element.
    static let table: UnsafeMutablePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 65536)
        for i in 0..<65536 { p[i] = float(fromHalfBits: UInt16(i)) }
        return p
    }()

    /// Reads little-endian half bits at `p` (no alignment requirement) and widens them.
    @inline(__always)
    static func load(_ p: UnsafePointer<UInt8>) -> Float {
        float(fromHalfBits: UInt16(p[0]) | UInt16(p[1]) << 8)
    }
}
