/// Strict UTF-8 validation (no overlongs, surrogates or values above U+10FFFF), ASCII fast path.
func utf8IsValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    let n = bytes.count
    guard let p = bytes.baseAddress else { return true }
    var i = 0
    while i < n {
        // Eight ASCII bytes at a time.
        if i + 8 <= n, UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let c = p[i]
        if c < 0x80 {
            i += 1
            continue
        }
        let len: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: len = 2
        case 0xE0: len = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: len = 3
        case 0xED: len = 3; hi = 0x9F
        case 0xF0: len = 4; lo = 0x90
        case 0xF1...0xF3: len = 4
        case 0xF4: len = 4; hi = 0x8F
        default: return false
        }
        guard i + len <= n else { return false }
        let c1 = p[i + 1]
        guard c1 >= lo, c1 <= hi else { return false }
        if len >= 3, p[i + 2] & 0xC0 != 0x80 { return false }
        if len == 4, p[i + 3] & 0xC0 != 0x80 { return false }
        i += len
    }
    return true
}

/// The largest byte value in `bytes` (a vectorisable reduction). Bytes ≥ 0xF5 never occur in UTF-8.
func maximumByte(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt8 {
    var m: UInt8 = 0
    for b in bytes { m = max(m, b) }
    return m
}
