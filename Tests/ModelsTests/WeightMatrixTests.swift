import CQuant
import Foundation
import Kernels
@testable import ModelIO
import Models
import XCTest

/// Stored-type products against dequantise-then-multiply in Double, for every type with a kernel:
/// the C dequantiser must equal the Swift reference bit for bit (both re-derive ggml's formulas),
/// the fused few-row kernel and the tiled sgemm path must equal the Double product within
/// 2e-5 relative to Σ|w·x| (float32 summation over a few hundred terms), in both directions,
/// with odd row counts, block-count tails (cols not a multiple of the 256-element chunk, an odd
/// number of blocks for the paired AVX-512 loop) and tiles that do not divide the rows. Every
/// kernel level the processor has is checked (AVX-512, AVX2, plain C).
final class WeightMatrixTests: XCTestCase {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    struct Case { let matrix: WeightMatrix; let reference: [Float]; let storage: UnsafeMutableRawBufferPointer }

    func makeCase(_ type: GGMLType, rows: Int, blocksPerRow: Int, seed: UInt64) throws -> Case {
        let (per, bytes) = type.blockLayout
        let cols = per == 1 ? 37 * blocksPerRow : per * blocksPerRow
        let rowBytes = cols / per * bytes
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: rows * rowBytes + 1, alignment: 64)
        // Offset by one byte: stored tensors need not be aligned (GGUF alignment is 32, safetensors none).
        let data = UnsafeMutableRawBufferPointer(rebasing: storage[1..<(1 + rows * rowBytes)])
        var rng = SplitMix64(seed: seed)
        RandomBlocks.fill(type, data, scale: 0.05, rng: &rng)
        var reference = [Float](repeating: 0, count: rows * cols)
        try reference.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(type, bytes: UnsafeRawBufferPointer(data), into: $0) }
        let m = try XCTUnwrap(WeightMatrix(rows: rows, cols: cols, typeCode: type.rawValue, typeName: type.description,
                                           data: UnsafeRawPointer(data.baseAddress!), byteCount: data.count, owner: nil))
        return Case(matrix: m, reference: reference, storage: storage)
    }

    func randomRows(_ m: Int, _ k: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(m * k)).map { _ in Float(rng.nextUnit() * 2 - 1) }
    }

    /// Max over outputs of |got − exact| / Σ|terms|.
    func relativeError(_ got: [Float], exact: [Double], scale: [Double]) -> Double {
        zip(zip(got, exact), scale).map { abs(Double($0.0) - $0.1) / max($1, 1e-30) }.max() ?? 0
    }

    func checkProducts(_ c: Case, label: String) {
        let W = c.matrix, n = W.rows, k = W.cols
        // Dequantisation: bit-identical with the Swift reference.
        var deq = [Float](repeating: 0, count: n * k)
        deq.withUnsafeMutableBufferPointer { W.dequantize(rows: 0..<n, into: $0.baseAddress!) }
        XCTAssertEqual(deq.map(\.bitPattern), c.reference.map(\.bitPattern), "\(label): C dequantisation differs from the Swift reference")
        for m in [1, 2, 3, 5, 8, 9, 33] {
            let x = randomRows(m, k, seed: UInt64(m))
            var exact = [Double](repeating: 0, count: m * n), mag = [Double](repeating: 0, count: m * n)
            for r in 0..<m { for j in 0..<n { var s = 0.0, a = 0.0
                for i in 0..<k { let t = Double(c.reference[j * k + i]) * Double(x[r * k + i]); s += t; a += abs(t) }
                exact[r * n + j] = s; mag[r * n + j] = a } }
            var y = [Float](repeating: 7, count: m * n)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { W.linear($0.baseAddress!, xp.baseAddress!, m: m) } }
            XCTAssertLessThan(relativeError(y, exact: exact, scale: mag), 2e-5, "\(label) forward m=\(m)")
            // accumulate adds to what is there
            var y2 = [Float](repeating: 1, count: m * n)
            x.withUnsafeBufferPointer { xp in y2.withUnsafeMutableBufferPointer { W.linear($0.baseAddress!, xp.baseAddress!, m: m, accumulate: true) } }
            XCTAssertLessThan(relativeError(y2.map { $0 - 1 }, exact: exact, scale: mag.map { $0 + 1e-6 }), 2e-5, "\(label) forward accumulate m=\(m)")

            let dy = randomRows(m, n, seed: UInt64(100 + m))
            var exactT = [Double](repeating: 0, count: m * k), magT = [Double](repeating: 0, count: m * k)
            for r in 0..<m { for j in 0..<n { let g = Double(dy[r * n + j]); for i in 0..<k {
                let t = g * Double(c.reference[j * k + i]); exactT[r * k + i] += t; magT[r * k + i] += abs(t) } } }
            var dx = [Float](repeating: 7, count: m * k)
            dy.withUnsafeBufferPointer { dp in dx.withUnsafeMutableBufferPointer { W.linearTransposed($0.baseAddress!, dp.baseAddress!, m: m) } }
            XCTAssertLessThan(relativeError(dx, exact: exactT, scale: magT), 2e-5, "\(label) backward m=\(m)")
        }
    }

    /// The opt-in int8-activation products (decoding only, `generate --int8-activations`): the
    /// vector kernel equals its plain C version to float rounding (1e-6 of Σ|w·x|); against the exact
    /// product it stays within what rounding x to 8 bits allows (Σ|w|·d/2 per block, d = max|x|/127,
    /// plus 1e-5 of Σ|w·x|) and does move the numbers; threads do not change it; it is off unless
    /// asked, and a type without an int8 kernel keeps the exact product bit for bit.
    func testInt8ActivationProducts() throws {
        try XCTSkipUnless(WeightMatrix.hasInt8ActivationKernels, "no AVX-512 VNNI on this processor")
        defer { WeightMatrix.int8Activations = false }
        defer { lnq_q8_allow_vbmi(1) }
        // Each type has two kernels: one row at a time in groups of eight blocks (AVX-512 VBMI, where
        // the processor has it) and four rows side by side; each is checked against its plain version.
        lnq_q8_allow_vbmi(1)
        let oneRow = lnq_q8_uses_vbmi() != 0
        var cases: [(GGMLType, Bool, Int)] = []
        for blocks in [3, 8, 19] { // no group of eight, one and no tail, two and a tail of three
            for type in [GGMLType.q4_0, .q8_0] {
                cases.append((type, false, blocks))
                if oneRow { cases.append((type, true, blocks)) }
            }
        }
        // Q4_K has one kernel (no VBMI needed): one, two and three super-blocks of 256.
        for blocks in [1, 2, 3] { cases.append((.q4_K, false, blocks)) }
        for (type, vbmi, blocks) in cases {
            let label = "\(type), \(blocks) blocks, \(vbmi || type == .q4_K ? "one-row" : "four-row") kernel"
            lnq_q8_allow_vbmi(vbmi ? 1 : 0)
            XCTAssertEqual(lnq_q8_uses_vbmi() != 0, vbmi)
            // 37 rows: groups of four and a tail.
            let c = try makeCase(type, rows: 37, blocksPerRow: blocks, seed: 11 + UInt64(blocks))
            defer { c.storage.deallocate() }
            let W = c.matrix, n = W.rows, k = W.cols
            XCTAssertTrue(W.hasInt8ActivationKernel)
            var x = randomRows(1, k, seed: 5).map { $0 * 3 }
            for i in 32..<64 { x[i] = 0 } // an all-zero block (scale 0)
            let d = (0..<(k / 32)).map { b in Double((x[(32 * b)..<(32 * b + 32)].map { abs($0) }.max() ?? 0) / 127) }
            var exact = [Double](repeating: 0, count: n), mag = exact, bound = exact
            for j in 0..<n { for i in 0..<k {
                let w = Double(c.reference[j * k + i])
                exact[j] += w * Double(x[i]); mag[j] += abs(w * Double(x[i])); bound[j] += abs(w) * d[i / 32] / 2 } }
            func product() -> [Float] {
                var y = [Float](repeating: 7, count: n)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { W.linear($0.baseAddress!, xp.baseAddress!, m: 1) } }
                return y
            }
            WeightMatrix.int8Activations = false
            let off = product()
            XCTAssertLessThan(relativeError(off, exact: exact, scale: mag), 2e-5, "\(label) exact product")
            WeightMatrix.int8Activations = true
            let on = product()
            XCTAssertNotEqual(on.map(\.bitPattern), off.map(\.bitPattern), "\(label): int8 activations were not used")
            for j in 0..<n {
                XCTAssertLessThanOrEqual(abs(Double(on[j]) - exact[j]), bound[j] + 1e-5 * mag[j], "\(label) row \(j) beyond the 8-bit rounding bound")
            }
            // The plain C quantiser and product, and the thread count.
            let bytes = Int(lnq_q8_scratch_bytes(Int64(k)))
            var vec = [UInt8](repeating: 0, count: bytes), plain = vec
            x.withUnsafeBufferPointer { xp in
                vec.withUnsafeMutableBytes { lnq_quantize_q8(type.rawValue, xp.baseAddress!, Int64(k), $0.baseAddress!) }
                plain.withUnsafeMutableBytes { lnq_quantize_q8_reference(type.rawValue, xp.baseAddress!, Int64(k), $0.baseAddress!) }
            }
            XCTAssertEqual(vec, plain, "\(label): vector and plain quantisation differ")
            var ref = [Float](repeating: 0, count: n), one = ref, three = ref
            plain.withUnsafeBytes { q in
                lnq_gemv_q8_reference(type.rawValue, W.data, Int64(W.rowBytes), Int64(k), 0, Int64(n), q.baseAddress!, &ref, 0)
                lnq_gemv_q8_parallel(type.rawValue, W.data, Int64(W.rowBytes), Int64(k), Int64(n), q.baseAddress!, &one, 0, 1)
                lnq_gemv_q8_parallel(type.rawValue, W.data, Int64(W.rowBytes), Int64(k), Int64(n), q.baseAddress!, &three, 0, 3)
            }
            XCTAssertLessThan(relativeError(on, exact: ref.map(Double.init), scale: mag), 1e-6, "\(label): vector kernel vs plain C")
            if vbmi || type == .q4_K { // its plain version follows it lane for lane, fused multiply-adds included
                XCTAssertEqual(on.map(\.bitPattern), ref.map(\.bitPattern), "\(label) (one row): vector kernel vs its plain mirror")
            }
            XCTAssertEqual(one.map(\.bitPattern), on.map(\.bitPattern))
            XCTAssertEqual(three.map(\.bitPattern), one.map(\.bitPattern), "\(label): threads changed the result")
        }
        // Q6_K has no int8 kernel: the flag leaves it exact, bit for bit.
        let c = try makeCase(.q6_K, rows: 9, blocksPerRow: 2, seed: 3)
        defer { c.storage.deallocate() }
        let x = randomRows(1, c.matrix.cols, seed: 2)
        func product() -> [UInt32] {
            var y = [Float](repeating: 0, count: c.matrix.rows)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { c.matrix.linear($0.baseAddress!, xp.baseAddress!, m: 1) } }
            return y.map(\.bitPattern)
        }
        WeightMatrix.int8Activations = false
        let off = product()
        WeightMatrix.int8Activations = true
        XCTAssertFalse(c.matrix.hasInt8ActivationKernel)
        XCTAssertEqual(product(), off)
    }

    func testEveryTypeBothDirectionsBothKernels() throws {
        let savedTile = WeightMatrix.tileBytes
        defer { WeightMatrix.tileBytes = savedTile; WeightMatrix.capKernelLevel(.avx512) }
        for type in Self.types {
            // 37 rows; 9 small blocks = 288 columns (one 256 chunk + a 32 tail), 3 K blocks = 768.
            let blocks = type.blockLayout.elements == 256 ? 3 : (type.blockLayout.elements == 1 ? 1 : 9)
            let c = try makeCase(type, rows: 37, blocksPerRow: blocks, seed: UInt64(type.rawValue) + 11)
            defer { c.storage.deallocate() }
            // Tiles of 16 rows: 37 = 16 + 16 + 5.
            WeightMatrix.tileBytes = 16 * c.matrix.cols * 4
            for level in WeightMatrix.availableKernelLevels.reversed() {
                WeightMatrix.capKernelLevel(level)
                checkProducts(c, label: "\(type) (\(level.name))")
            }
        }
    }

    /// The split over threads does not change a bit (each output row is computed by one thread).
    func testFusedProductIsIndependentOfThreadCount() throws {
        let c = try makeCase(.q4_K, rows: 300, blocksPerRow: 2, seed: 5)
        defer { c.storage.deallocate() }
        let x = randomRows(2, c.matrix.cols, seed: 9)
        func run(_ workers: Int) -> [Float] {
            let saved = WeightMatrix.workers
            defer { WeightMatrix.workers = saved }
            WeightMatrix.workers = workers
            var y = [Float](repeating: 0, count: 2 * c.matrix.rows)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { c.matrix.linear($0.baseAddress!, xp.baseAddress!, m: 2) } }
            return y
        }
        XCTAssertEqual(run(1).map(\.bitPattern), run(3).map(\.bitPattern))
    }

    /// Types without a kernel are refused (the loader turns nil into a named error).
    func testUnsupportedTypeIsRefused() {
        let b = [UInt8](repeating: 0, count: 1024)
        b.withUnsafeBytes { raw in
            XCTAssertNil(WeightMatrix(rows: 2, cols: 256, typeCode: GGMLType.iq2_xxs.rawValue, typeName: "IQ2_XXS",
                                      data: raw.baseAddress!, byteCount: raw.count, owner: nil))
            // Too few bytes for the shape.
            XCTAssertNil(WeightMatrix(rows: 100, cols: 256, typeCode: GGMLType.q4_0.rawValue, typeName: "Q4_0",
                                      data: raw.baseAddress!, byteCount: raw.count, owner: nil))
        }
    }
}
