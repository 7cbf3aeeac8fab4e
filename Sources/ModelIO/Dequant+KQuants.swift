// Dequantisation of ggml's 256-element "K" super-block formats (Q2_K … Q6_K). Layouts and
// formulas follow ggml's reference `dequantize_row_q*_K` (ggml-quants.c), re-derived here;
// float operations keep ggml's order (e.g. (d·scale)·q) so results are bit-identical.

extension GGMLDequantizer {
    /// Q2_K (84 bytes): { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin }.
    /// Each scale byte: low nibble scales, high nibble mins a 16-element group; 2-bit quants.
    static func q2_K(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 84
            let scales = blk
            let d = HalfFloat.load(blk + 80)
            let dmin = HalfFloat.load(blk + 82)
            var out = y + b * 256
            var q = blk + 16
            var isc = 0
            for _ in 0..<2 {            // two halves of 128 elements, 32 quant bytes each
                var shift: UInt8 = 0
                for _ in 0..<4 {        // four 2-bit planes
                    for half in 0..<2 { // bytes 0–15, then 16–31, each its own scale
                        let sc = scales[isc]; isc += 1
                        let dl = d * Float(sc & 0x0F)
                        let ml = dmin * Float(sc >> 4)
                        let qq = q + 16 * half
                        for l in 0..<16 {
                            out[l] = dl * Float((qq[l] >> shift) & 3) - ml
                        }
                        out += 16
                    }
                    shift += 2
                }
                q += 32
            }
        }
    }

    /// Q3_K (110 bytes): { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d }.
    /// Sixteen 6-bit scales (stored −32), 2 low quant bits in qs, the third bit in hmask
    /// (a clear bit subtracts 4).
    static func q3_K(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 110
            let hm = blk
            var q = blk + 32
            let s = blk + 96
            let dAll = HalfFloat.load(blk + 108)
            var out = y + b * 256
            var mask: UInt8 = 1
            var isc = 0
            for _ in 0..<2 {
                var shift: UInt8 = 0
                for _ in 0..<4 {
                    for half in 0..<2 {
                        let dl = dAll * Float(q3Scale(isc, s)); isc += 1
                        let o = 16 * half
                        for l in 0..<16 {
                            let low = Int32((q[o + l] >> shift) & 3)
                            let v = low - ((hm[o + l] & mask) != 0 ? 0 : 4)
                            out[l] = dl * Float(v)
                        }
                        out += 16
                    }
                    shift += 2
                    mask <<= 1
                }
                q += 32
            }
        }
    }

    /// The k-th (0…15) scale of a Q3_K block, from its 12 packed bytes `s`: the low 4 bits
    /// come from bytes 0–7 (low nibbles for k < 8, high nibbles for k ≥ 8), the high 2 bits
    /// from byte 8 + k%4 at bit 2·(k/4); stored with an offset of 32.
    @inline(__always)
    static func q3Scale(_ k: Int, _ s: UnsafePointer<UInt8>) -> Int32 {
        let low = k < 8 ? s[k] & 0x0F : s[k - 8] >> 4
        let high = (s[8 + (k & 3)] >> UInt8(2 * (k >> 2))) & 3
        return Int32(low | high << 4) - 32
    }

    /// The j-th (0…7) 6-bit scale and min of a Q4_K/Q5_K block's 12 packed bytes: entries
    /// 0–3 are the low 6 bits of bytes 0–3 / 4–7; entries 4–7 take 4 bits from bytes 8–11 and
    /// their top 2 bits from the spare high bits of bytes 0–3 / 4–7.
    @inline(__always)
    static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
        if j < 4 {
            return (q[j] & 63, q[j + 4] & 63)
        }
        return ((q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4),
                (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }

    /// Q4_K (144 bytes): { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] }; eight 32-element
    /// groups, each d·sc·q − dmin·m; a group pair shares 32 bytes (low nibbles, then high).
    static func q4_K(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 144
            let d = HalfFloat.load(blk)
            let dmin = HalfFloat.load(blk + 2)
            let scales = blk + 4
            var q = blk + 16
            var out = y + b * 256
            for pair in 0..<4 {
                let (sc1, m1b) = scaleMinK4(2 * pair, scales)
                let (sc2, m2b) = scaleMinK4(2 * pair + 1, scales)
                let d1 = d * Float(sc1), m1 = dmin * Float(m1b)
                let d2 = d * Float(sc2), m2 = dmin * Float(m2b)
                for l in 0..<32 { out[l] = d1 * Float(q[l] & 0x0F) - m1 }
                for l in 0..<32 { out[32 + l] = d2 * Float(q[l] >> 4) - m2 }
                out += 64
                q += 32
            }
        }
    }

    /// Q5_K (176 bytes): { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }; as Q4_K
    /// with a fifth bit per element in qh (group g uses bit g of qh[l]).
    static func q5_K(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 176
            let d = HalfFloat.load(blk)
            let dmin = HalfFloat.load(blk + 2)
            let scales = blk + 4
            let qh = blk + 16
            var ql = blk + 48
            var out = y + b * 256
            var u1: UInt8 = 1, u2: UInt8 = 2
            for pair in 0..<4 {
                let (sc1, m1b) = scaleMinK4(2 * pair, scales)
                let (sc2, m2b) = scaleMinK4(2 * pair + 1, scales)
                let d1 = d * Float(sc1), m1 = dmin * Float(m1b)
                let d2 = d * Float(sc2), m2 = dmin * Float(m2b)
                for l in 0..<32 {
                    let v = (ql[l] & 0x0F) + ((qh[l] & u1) != 0 ? 16 : 0)
                    out[l] = d1 * Float(v) - m1
                }
                for l in 0..<32 {
                    let v = (ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)
                    out[32 + l] = d2 * Float(v) - m2
                }
                out += 64
                ql += 32
                u1 <<= 2
                u2 <<= 2
            }
        }
    }

    /// Q6_K (210 bytes): { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d }; 6-bit quants
    /// (4 bits in ql, 2 in qh) minus 32, sixteen signed 8-bit scales; value (d·sc)·q.
    static func q6_K(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 210
            var ql = blk
            var qh = blk + 128
            var sc = blk + 192
            let d = HalfFloat.load(blk + 208)
            var out = y + b * 256
            for _ in 0..<2 {
                for l in 0..<32 {
                    let isc = l / 16
                    let h = qh[l]
                    let q1 = Int32((ql[l] & 0x0F) | ((h >> 0) & 3) << 4) - 32
                    let q2 = Int32((ql[l + 32] & 0x0F) | ((h >> 2) & 3) << 4) - 32
                    let q3 = Int32((ql[l] >> 4) | ((h >> 4) & 3) << 4) - 32
                    let q4 = Int32((ql[l + 32] >> 4) | ((h >> 6) & 3) << 4) - 32
                    out[l] = d * Float(Int8(bitPattern: sc[isc])) * Float(q1)
                    out[l + 32] = d * Float(Int8(bitPattern: sc[isc + 2])) * Float(q2)
                    out[l + 64] = d * Float(Int8(bitPattern: sc[isc + 4])) * Float(q3)
                    out[l + 96] = d * Float(Int8(bitPattern: sc[isc + 6])) * Float(q4)
                }
                out += 128
                ql += 64
                qh += 32
                sc += 8
            }
        }
    }
}
