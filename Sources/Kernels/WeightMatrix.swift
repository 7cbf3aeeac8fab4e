import CQuant
import Foundation

/// A weight matrix `W [rows, cols]` (PyTorch's `[out, in]`) kept in the element type it is
/// stored in (ggml's F32/F16/BF16/Q4_0…Q6_K), usually straight from a memory-mapped model file:
/// it is never copied to float32 as a whole. Products dequantise it on the fly:
/// - many input rows: cache-sized tiles of W are dequantised into a reused float32 scratch and
///   each tile goes through sgemm (the dequantisation is amortised over the rows);
/// - a few input rows (decoding): a fused kernel dequantises each block in registers/L1 and
///   accumulates, one pass over the stored bytes, split over the cores by output row.
/// Every W value is exactly its dequantised value; only the summation order differs from
/// dequantise-then-multiply. Aligned float32 storage is used in place by BLAS.
public final class WeightMatrix {
    /// Output units (rows of W).
    public let rows: Int
    /// Input units (row length).
    public let cols: Int
    /// ggml type number of the stored elements.
    public let typeCode: UInt32
    /// ggml's name of the stored type ("Q4_K", "BF16", …).
    public let typeName: String
    /// Start of row 0; row j starts at `data + j * rowBytes`.
    public let data: UnsafeRawPointer
    public let rowBytes: Int
    /// Keeps the mapping or buffer that holds `data` alive.
    private let owner: AnyObject?
    /// Float32 storage usable by BLAS directly (4-byte aligned F32 rows).
    public let floats: UnsafePointer<Float>?

    /// Bytes the stored matrix occupies.
    public var storedBytes: Int { rows * rowBytes }

    /// Products with at most this many input rows use the fused kernel.
    public static let fusedRows = Int(LNQ_MAX_ROWS)

    /// Whether this build has kernels for a ggml type number.
    public static func supports(typeCode: UInt32) -> Bool { lnq_supported(typeCode) != 0 }

    /// Wraps stored bytes. `data` must hold `rows` rows of `cols` elements of `typeCode`
    /// (`cols` a multiple of the type's block size); `owner` is retained for as long as the
    /// matrix lives. Returns nil when the type has no kernel or the sizes do not fit.
    public init?(rows: Int, cols: Int, typeCode: UInt32, typeName: String, data: UnsafeRawPointer, byteCount: Int, owner: AnyObject?) {
        var per: Int64 = 0, bytes: Int64 = 0
        lnq_block_layout(typeCode, &per, &bytes)
        guard per > 0, rows >= 0, cols > 0, cols % Int(per) == 0 else { return nil }
        let rb = cols / Int(per) * Int(bytes)
        let (total, overflow) = rows.multipliedReportingOverflow(by: rb)
        guard !overflow, total <= byteCount else { return nil }
        self.rows = rows
        self.cols = cols
        self.typeCode = typeCode
        self.typeName = typeName
        self.data = data
        self.rowBytes = rb
        self.owner = owner
        if typeCode == 0, Int(bitPattern: data) % MemoryLayout<Float>.alignment == 0 {
            floats = data.assumingMemoryBound(to: Float.self)
        } else {
            floats = nil
        }
    }

    /// A float32 matrix that owns its buffer (`buffer.count == rows * cols`).
    public init(floats buffer: FloatBuffer, rows: Int, cols: Int) {
        precondition(buffer.count == rows * cols, "WeightMatrix: buffer holds \(buffer.count) values, not \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        typeCode = 0
        typeName = "F32"
        data = UnsafeRawPointer(buffer.pointer)
        rowBytes = cols * 4
        owner = buffer
        floats = UnsafePointer(buffer.pointer)
    }

    /// Dequantises rows `range` into `out` (`range.count * cols` values).
    public func dequantize(rows range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "WeightMatrix: rows \(range) of \(rows)")
        guard !range.isEmpty else { return }
        if let f = floats { out.update(from: f + range.lowerBound * cols, count: range.count * cols); return }
        lnq_dequantize(typeCode, data + range.lowerBound * rowBytes, out, Int64(range.count * cols))
    }

    /// The element at (`row`, `col`), dequantised.
    public func value(row: Int, col: Int) -> Float {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { buf in
            dequantize(rows: row..<(row + 1), into: buf.baseAddress!)
            return buf[col]
        }
    }

    /// `Y[m×rows] (+)= X[m×cols] · Wᵀ`; X and Y are dense row-major.
    public func linear(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int, accumulate: Bool = false) {
        guard m > 0, rows > 0 else { return }
        if let f = floats {
            BLAS.linear(y, x, f, m: m, n: rows, k: cols, accumulate: accumulate)
            return
        }
        if m == 1, Self.int8Activations, cols % 32 == 0, lnq_q8_supported(typeCode) != 0 {
            // Scratch of ~2.1 bytes per input (codes, block scales, Q4_0 lane starts).
            withUnsafeTemporaryAllocation(byteCount: Int(lnq_q8_scratch_bytes(Int64(cols))), alignment: 64) { xq in
                lnq_quantize_q8(typeCode, x, Int64(cols), xq.baseAddress!)
                lnq_gemv_q8_parallel(typeCode, data, Int64(rowBytes), Int64(cols), Int64(rows), xq.baseAddress!, y,
                                     accumulate ? 1 : 0, Int32(Self.parts(work: rows * cols, units: rows)))
            }
            return
        }
        if m <= Self.fusedRows {
            lnq_gemv_parallel(typeCode, data, Int64(rowBytes), Int64(cols), Int64(rows), x, Int64(cols), Int32(m), y, Int64(rows),
                              accumulate ? 1 : 0, Int32(Self.parts(work: rows * cols, units: rows)))
            return
        }
        forEachTile { j0, n, tile in
            BLAS.gemm(transB: true, m: m, n: n, k: cols, a: x, lda: cols, b: tile, ldb: cols,
                      beta: accumulate ? 1 : 0, c: y + j0, ldc: rows)
        }
    }

    /// `dX[m×cols] (+)= dY[m×rows] · W` (the input gradient of `linear`).
    public func linearTransposed(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, m: Int, accumulate: Bool = false) {
        guard m > 0 else { return }
        guard rows > 0 else {
            if !accumulate { dx.update(repeating: 0, count: m * cols) }
            return
        }
        if let f = floats {
            BLAS.gemm(m: m, n: cols, k: rows, a: dy, lda: rows, b: f, ldb: cols, beta: accumulate ? 1 : 0, c: dx, ldc: cols)
            return
        }
        if m <= Self.fusedRows {
            if !accumulate { dx.update(repeating: 0, count: m * cols) }
            lnq_gemv_t(typeCode, data, Int64(rowBytes), Int64(cols), 0, Int64(rows), dy, Int64(rows), Int32(m), dx, Int64(cols))
            return
        }
        forEachTile { j0, n, tile in
            BLAS.gemm(m: m, n: cols, k: n, a: dy + j0, lda: rows, b: tile, ldb: cols,
                      beta: accumulate || j0 > 0 ? 1 : 0, c: dx, ldc: cols)
        }
    }

    /// Dequantises W a tile at a time into the shared scratch: `body(firstRow, rowCount, tile)`.
    private func forEachTile(_ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        WeightMatrix.tileLock.lock()
        defer { WeightMatrix.tileLock.unlock() }
        let tn = tileRows
        let tile = WeightMatrix.tileScratch.ensure(tn * cols)
        var j0 = 0
        while j0 < rows {
            let n = min(tn, rows - j0)
            dequantizeTile(j0..<(j0 + n), into: tile)
            body(j0, n, tile)
            j0 += n
        }
    }

    /// Rows per dequantised tile: about `tileBytes` of float32, a multiple of 16 rows.
    var tileRows: Int {
        let r = max(16, WeightMatrix.tileBytes / (cols * 4) / 16 * 16)
        return min(rows, r)
    }

    /// Float32 bytes of one tile: sized for the 2 MB L2 of this project's machine so that sgemm
    /// packs a tile that was just written.
    public static var tileBytes = 1 << 21

    /// Opt-in, for decoding only (`generate --int8-activations`, `bench generate --int8-activations`):
    /// one-row products with a stored Q4_0, Q8_0 or Q4_K weight round x to int8 codes per block of 32
    /// (one scale each) and use exact integer dot products, as llama.cpp does, instead of exact
    /// float32 products. This changes the numbers (x loses its low bits: each output moves by up to
    /// Σ|w|·d/2 per block, d = max|x|/127), so scoring, training, detection and every test of the
    /// method leave it off. Other types, and processors without AVX-512 VNNI, keep the exact kernels.
    public static var int8Activations = false

    /// Whether this processor has the `int8Activations` kernels (Q4_0, Q8_0 and Q4_K with AVX-512 VNNI).
    public static var hasInt8ActivationKernels: Bool { lnq_q8_supported(2) != 0 }

    /// Whether `int8Activations` has a kernel for this matrix's type on this processor.
    public var hasInt8ActivationKernel: Bool { floats == nil && cols % 32 == 0 && lnq_q8_supported(typeCode) != 0 }

    /// Dequantises a tile, split over the cores when it is large enough to pay for it.
    private func dequantizeTile(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let parts = Self.parts(work: range.count * cols, units: range.count)
        if parts == 1 { dequantize(rows: range, into: out); return }
        let step = (range.count + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let a = range.lowerBound + p * step, b = min(range.upperBound, a + step)
            guard a < b else { return }
            dequantize(rows: a..<b, into: out + (a - range.lowerBound) * cols)
        }
    }

    /// Threads for `work` elements over `units` independent rows (1 below ~64k elements).
    static func parts(work: Int, units: Int) -> Int {
        guard work >= 1 << 16 else { return 1 }
        return max(1, min(units, workers))
    }

    /// Worker threads for the fused kernels and tile dequantisation (the cores).
    public static var workers = ProcessInfo.processInfo.activeProcessorCount

    /// Whether the AVX2/FMA kernels are in use.
    public static var vectorized: Bool { lnq_vectorized() != 0 }

    /// The instruction sets the stored-type kernels can use.
    public enum KernelLevel: Int32, CaseIterable, Comparable, Sendable {
        /// Plain C: the reference every other level is tested against.
        case plain = 0
        /// AVX2/FMA/F16C dequantisers; fused products dequantise 256 values into L1, then multiply.
        case avx2 = 1
        /// AVX-512 (F, BW, VL): fused products decode each block in registers.
        case avx512 = 2
        public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
        public var name: String { switch self { case .plain: "plain C"; case .avx2: "AVX2"; case .avx512: "AVX-512" } }
    }

    /// The level in use (the processor's best unless a test capped it).
    public static var kernelLevel: KernelLevel { KernelLevel(rawValue: lnq_kernel_level()) ?? .plain }

    /// The levels this processor can run, lowest first.
    public static var availableKernelLevels: [KernelLevel] { KernelLevel.allCases.filter { $0.rawValue <= lnq_available_level() } }

    /// Caps the level (tests compare every level with the plain C one); `.avx512` restores the default.
    public static func capKernelLevel(_ level: KernelLevel) { lnq_set_kernel_level(level.rawValue) }

    /// Forces the plain C kernels (tests compare them with the vectorised ones).
    public static func useReferenceKernels(_ on: Bool) { lnq_set_reference_only(on ? 1 : 0) }

    private static let tileLock = NSLock()
    private static let tileScratch = Scratch()
}
