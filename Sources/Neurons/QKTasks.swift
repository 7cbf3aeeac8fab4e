import Foundation
import Kernels
import Models

/// The query/key importance of one layer (method §3), streamed one query row at a time.
///
/// Zeroing pre-RoPE query unit e of head h changes the raw score of row t and key s by
/// `q[t,e]·(R_tᵀ k_r[s])[e]`; zeroing key unit e of kv head g changes it by `k[s,e]·(R_sᵀ q_r,h[t])[e]`.
/// `R_posᵀ` rotates each pair back by the angle of `pos`: with `partner(e)` the other unit of e's pair
/// ((i, i+d/2) for `.halves`, (2i, 2i+1) for `.interleaved`), `(R_posᵀ v)[e] = cos·v[e] ± sin·v[partner(e)]`
/// (+ for the first unit of a pair, − for the second). The cos/±sin factors are expanded per unit and the
/// partner-permuted keys precomputed, so every inner loop is a plain SIMD8 multiply-add.
///
/// Work is split into (kv head, block of rows) tasks with per-task sums, added in task order: the
/// result does not depend on the number of threads.
final class QKImportance {
    let heads: Int, kvHeads: Int, headDim: Int, group: Int
    /// `headDim` rounded up to a multiple of 8; padded lanes hold zeros.
    let ld: Int
    let style: RopeStyle
    /// Per position, expanded `cos` and `±sin`, `[positions, ld]`, for the table in `tableID`.
    private let cosE = Scratch(), sinE = Scratch()
    private var tablePositions = 0
    private var tableID: ObjectIdentifier?
    /// Keys of the layer, padded `[keys, kvHeads, ld]`: rotated, rotated and partner-permuted, pre-RoPE.
    private let kr = Scratch(), kp = Scratch(), kpre = Scratch()
    private var workers: [Worker] = []

    init(config c: ModelConfig) {
        heads = c.heads; kvHeads = c.kvHeads; headDim = c.headDim; group = c.heads / c.kvHeads
        ld = (c.headDim + 7) / 8 * 8
        style = c.ropeStyle
    }

    @inline(__always) func partner(_ e: Int) -> Int {
        switch style {
        case .halves: return e < headDim / 2 ? e + headDim / 2 : e - headDim / 2
        case .interleaved: return e ^ 1
        }
    }

    @inline(__always) func sinSign(_ e: Int) -> Float {
        switch style {
        case .halves: return e < headDim / 2 ? 1 : -1
        case .interleaved: return e & 1 == 0 ? 1 : -1
        }
    }

    private func prepareTable(_ table: RopeTable, positions: Int) {
        let id = ObjectIdentifier(table)
        guard id != tableID || positions > tablePositions else { return }
        table.ensure(capacity: positions)
        let half = headDim / 2
        let ce = cosE.ensure(positions * ld), se = sinE.ensure(positions * ld)
        for p in 0..<positions {
            for e in 0..<ld {
                if e < headDim {
                    let i = style == .halves ? e % half : e / 2
                    ce[p * ld + e] = table.cos[p * half + i]
                    se[p * ld + e] = sinSign(e) * table.sin[p * half + i]
                } else {
                    ce[p * ld + e] = 0; se[p * ld + e] = 0
                }
            }
        }
        tableID = id
        tablePositions = positions
    }

    /// Rows `[start, end)` of each task: `blocks` contiguous blocks with about equal work (Σ allowed keys).
    private func rowBlocks(_ tr: LayerTrace, blocks: Int) -> [Range<Int>] {
        let T = tr.rows
        var total = 0
        for t in 0..<T { total += tr.attention.allowedKeys(row: t).count }
        var out = [Range<Int>](), start = 0, acc = 0
        for b in 1...blocks {
            let target = total * b / blocks
            var end = start
            while end < T && (acc < target || b == blocks) { acc += tr.attention.allowedKeys(row: end).count; end += 1 }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// The query `[qDim]` and key `[kvDim]` importance of the traced layer.
    func run(_ tr: LayerTrace, table: RopeTable, config c: ModelConfig, threads: Int) -> ([Double], [Double]) {
        let L = tr.keys, hd = headDim
        precondition(tr.firstPosition == 0, "PLND runs each document from an empty cache")
        prepareTable(table, positions: L)
        let krP = kr.ensure(L * kvHeads * ld), kpP = kp.ensure(L * kvHeads * ld), kpreP = kpre.ensure(L * kvHeads * ld)
        for s in 0..<L {
            for g in 0..<kvHeads {
                let src = tr.kRotated + s * c.kvDim + g * hd, pre = tr.kPreRoPE + s * c.kvDim + g * hd
                let o = (s * kvHeads + g) * ld
                for e in 0..<hd { krP[o + e] = src[e]; kpP[o + e] = src[partner(e)]; kpreP[o + e] = pre[e] }
                for e in hd..<ld { krP[o + e] = 0; kpP[o + e] = 0; kpreP[o + e] = 0 }
            }
        }
        // A fixed number of tasks (≥ 16) whatever the thread count, so sums are reproducible.
        let blocks = max(1, min(tr.rows, (16 + kvHeads - 1) / kvHeads))
        let ranges = rowBlocks(tr, blocks: blocks)
        let tasks = kvHeads * blocks
        let qn = group * hd
        let qParts = UnsafeMutablePointer<Double>.allocate(capacity: tasks * qn), kParts = UnsafeMutablePointer<Double>.allocate(capacity: tasks * hd)
        defer { qParts.deallocate(); kParts.deallocate() }
        let nWorkers = max(1, min(threads, tasks))
        while workers.count < nWorkers { workers.append(Worker(ld: ld, headDim: hd, group: group)) }
        for w in workers.prefix(nWorkers) { w.ensure(keys: L) }
        let cePtr = cosE.pointer, sePtr = sinE.pointer
        let work = { (w: Int) in
            var task = w
            while task < tasks {
                let worker = self.workers[w]
                worker.run(tr, kvHead: task / blocks, rows: ranges[task % blocks], owner: self, cosE: cePtr, sinE: sePtr,
                           kr: krP, kp: kpP, kpre: kpreP)
                for i in 0..<qn { qParts[task * qn + i] = worker.qSum[i] }
                for e in 0..<hd { kParts[task * hd + e] = worker.kSum[e] }
                task += nWorkers
            }
        }
        if nWorkers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: nWorkers, execute: work) }
        var q = [Double](repeating: 0, count: c.qDim), k = [Double](repeating: 0, count: c.kvDim)
        for task in 0..<tasks {
            let g = task / blocks
            for i in 0..<qn { q[g * qn + i] += qParts[task * qn + i] }
            for e in 0..<hd { k[g * hd + e] += kParts[task * hd + e] }
        }
        return (q, k)
    }

    /// Scratch and partial sums of one thread.
    final class Worker {
        let ld: Int, headDim: Int, group: Int
        let delta = Scratch(), expd = Scratch()
        let coef: UnsafeMutablePointer<Float>, lo: UnsafeMutablePointer<Float>, hi: UnsafeMutablePointer<Float>
        let z: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>
        let qr: UnsafeMutablePointer<Float>, qrp: UnsafeMutablePointer<Float>
        /// Sums of the current task: query units of the group's heads `[group·headDim]`, key units `[headDim]`.
        var qSum: [Double], kSum: [Double]

        init(ld: Int, headDim: Int, group: Int) {
            self.ld = ld; self.headDim = headDim; self.group = group
            coef = .allocate(capacity: ld); lo = .allocate(capacity: ld); hi = .allocate(capacity: ld)
            z = .allocate(capacity: ld); acc = .allocate(capacity: ld); qr = .allocate(capacity: ld); qrp = .allocate(capacity: ld)
            qSum = [Double](repeating: 0, count: group * headDim)
            kSum = [Double](repeating: 0, count: headDim)
        }

        deinit { for p in [coef, lo, hi, z, acc, qr, qrp] { p.deallocate() } }

        func ensure(keys: Int) { delta.ensure(keys * ld); expd.ensure(keys * ld) }

        @inline(__always) private func load(_ p: UnsafePointer<Float>, _ j: Int) -> SIMD8<Float> {
            UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self)
        }

        @inline(__always) private func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ j: Int) {
            UnsafeMutableRawPointer(p + j).storeBytes(of: v, as: SIMD8<Float>.self)
        }

        private func resetRange() {
            for e in 0..<ld { lo[e] = .infinity; hi[e] = -.infinity }
        }

        @inline(__always) private func widen(_ v: SIMD8<Float>, _ j: Int) {
            var a = load(lo, j), b = load(hi, j)
            a.replace(with: v, where: v .< a)
            b.replace(with: v, where: v .> b)
            store(a, lo, j); store(b, hi, j)
        }

        func run(_ tr: LayerTrace, kvHead g: Int, rows: Range<Int>, owner o: QKImportance,
                 cosE: UnsafePointer<Float>, sinE: UnsafePointer<Float>,
                 kr: UnsafePointer<Float>, kp: UnsafePointer<Float>, kpre: UnsafePointer<Float>) {
            let hd = headDim, T = tr.rows, L = tr.keys, qDim = o.heads * hd, kvStride = o.kvHeads * ld
            let scale = tr.attention.scale
            for i in 0..<qSum.count { qSum[i] = 0 }
            for e in 0..<hd { kSum[e] = 0 }
            let d = delta.pointer, x = expd.pointer
            for t in rows {
                let allowed = tr.attention.allowedKeys(row: t)
                let n = allowed.count, s0 = allowed.lowerBound
                guard n > 0 else { continue }
                let ct = cosE + t * ld, st = sinE + t * ld

                // Query units: U[s] = R_tᵀ k_r[s], shared by the heads of kv head g.
                resetRange()
                for i in 0..<n {
                    let krow = kr + (s0 + i) * kvStride + g * ld, prow = kp + (s0 + i) * kvStride + g * ld
                    let row = d + i * ld
                    var j = 0
                    while j < ld {
                        let u = load(ct, j) * load(krow, j) + load(st, j) * load(prow, j)
                        store(u, row, j); widen(u, j)
                        j += 8
                    }
                }
                for hi in 0..<o.group {
                    let h = g * o.group + hi
                    let q = tr.qPreRoPE + t * qDim + h * hd
                    for e in 0..<hd { coef[e] = -scale * q[e] }
                    for e in hd..<ld { coef[e] = 0 }
                    let p = tr.probabilities + (h * T + t) * L + s0
                    QKSoftmaxKernel.run(delta: d, expd: x, n: n, ld: ld, headDim: hd, p: p, coef: coef, lo: lo, hi: self.hi, z: z, acc: acc)
                    for e in 0..<hd { qSum[hi * hd + e] += Double(acc[e]) }
                }

                // Key units of g, for each head reading g: W[s] = k[s] ⊙ R_sᵀ q_r[t].
                for hi in 0..<o.group {
                    let h = g * o.group + hi
                    let q = tr.qRotated + t * qDim + h * hd
                    for e in 0..<hd { qr[e] = q[e]; qrp[e] = q[o.partner(e)] }
                    for e in hd..<ld { qr[e] = 0; qrp[e] = 0 }
                    resetRange()
                    for i in 0..<n {
                        let s = s0 + i
                        let cs = cosE + s * ld, ss = sinE + s * ld, krow = kpre + s * kvStride + g * ld
                        let row = d + i * ld
                        var j = 0
                        while j < ld {
                            let w = load(krow, j) * (load(cs, j) * load(qr, j) + load(ss, j) * load(qrp, j))
                            store(w, row, j); widen(w, j)
                            j += 8
                        }
                    }
                    for e in 0..<hd { coef[e] = -scale }
                    for e in hd..<ld { coef[e] = 0 }
                    let p = tr.probabilities + (h * T + t) * L + s0
                    QKSoftmaxKernel.run(delta: d, expd: x, n: n, ld: ld, headDim: hd, p: p, coef: coef, lo: lo, hi: self.hi, z: z, acc: acc)
                    for e in 0..<hd { kSum[e] += Double(acc[e]) }
                }
            }
        }
    }
}
