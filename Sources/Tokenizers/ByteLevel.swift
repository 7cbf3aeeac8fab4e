/// The GPT-2 byte-level alphabet: every byte value is written as one printable Unicode scalar,
/// so a byte-level BPE vocabulary can be stored as ordinary strings.
///
/// Printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves; the remaining 68
/// bytes (controls, space, DEL, NBSP, soft hyphen) are mapped, in byte order, to U+0100 onwards
/// (so the space byte 0x20 is written `Ġ`, U+0120, and `\n` is `Ċ`).
enum ByteLevel {
    /// Scalar for each byte value.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                // Every value in 256..<324 is a valid scalar, so this cannot fail.
                table[b] = Unicode.Scalar(next) ?? "\0"
                next += 1
            }
        }
        return table
    }()

    /// Byte for each scalar of the alphabet (keyed by scalar value).
    static let scalarToByte: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    /// The raw bytes a byte-level token string stands for. Scalars outside the alphabet
    /// (which a well-formed vocabulary never contains) are kept as their own UTF-8.
    static func decode(_ token: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            if let b = scalarToByte[s.value] {
                out.append(b)
            } else {
                out.append(contentsOf: String(s).utf8)
            }
        }
        return out
    }
}
