/// The character classes the pre-tokenizer regexes distinguish: `\p{L}`, `\p{N}`, `\s` and the rest.
enum ScalarClass: UInt8 {
    case other = 0, letter = 1, number = 2, whitespace = 3

    /// Class of every BMP scalar, computed once (table lookups keep the pre-tokenizer fast;
    /// `Unicode.Scalar.Properties` queries are comparatively slow).
    private static let bmp: [ScalarClass] = {
        var t = [ScalarClass](repeating: .other, count: 0x10000)
        for v in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(v)) { t[v] = classify(s) }
        }
        return t
    }()

    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 0x10000 { return bmp[Int(value)] }
        guard let s = Unicode.Scalar(value) else { return .other }
        return classify(s)
    }

    private static func classify(_ s: Unicode.Scalar) -> ScalarClass {
        let p = s.properties
        if p.isWhitespace { return .whitespace }
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

/// Decodes the UTF-8 scalar starting at `i`; returns its value and length.
/// Malformed bytes decode as a one-byte scalar U+FFFD so scanning always advances.
@inline(__always)
func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (value: UInt32, length: Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    let n = p.count
    if b0 >= 0xC2 && b0 < 0xE0, i + 1 < n, p[i + 1] & 0xC0 == 0x80 {
        return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2)
    }
    if b0 >= 0xE0 && b0 < 0xF0, i + 2 < n, p[i + 1] & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80 {
        let v = (b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F)
        if v >= 0x800 && !(0xD800...0xDFFF).contains(v) { return (v, 3) }
    }
    if b0 >= 0xF0 && b0 < 0xF5, i + 3 < n, p[i + 1] & 0xC0 == 0x80, p[i + 2] & 0xC0 == 0x80, p[i + 3] & 0xC0 == 0x80 {
        let v = (b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F)
        if v >= 0x10000 && v <= 0x10FFFF { return (v, 4) }
    }
    return (0xFFFD, 1)
}
