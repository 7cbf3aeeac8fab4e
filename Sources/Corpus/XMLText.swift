#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decoding of XML character data: the five predefined entities and numeric references.
enum XMLText {
    enum DecodeError: Error { case badEntity(String) }

    /// Decodes `src` into `dst` (capacity ≥ `src.count`); returns the decoded length.
    /// Throws on an unknown entity (`&nbsp;` is not XML) or a malformed reference.
    static func decode(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) throws -> Int {
        let n = src.count
        var i = 0
        var o = 0
        while i < n {
            guard let amp = copyUntil(UInt8(ascii: "&"), src, from: i, into: dst, at: &o) else { return o }
            i = amp
            var j = i + 1
            while j < n, j - i < 12, src[j] != UInt8(ascii: ";") { j += 1 }
            guard j < n, src[j] == UInt8(ascii: ";") else {
                throw DecodeError.badEntity(snippet(src, i))
            }
            let name = UnsafeBufferPointer(rebasing: src[(i + 1)..<j])
            if let b = predefined(name) {
                dst[o] = b
                o += 1
            } else if name.count >= 2, name[0] == UInt8(ascii: "#"),
                      let scalar = numericReference(UnsafeBufferPointer(rebasing: name[1...])),
                      isXMLChar(scalar) {
                o += UTF8Encoding.encode(scalar, into: dst + o)
            } else {
                throw DecodeError.badEntity(snippet(src, i))
            }
            i = j + 1
        }
        return o
    }

    /// Decoded string; bad entities and bad UTF-8 are kept/replaced rather than rejected.
    static func decodeLossy(_ src: UnsafeBufferPointer<UInt8>) -> String {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(src.count, 1))
        defer { buffer.deallocate() }
        if let n = try? decode(src, into: buffer) {
            return String(decoding: UnsafeBufferPointer(start: buffer, count: n), as: UTF8.self)
        }
        return String(decoding: src, as: UTF8.self)
    }

    private static func snippet(_ src: UnsafeBufferPointer<UInt8>, _ i: Int) -> String {
        let e = min(src.count, i + 12)
        return String(decoding: UnsafeBufferPointer(rebasing: src[i..<e]), as: UTF8.self)
    }

    @inline(__always)
    private static func predefined(_ name: UnsafeBufferPointer<UInt8>) -> UInt8? {
        switch name.count {
        case 2:
            if name[1] == UInt8(ascii: "t") {
                if name[0] == UInt8(ascii: "l") { return UInt8(ascii: "<") }
                if name[0] == UInt8(ascii: "g") { return UInt8(ascii: ">") }
            }
        case 3:
            if name[0] == UInt8(ascii: "a"), name[1] == UInt8(ascii: "m"), name[2] == UInt8(ascii: "p") { return UInt8(ascii: "&") }
        case 4:
            if name[0] == UInt8(ascii: "q"), name[1] == UInt8(ascii: "u"), name[2] == UInt8(ascii: "o"), name[3] == UInt8(ascii: "t") { return UInt8(ascii: "\"") }
            if name[0] == UInt8(ascii: "a"), name[1] == UInt8(ascii: "p"), name[2] == UInt8(ascii: "o"), name[3] == UInt8(ascii: "s") { return UInt8(ascii: "'") }
        default: break
        }
        return nil
    }

    /// `123` or `x7B` (after the `#`) → scalar value, or nil when malformed.
    static func numericReference(_ digits: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard !digits.isEmpty else { return nil }
        var value: UInt32 = 0
        if digits[0] == UInt8(ascii: "x") || digits[0] == UInt8(ascii: "X") {
            guard digits.count >= 2, digits.count <= 7 else { return nil }
            for d in digits.dropFirst() {
                let v: UInt8
                switch d {
                case 48...57: v = d - 48
                case 97...102: v = d - 87
                case 65...70: v = d - 55
                default: return nil
                }
                value = value * 16 + UInt32(v)
            }
        } else {
            guard digits.count <= 8 else { return nil }
            for d in digits {
                guard d >= 48, d <= 57 else { return nil }
                value = value * 10 + UInt32(d - 48)
            }
        }
        guard value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return nil }
        return value
    }

    private static func isXMLChar(_ v: UInt32) -> Bool {
        v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v != 0xFFFE && v != 0xFFFF)
    }
}

/// UTF-8 encoding of a scalar value into raw memory.
enum UTF8Encoding {
    /// Writes 1–4 bytes; returns how many.
    @inline(__always)
    static func encode(_ v: UInt32, into p: UnsafeMutablePointer<UInt8>) -> Int {
        if v < 0x80 {
            p[0] = UInt8(v)
            return 1
        } else if v < 0x800 {
            p[0] = UInt8(0xC0 | (v >> 6))
            p[1] = UInt8(0x80 | (v & 0x3F))
            return 2
        } else if v < 0x10000 {
            p[0] = UInt8(0xE0 | (v >> 12))
            p[1] = UInt8(0x80 | ((v >> 6) & 0x3F))
            p[2] = UInt8(0x80 | (v & 0x3F))
            return 3
        } else {
            p[0] = UInt8(0xF0 | (v >> 18))
            p[1] = UInt8(0x80 | ((v >> 12) & 0x3F))
            p[2] = UInt8(0x80 | ((v >> 6) & 0x3F))
            p[3] = UInt8(0x80 | (v & 0x3F))
            return 4
        }
    }
}
