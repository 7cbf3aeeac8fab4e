import Foundation
import ModelIO
import XCTest

/// Hand-built blocks of every supported quantisation. Each test *encodes* chosen scales and
/// quants into bytes following the documented block layout (ggml-quants.c), then checks the
/// decoder against a deliberately simple per-element formula on the chosen values. The
/// expected value uses the same float32 operation order as ggml, so the check is bit-exact
/// (tolerance 0; NaN matches NaN). Scales include ±0, the smallest subnormal, ±65504 and inf.
final class DequantSyntheticTests: XCTestCase {
    /// Deterministic generator (SplitMix64) so failures reproduce.
    struct Rng {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// f16 bit patterns used as block scales: ±0, tiny subnormal, 1, -2, ±max, +inf, and normals.
    static let scaleBits: [UInt16] = [0x0000, 0x8000, 0x0001, 0x3C00, 0xC000, 0x7BFF, 0xFBFF, 0x7C00, 0x2E66, 0xA0F3, 0x1400]

    /// Reference f16 → Double, from the IEEE definition (independent of the library).
    static func halfValue(_ h: UInt16) -> Double {
        let sign: Double = h & 0x8000 != 0 ? -1 : 1
        let e = Int(h >> 10) & 31, m = Double(h & 0x3FF)
        if e == 0 { return sign * m * pow(2, -24) }
        if e == 31 { return m == 0 ? sign * .infinity : .nan }
        return sign * (1 + m / 1024) * pow(2, Double(e - 15))
    }
    static func half(_ h: UInt16) -> Float { Float(halfValue(h)) }

    static func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b[at] = UInt8(v & 0xFF); b[at + 1] = UInt8(v >> 8) }

    func check(_ type: GGMLType, blocks: [[UInt8]], expected: [Float], file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = blocks.flatMap { $0 }
        XCTAssertEqual(bytes.count, blocks.count * type.blockLayout.bytes, "block size", file: file, line: line)
        var out = [Float](repeating: 12345, count: expected.count)
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(type, bytes: raw, into: $0) }
        }
        var bad = 0
        for i in 0..<expected.count {
            let a = out[i], e = expected[i]
            if !(a.bitPattern == e.bitPattern || (a.isNaN && e.isNaN)) {
                if bad < 5 { XCTFail("\(type) element \(i) (block \(i / type.blockLayout.elements)): got \(a), expected \(e)", file: file, line: line) }
                bad += 1
            }
        }
        XCTAssertEqual(bad, 0, "\(type): \(bad) mismatching elements", file: file, line: line)
    }

    /// Block scales for block b: cycles through the extreme patterns, then random normals.
    func scale(_ b: Int, _ rng: inout Rng) -> UInt16 {
        b < Self.scaleBits.count ? Self.scaleBits[b] : UInt16(rng.int(0x7800)) | (rng.int(2) == 1 ? 0x8000 : 0)
    }

    func testQ8_0() throws {
        var rng = Rng(s: 1), blocks = [[UInt8]](), exp = [Float]()
        for b in 0..<20 {
            let d = scale(b, &rng)
            var blk = [UInt8](repeating: 0, count: 34)
            Self.put16(&blk, 0, d)
            for i in 0..<32 {
                let q = i == 0 ? -128 : (i == 1 ? 127 : rng.int(256) - 128)
                blk[2 + i] = UInt8(bitPattern: Int8(q))
                exp.append(Float(q) * Self.half(d))
            }
            blocks.append(blk)
        }
        try check(.q8_0, blocks: blocks, expected: exp)
    }

    func testQ4_0AndQ4_1() throws {
        for withMin in [false, true] {
            var rng = Rng(s: 2), blocks = [[UInt8]](), exp = [Float]()
            for b in 0..<20 {
                let d = scale(b, &rng), m = scale(19 - b, &rng)
                var blk = [UInt8](repeating: 0, count: withMin ? 20 : 18)
                Self.put16(&blk, 0, d)
                if withMin { Self.put16(&blk, 2, m) }
                let qs = withMin ? 4 : 2
                for i in 0..<32 {
                    let q = rng.int(16)
                    // Element i lives in byte i % 16: low nibble for i < 16, high nibble after.
                    blk[qs + i % 16] |= UInt8(q) << (i < 16 ? 0 : 4)
                    exp.append(withMin ? Float(q) * Self.half(d) + Self.half(m) : Float(q - 8) * Self.half(d))
                }
                blocks.append(blk)
            }
            try check(withMin ? .q4_1 : .q4_0, blocks: blocks, expected: exp)
        }
    }

    func testQ5_0AndQ5_1() throws {
        for withMin in [false, true] {
            var rng = Rng(s: 3), blocks = [[UInt8]](), exp = [Float]()
            for b in 0..<20 {
                let d = scale(b, &rng), m = scale(b + 3, &rng)
                var blk = [UInt8](repeating: 0, count: withMin ? 24 : 22)
                Self.put16(&blk, 0, d)
                if withMin { Self.put16(&blk, 2, m) }
                let qh = withMin ? 4 : 2, qs = qh + 4
                for i in 0..<32 {
                    let q = rng.int(32)
                    blk[qs + i % 16] |= UInt8(q & 15) << (i < 16 ? 0 : 4)
                    // The fifth bit of element i is bit i of the little-endian u32 qh.
                    blk[qh + i / 8] |= UInt8(q >> 4) << UInt8(i % 8)
                    exp.append(withMin ? Float(q) * Self.half(d) + Self.half(m) : Float(q - 16) * Self.half(d))
                }
                blocks.append(blk)
            }
            try check(withMin ? .q5_1 : .q5_0, blocks: blocks, expected: exp)
        }
    }

    func testQ2_K() throws {
        var rng = Rng(s: 4), blocks = [[UInt8]](), exp = [Float]()
        for b in 0..<16 {
            let d = scale(b, &rng), dmin = scale(15 - b, &rng)
            var blk = [UInt8](repeating: 0, count: 84)
            Self.put16(&blk, 80, d)
            Self.put16(&blk, 82, dmin)
            let sc = (0..<16).map { _ in rng.int(16) }, mn = (0..<16).map { _ in rng.int(16) }
            for k in 0..<16 { blk[k] = UInt8(sc[k] | mn[k] << 4) }
            for i in 0..<256 {
                let q = rng.int(4)
                // Half h of 128 elements uses bytes 32h…32h+31; plane p of it sits at bits 2p.
                let h = i / 128, p = (i % 128) / 32, t = i % 32
                blk[16 + 32 * h + t] |= UInt8(q) << UInt8(2 * p)
                let g = i / 16
                exp.append(Self.half(d) * Float(sc[g]) * Float(q) - Self.half(dmin) * Float(mn[g]))
            }
            blocks.append(blk)
        }
        try check(.q2_K, blocks: blocks, expected: exp)
    }

    func testQ3_K() throws {
        var rng = Rng(s: 5), blocks = [[UInt8]](), exp = [Float]()
        for b in 0..<16 {
            let d = scale(b, &rng)
            var blk = [UInt8](repeating: 0, count: 110)
            Self.put16(&blk, 108, d)
            let sc = (0..<16).map { k in k == 0 ? 0 : (k == 1 ? 63 : rng.int(64)) }
            for k in 0..<16 {
                // Low nibble into byte k (k < 8) or the high nibble of byte k-8; the top two
                // bits into byte 8 + k%4 at bit 2·(k/4).
                let low = UInt8(sc[k] & 15), high = UInt8(sc[k] >> 4)
                if k < 8 { blk[96 + k] |= low } else { blk[96 + k - 8] |= low << 4 }
                blk[96 + 8 + k % 4] |= high << UInt8(2 * (k / 4))
            }
            for i in 0..<256 {
                let q = rng.int(8) // value q - 4: low 2 bits in qs, third bit in hmask
                let h = i / 128, p = (i % 128) / 32, t = i % 32
                blk[32 + 32 * h + t] |= UInt8(q & 3) << UInt8(2 * p)
                blk[t] |= UInt8(q >> 2) << UInt8(4 * h + p)
                exp.append(Self.half(d) * Float(sc[i / 16] - 32) * Float(q - 4))
            }
            blocks.append(blk)
        }
        try check(.q3_K, blocks: blocks, expected: exp)
    }

    /// Packs eight 6-bit scales and mins the Q4_K/Q5_K way into 12 bytes at `at`.
    static func packK4(_ blk: inout [UInt8], _ at: Int, _ sc: [Int], _ mn: [Int]) {
        for j in 0..<4 {
            blk[at + j] = UInt8(sc[j] | (sc[j + 4] >> 4) << 6)
            blk[at + 4 + j] = UInt8(mn[j] | (mn[j + 4] >> 4) << 6)
            blk[at + 8 + j] = UInt8((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4)
        }
    }

    func testQ4_KAndQ5_K() throws {
        for five in [false, true] {
            var rng = Rng(s: 6), blocks = [[UInt8]](), exp = [Float]()
            for b in 0..<16 {
                let d = scale(b, &rng), dmin = scale(15 - b, &rng)
                var blk = [UInt8](repeating: 0, count: five ? 176 : 144)
                Self.put16(&blk, 0, d)
                Self.put16(&blk, 2, dmin)
                let sc = (0..<8).map { k in k == 7 ? 63 : rng.int(64) }, mn = (0..<8).map { k in k == 5 ? 63 : rng.int(64) }
                Self.packK4(&blk, 4, sc, mn)
                let qs = five ? 48 : 16
                for i in 0..<256 {
                    let q = rng.int(five ? 32 : 16)
                    // Group g = i/32; groups 2k and 2k+1 share bytes 32k…32k+31 (low, high nibble).
                    let g = i / 32, l = i % 32
                    blk[qs + 32 * (g / 2) + l] |= UInt8(q & 15) << (g % 2 == 0 ? 0 : 4)
                    if five { blk[16 + l] |= UInt8(q >> 4) << UInt8(g) }
                    exp.append(Self.half(d) * Float(sc[g]) * Float(q) - Self.half(dmin) * Float(mn[g]))
                }
                blocks.append(blk)
            }
            try check(five ? .q5_K : .q4_K, blocks: blocks, expected: exp)
        }
    }

    func testQ6_K() throws {
        var rng = Rng(s: 7), blocks = [[UInt8]](), exp = [Float]()
        for b in 0..<16 {
            let d = scale(b, &rng)
            var blk = [UInt8](repeating: 0, count: 210)
            Self.put16(&blk, 208, d)
            let sc = (0..<16).map { k in k == 0 ? -128 : (k == 1 ? 127 : rng.int(256) - 128) }
            for k in 0..<16 { blk[192 + k] = UInt8(bitPattern: Int8(sc[k])) }
            for i in 0..<256 {
                let q = i == 0 ? 0 : (i == 1 ? 63 : rng.int(64))
                // Half h; quarter c of it: c 0/1 low nibbles of ql[64h + l (+32)], c 2/3 high
                // nibbles; the top two bits in qh[32h + l] at bit 2c.
                let h = i / 128, c = (i % 128) / 32, l = i % 32
                blk[64 * h + l + 32 * (c % 2)] |= UInt8(q & 15) << (c < 2 ? 0 : 4)
                blk[128 + 32 * h + l] |= UInt8(q >> 4) << UInt8(2 * c)
                exp.append(Self.half(d) * Float(sc[i / 16]) * Float(q - 32))
            }
            blocks.append(blk)
        }
        try check(.q6_K, blocks: blocks, expected: exp)
    }

    /// Every one of the 65536 half bit patterns, against the IEEE definition computed in
    /// Double (exact), bit for bit, and against the platform's Float16 where it exists.
    func testHalfConversionExhaustive() throws {
        var bytes = [UInt8](), out = [Float](repeating: 0, count: 65536)
        for h in 0..<65536 { bytes.append(UInt8(h & 0xFF)); bytes.append(UInt8(h >> 8)) }
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(.f16, bytes: raw, into: $0) }
        }
        for h in 0..<65536 {
            let bits = UInt16(h)
            let ref = Self.halfValue(bits)
            let got = HalfFloat.float(fromHalfBits: bits)
            XCTAssertEqual(out[h].bitPattern, got.bitPattern, "table vs function at \(h)")
            if ref.isNaN {
                XCTAssertTrue(got.isNaN, "0x\(String(h, radix: 16)) must be NaN")
                // The sign and payload survive (as a hardware widening keeps them).
                XCTAssertEqual(got.bitPattern, (UInt32(bits & 0x8000) << 16) | 0x7F80_0000 | (UInt32(bits & 0x3FF) << 13))
            } else {
                XCTAssertEqual(got.bitPattern, Float(ref).bitPattern, "0x\(String(h, radix: 16))")
                XCTAssertEqual(Double(got), ref) // exact: every half is a Float
            }
            #if arch(x86_64) || arch(arm64)
            let platform = Float(Float16(bitPattern: bits))
            if !ref.isNaN { XCTAssertEqual(got.bitPattern, platform.bitPattern, "vs Float16 at 0x\(String(h, radix: 16))") }
            #endif
        }
        // Spot values, written out.
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x3C00), 1)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0xC000), -2)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x7BFF), 65504)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x0001), 0x1p-24)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0x7C00), .infinity)
        XCTAssertEqual(HalfFloat.float(fromHalfBits: 0xFC00), -.infinity)
        XCTAssertTrue(HalfFloat.float(fromHalfBits: 0x7E00).isNaN)
    }

    func testBF16AndF32() throws {
        var bytes = [UInt8](), out = [Float](repeating: 0, count: 65536)
        for h in 0..<65536 { bytes.append(UInt8(h & 0xFF)); bytes.append(UInt8(h >> 8)) }
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(.bf16, bytes: raw, into: $0) }
        }
        for h in 0..<65536 {
            // bfloat16 is the top half of a float32.
            XCTAssertEqual(out[h].bitPattern, UInt32(h) << 16)
        }
        XCTAssertEqual(HalfFloat.float(fromBFloat16Bits: 0x3F80), 1)
        XCTAssertEqual(HalfFloat.float(fromBFloat16Bits: 0xC0A0), -5)
        let f: [Float] = [1.5, -0.0, .infinity, 0x1p-149, -3.25e38]
        var fb = [UInt8]()
        for v in f { withUnsafeBytes(of: v.bitPattern.littleEndian) { fb.append(contentsOf: $0) } }
        var fo = [Float](repeating: 0, count: f.count)
        try fb.withUnsafeBytes { raw in try fo.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(.f32, bytes: raw, into: $0) } }
        XCTAssertEqual(fo.map(\.bitPattern), f.map(\.bitPattern))
    }

    func testUnsupportedAndMissizedInputsAreErrors() throws {
        let bytes = [UInt8](repeating: 0, count: 66)
        var out = [Float](repeating: 0, count: 256)
        XCTAssertThrowsError(try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(.iq2_xxs, bytes: raw, into: $0) }
        }) { err in
            guard case .unsupportedTensorType = err as? ModelIOError else { return XCTFail("\(err)") }
            XCTAssertTrue(err.localizedDescription.contains("IQ2_XXS"))
        }
        XCTAssertThrowsError(try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(.q8_0, bytes: raw, into: $0) }
        }) { err in
            guard case .bufferSizeMismatch = err as? ModelIOError else { return XCTFail("\(err)") }
        }
    }
}
