import Foundation
import Kernels

/// One linear map of a block, `Y = X · (W + ΔW)ᵀ`: the frozen weight `W` in its stored type
/// and an optional float32 sparse delta `ΔW` over some rows or columns (a merged
/// `delta.safetensors`, or the slices being trained). The delta's product is a small extra
/// matrix product on the slice, so the stored weight is never rewritten or expanded.
public final class Projection {
    public let weight: WeightMatrix
    /// Trainable-tensor kind (decides whether deltas are rows or columns), nil for the head.
    public let kind: TrainableTensor?
    /// The sparse delta, if any.
    public private(set) var delta: SliceDelta?

    public init(weight: WeightMatrix, kind: TrainableTensor?) {
        self.weight = weight
        self.kind = kind
    }

    /// Output units.
    public var rows: Int { weight.rows }
    /// Input units.
    public var cols: Int { weight.cols }

    /// `Y[m×rows] (+)= X[m×cols] · (W + ΔW)ᵀ`.
    @inline(__always)
    public func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int, accumulate: Bool = false) {
        weight.linear(y, x, m: m, accumulate: accumulate)
        delta?.forward(y, x, m: m)
    }

    /// `dX[m×cols] (+)= dY[m×rows] · (W + ΔW)`.
    @inline(__always)
    public func backward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, m: Int, accumulate: Bool = false) {
        weight.linearTransposed(dx, dy, m: m, accumulate: accumulate)
        delta?.backward(dx, dy, m: m)
    }

    /// The delta over `indices` (rows, or columns for column kinds), created (zero) or widened to
    /// cover them; existing delta values are kept.
    @discardableResult
    public func ensureDelta(covering indices: [Int]) -> SliceDelta {
        guard let k = kind else { preconditionFailure("Projection: the output head takes no delta") }
        if let d = delta {
            d.widen(to: indices, weight: weight)
            return d
        }
        let d = SliceDelta(columns: k.isColumnSlice, indices: indices, weight: weight)
        delta = d
        return d
    }

    /// Drops the delta (back to the stored weight).
    public func removeDelta() { delta = nil }

    /// Visits the effective rows `W + ΔW` in order, a tile at a time: `body(firstRow, count, values)`
    /// with `values` `[count, cols]`, valid during the call.
    public func forEachRowTile(rowsPerTile: Int = 256, _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        let tile = FloatBuffer(count: min(rowsPerTile, max(rows, 1)) * cols)
        var r0 = 0
        while r0 < rows {
            let n = min(rowsPerTile, rows - r0)
            weight.dequantize(rows: r0..<(r0 + n), into: tile.pointer)
            delta?.addEffective(rows: r0..<(r0 + n), into: tile.pointer, cols: cols)
            body(r0, n, tile.pointer)
            r0 += n
        }
    }

    /// The whole effective matrix as float32 (`[rows, cols]`): for merging and tests, never on a hot path.
    public func effectiveFloats() -> [Float] {
        var out = [Float](repeating: 0, count: rows * cols)
        out.withUnsafeMutableBufferPointer { buf in
            forEachRowTile { r0, n, v in (buf.baseAddress! + r0 * cols).update(from: v, count: n * cols) }
        }
        return out
    }
}

/// A float32 delta over some rows (or columns) of a stored weight `W [rows, cols]`: slice i is
/// `ΔW[indices[i], :]` (length `cols`) or, for columns, `ΔW[:, indices[i]]` (length `rows`),
/// the layout of `delta.safetensors` and of the trainer's packed slices. `base` holds the stored
/// values of the same slices, so that full slice values (`base + delta`) can be read and written.
public final class SliceDelta {
    public let columns: Bool
    public private(set) var indices: [Int]
    /// Length of one slice.
    public let length: Int
    /// `[indices.count, length]`.
    public private(set) var values: FloatBuffer
    /// The stored (dequantised) values of the slices, `[indices.count, length]`.
    public private(set) var base: FloatBuffer
    private var position: [Int: Int]
    private let scratch = Scratch()

    init(columns: Bool, indices raw: [Int], weight: WeightMatrix) {
        self.columns = columns
        let idx = Array(Set(raw)).sorted()
        indices = idx
        length = columns ? weight.rows : weight.cols
        inputWidth = weight.cols
        outputWidth = weight.rows
        values = FloatBuffer(count: idx.count * length)
        base = FloatBuffer(count: idx.count * length)
        position = Dictionary(uniqueKeysWithValues: idx.enumerated().map { ($1, $0) })
        SliceDelta.readBase(weight, columns: columns, indices: idx, into: base.pointer)
    }

    /// Slot of unit `index`, if it is in the delta.
    public func slot(of index: Int) -> Int? { position[index] }

    /// Adds units so the delta covers `more` (new slices start at zero).
    func widen(to more: [Int], weight: WeightMatrix) {
        let missing = Set(more).subtracting(indices)
        guard !missing.isEmpty else { return }
        let idx = (indices + missing).sorted()
        let v = FloatBuffer(count: idx.count * length), b = FloatBuffer(count: idx.count * length)
        SliceDelta.readBase(weight, columns: columns, indices: idx, into: b.pointer)
        for (i, u) in idx.enumerated() {
            if let old = position[u] { (v.pointer + i * length).update(from: values.pointer + old * length, count: length) }
        }
        indices = idx
        values = v
        base = b
        position = Dictionary(uniqueKeysWithValues: idx.enumerated().map { ($1, $0) })
    }

    private static func readBase(_ w: WeightMatrix, columns: Bool, indices: [Int], into out: UnsafeMutablePointer<Float>) {
        guard !indices.isEmpty else { return }
        if !columns {
            for (i, r) in indices.enumerated() { w.dequantize(rows: r..<(r + 1), into: out + i * w.cols) }
            return
        }
        // Columns: one pass over the rows, a tile at a time.
        let tileRows = max(1, min(w.rows, (1 << 20) / w.cols))
        let tile = FloatBuffer(count: tileRows * w.cols)
        var r0 = 0
        while r0 < w.rows {
            let n = min(tileRows, w.rows - r0)
            w.dequantize(rows: r0..<(r0 + n), into: tile.pointer)
            for r in 0..<n { for (i, c) in indices.enumerated() { out[i * w.rows + r0 + r] = tile[r * w.cols + c] } }
            r0 += n
        }
    }

    /// `Y[m×out] += X[m×in] · ΔWᵀ`.
    func forward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, m: Int) {
        let n = indices.count
        guard n > 0, m > 0 else { return }
        let t = scratch.ensure(m * n)
        if columns {
            // ΔW[:, c_i] = values[i, :] ([n, out]): Y += X[:, C] · values.
            let inDim = inputWidth
            for r in 0..<m { let src = x + r * inDim, dst = t + r * n; for (i, c) in indices.enumerated() { dst[i] = src[c] } }
            BLAS.gemm(m: m, n: length, k: n, a: t, lda: n, b: values.pointer, ldb: length, beta: 1, c: y, ldc: length)
        } else {
            // Rows R: T = X · valuesᵀ ([m, n]), scattered into Y's columns R.
            BLAS.linear(t, x, values.pointer, m: m, n: n, k: length)
            let outDim = outputWidth
            for r in 0..<m { let src = t + r * n, dst = y + r * outDim; for (i, o) in indices.enumerated() { dst[o] += src[i] } }
        }
    }

    /// `dX[m×in] += dY[m×out] · ΔW`.
    func backward(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, m: Int) {
        let n = indices.count
        guard n > 0, m > 0 else { return }
        let t = scratch.ensure(m * n)
        if columns {
            // dX[:, C] += dY · valuesᵀ.
            BLAS.linear(t, dy, values.pointer, m: m, n: n, k: length)
            let inDim = inputWidth
            for r in 0..<m { let src = t + r * n, dst = dx + r * inDim; for (i, c) in indices.enumerated() { dst[c] += src[i] } }
        } else {
            // dX += dY[:, R] · values.
            let outDim = outputWidth
            for r in 0..<m { let src = dy + r * outDim, dst = t + r * n; for (i, o) in indices.enumerated() { dst[i] = src[o] } }
            BLAS.gemm(m: m, n: length, k: n, a: t, lda: n, b: values.pointer, ldb: length, beta: 1, c: dx, ldc: length)
        }
    }

    /// Width of the input (`cols` of W) and of the output (`rows` of W).
    let inputWidth: Int
    let outputWidth: Int

    /// Adds the delta to effective rows `rows` of W held in `tile` (`[rows.count, cols]`).
    func addEffective(rows: Range<Int>, into tile: UnsafeMutablePointer<Float>, cols: Int) {
        if columns {
            for r in rows { for (i, c) in indices.enumerated() { tile[(r - rows.lowerBound) * cols + c] += values[i * length + r] } }
        } else {
            for (i, r) in indices.enumerated() where rows.contains(r) {
                let dst = tile + (r - rows.lowerBound) * cols, src = values.pointer + i * length
                for j in 0..<cols { dst[j] += src[j] }
            }
        }
    }

    /// Adds `scale · slices` for units `units` (`[units.count, length]`); the units must be covered.
    public func add(units: [Int], values src: UnsafePointer<Float>, scale: Float) {
        for (k, u) in units.enumerated() {
            guard let i = position[u] else { preconditionFailure("SliceDelta.add: unit \(u) is not covered") }
            let dst = values.pointer + i * length, s = src + k * length
            for j in 0..<length { dst[j] += scale * s[j] }
        }
    }

    /// Sets the full slice values (`base + delta`) of units `units` to `src` (`[units.count, length]`).
    public func setFull(units: [Int], values src: UnsafePointer<Float>) {
        for (k, u) in units.enumerated() {
            guard let i = position[u] else { preconditionFailure("SliceDelta.setFull: unit \(u) is not covered") }
            let dst = values.pointer + i * length, b = base.pointer + i * length, s = src + k * length
            for j in 0..<length { dst[j] = s[j] - b[j] }
        }
    }

    /// Reads the full slice values (`base + delta`) of units `units` into `out`.
    public func getFull(units: [Int], into out: UnsafeMutablePointer<Float>) {
        for (k, u) in units.enumerated() {
            guard let i = position[u] else { preconditionFailure("SliceDelta.getFull: unit \(u) is not covered") }
            let v = values.pointer + i * length, b = base.pointer + i * length, o = out + k * length
            for j in 0..<length { o[j] = b[j] + v[j] }
        }
    }
}
