/// Random, valid ggml-encoded tensor data: quant bits are uniform random, every f16 scale
/// field gets a finite value of about `scale`. For kernel tests and for shaped benchmark
/// models (weights whose distribution does not matter, only their type and size).
public enum RandomBlocks {
    /// Byte offsets of the f16 scale/min fields inside one block of `type`.
    public static func halfFields(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q2_K: return [80, 82]
        case .q3_K: return [108]
        case .q6_K: return [208]
        default: return []
        }
    }

    /// Fills `bytes` (a whole number of blocks of `type`) with random valid data. F32/F16/BF16
    /// get values uniform in ±`scale`.
    public static func fill<G: RandomNumberGenerator>(_ type: GGMLType, _ bytes: UnsafeMutableRawBufferPointer, scale: Float, rng: inout G) {
        func half(_ v: Float) -> UInt16 { Float16(v).bitPattern }
        func uniform() -> Float { Float(Double(rng.next() >> 11) / Double(1 << 53)) * 2 - 1 }
        switch type {
        case .f32:
            for i in 0..<(bytes.count / 4) { bytes.storeBytes(of: (scale * uniform()).bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for i in 0..<(bytes.count / 2) { bytes.storeBytes(of: half(scale * uniform()).littleEndian, toByteOffset: 2 * i, as: UInt16.self) }
        case .bf16:
            for i in 0..<(bytes.count / 2) {
                bytes.storeBytes(of: UInt16((scale * uniform()).bitPattern >> 16).littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        default:
            var i = 0
            while i + 8 <= bytes.count { bytes.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self); i += 8 }
            while i < bytes.count { bytes[i] = UInt8(truncatingIfNeeded: rng.next()); i += 1 }
            let blockBytes = type.blockLayout.bytes
            let fields = halfFields(type)
            for b in 0..<(bytes.count / blockBytes) {
                for (n, f) in fields.enumerated() {
                    // Scales positive; mins (second field) of either sign.
                    let v = n == 0 ? scale * (0.5 + 0.5 * abs(uniform())) : scale * uniform()
                    bytes.storeBytes(of: half(v).littleEndian, toByteOffset: b * blockBytes + f, as: UInt16.self)
                }
            }
        }
    }
}
