// Dequantisation of the plain and 32-element block formats. Block layouts and formulas
// follow ggml's reference `dequantize_row_*` (ggml-quants.c); they are re-derived here,
// with the float operations in ggml's order so that results are bit-identical.
// All kernels read little-endian bytes with no alignment requirement and write `blocks`
// whole blocks to `y`.

extension GGMLDequantizer {
    @inline(__always)
    static func u32(_ p: UnsafePointer<UInt8>) -> UInt32 {
        UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }

    static func f32(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        // Host and file are little-endian (x86_64, arm64): a byte copy is the conversion.
        UnsafeMutableRawPointer(y).copyMemory(from: x, byteCount: n * 4)
    }

    static func f16(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let table = HalfFloat.table
        for i in 0..<n {
            y[i] = table[Int(UInt16(x[2 * i]) | UInt16(x[2 * i + 1]) << 8)]
        }
    }

    static func bf16(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n {
            y[i] = Float(bitPattern: (UInt32(x[2 * i]) | UInt32(x[2 * i + 1]) << 8) << 16)
        }
    }

    /// Q8_0: { f16 d; i8 q[32] } → d·q.
    static func q8_0(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 34
            let d = HalfFloat.load(blk)
            let q = blk + 2
            let out = y + b * 32
            for j in 0..<32 {
                out[j] = Float(Int8(bitPattern: q[j])) * d
            }
        }
    }

    /// Q4_0: { f16 d; u8 qs[16] }; low nibbles are elements 0–15, high nibbles 16–31; d·(q−8).
    static func q4_0(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 18
            let d = HalfFloat.load(blk)
            let qs = blk + 2
            let out = y + b * 32
            for j in 0..<16 {
                let v = qs[j]
                out[j] = Float(Int32(v & 0x0F) - 8) * d
                out[j + 16] = Float(Int32(v >> 4) - 8) * d
            }
        }
    }

    /// Q4_1: { f16 d; f16 m; u8 qs[16] }; d·q + m.
    static func q4_1(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 20
            let d = HalfFloat.load(blk)
            let m = HalfFloat.load(blk + 2)
            let qs = blk + 4
            let out = y + b * 32
            for j in 0..<16 {
                let v = qs[j]
                out[j] = Float(v & 0x0F) * d + m
                out[j + 16] = Float(v >> 4) * d + m
            }
        }
    }

    /// Q5_0: { f16 d; u32 qh; u8 qs[16] }; bit j of qh is the fifth bit of element j; d·(q−16).
    static func q5_0(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 22
            let d = HalfFloat.load(blk)
            let qh = u32(blk + 2)
            let qs = blk + 6
            let out = y + b * 32
            for j in 0..<16 {
                let v = UInt32(qs[j])
                let lo = (v & 0x0F) | ((qh >> UInt32(j)) << 4) & 0x10
                let hi = (v >> 4) | (qh >> UInt32(j + 12)) & 0x10
                out[j] = Float(Int32(lo) - 16) * d
                out[j + 16] = Float(Int32(hi) - 16) * d
            }
        }
    }

    /// Q5_1: { f16 d; f16 m; u32 qh; u8 qs[16] }; d·q + m.
    static func q5_1(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let blk = x + b * 24
            let d = HalfFloat.load(blk)
            let m = HalfFloat.load(blk + 2)
            let qh = u32(blk + 4)
            let qs = blk + 8
            let out = y + b * 32
            for j in 0..<16 {
                let v = UInt32(qs[j])
                let lo = (v & 0x0F) | ((qh >> UInt32(j)) << 4) & 0x10
                let hi = (v >> 4) | (qh >> UInt32(j + 12)) & 0x10
                out[j] = Float(lo) * d + m
                out[j + 16] = Float(hi) * d + m
            }
        }
    }
}
