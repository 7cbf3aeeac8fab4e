import Foundation
import Kernels
import ModelIO
import Models
@testable import Neurons
import TestSupport
import XCTest

/// The query/key importance against a brute-force Double computation that zeroes each pre-RoPE
/// unit, re-rotates and re-runs the softmax. The model's layers are given a sliding window of 8
/// so that windowed masks are exercised (the reference texts are shorter than the real windows),
/// on both pairings: Gemma 3 rotates halves, SmolLM2 GGUF interleaved pairs.
/// Tolerance: relative L2 per vector 1e-3 (float32 kernel vs Double; measured ~1e-6).
final class PLNDBruteForceTests: XCTestCase {
    struct Captured { var qPre: [Float], kPre: [Float], probs: [Float], rows: Int }

    func check(file: String, window: Int, tokens: Int) throws {
        let base = try PLNDReferenceTests.model(file)
        var config = base.config
        for l in 0..<config.layers { config.layerAttention[l].window = window }
        let m = Transformer(config: config, weights: base.weights)
        let c = m.config
        var rng = SplitMix64(seed: 7)
        let ids = (0..<tokens).map { _ in Int32(rng.next() % UInt64(min(c.vocabularySize, 30000))) }
        let layers: [Int] = [0, c.layers - 1]
        var captured = [Int: Captured]()
        let cache = m.makeCache(capacity: tokens)
        try m.forward(ids, cache: cache, hooks: ForwardHooks(layerTrace: { tr in
            guard layers.contains(tr.layer) else { return }
            captured[tr.layer] = Captured(
                qPre: Array(UnsafeBufferPointer(start: tr.qPreRoPE, count: tr.rows * c.qDim)),
                kPre: Array(UnsafeBufferPointer(start: tr.kPreRoPE, count: tr.rows * c.kvDim)),
                probs: Array(UnsafeBufferPointer(start: tr.probabilities, count: c.heads * tr.rows * tr.keys)), rows: tr.rows)
        }))
        let plnd = PLND(transformer: m, threads: 1)
        let fast = try plnd.importance(of: ids, layers: Set(layers))
        for r in fast {
            let cap = try XCTUnwrap(captured[r.layer])
            let (q, k) = bruteForce(m, layer: r.layer, cap)
            let eq = relativeL2(r.attnQ, q), ek = relativeL2(r.attnK, k)
            print("\(file) window \(window) layer \(r.layer): attn_q rel L2 \(eq), attn_k rel L2 \(ek)")
            XCTAssertLessThan(eq, 1e-3, "attn_q layer \(r.layer)")
            XCTAssertLessThan(ek, 1e-3, "attn_k layer \(r.layer)")
            XCTAssertGreaterThan(q.reduce(0, +), 0)
        }
        // Thread count must not change a single bit.
        let threaded = try PLND(transformer: m, threads: 3).importance(of: ids, layers: Set(layers))
        XCTAssertEqual(threaded, fast)
    }

    /// Rotates one head vector by RoPE at `pos` in Double.
    func rotate(_ v: [Double], pos: Int, table: RopeTable, style: RopeStyle) -> [Double] {
        let hd = v.count, half = hd / 2
        var out = v
        for i in 0..<half {
            let c = Double(table.cos[pos * half + i]), s = Double(table.sin[pos * half + i])
            let (ia, ib) = style == .halves ? (i, i + half) : (2 * i, 2 * i + 1)
            out[ia] = v[ia] * c - v[ib] * s
            out[ib] = v[ia] * s + v[ib] * c
        }
        return out
    }

    func softmax(_ x: [Double]) -> [Double] {
        let m = x.max() ?? 0
        let e = x.map { Foundation.exp($0 - m) }
        let z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    func bruteForce(_ m: Transformer, layer l: Int, _ cap: Captured) -> ([Double], [Double]) {
        let c = m.config, T = cap.rows, hd = c.headDim, group = c.heads / c.kvHeads
        let table = m.ropeTable(layer: l)
        let shape = m.attentionShape(layer: l, queries: T, keys: T, firstPosition: 0)
        let scale = Double(c.attentionScale)
        func qv(_ t: Int, _ h: Int) -> [Double] { (0..<hd).map { Double(cap.qPre[t * c.qDim + h * hd + $0]) } }
        func kv(_ s: Int, _ g: Int) -> [Double] { (0..<hd).map { Double(cap.kPre[s * c.kvDim + g * hd + $0]) } }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var impQ = [Double](repeating: 0, count: c.qDim), impK = [Double](repeating: 0, count: c.kvDim)
        let kr = (0..<T).map { s in (0..<c.kvHeads).map { g in rotate(kv(s, g), pos: s, table: table, style: c.ropeStyle) } }
        for h in 0..<c.heads {
            let g = h / group
            for t in 0..<T {
                let allowed = Array(shape.allowedKeys(row: t))
                let qt = qv(t, h), qrt = rotate(qt, pos: t, table: table, style: c.ropeStyle)
                let p = softmax(allowed.map { scale * dot(qrt, kr[$0][g]) })
                for e in 0..<hd {
                    var q0 = qt; q0[e] = 0
                    let q0r = rotate(q0, pos: t, table: table, style: c.ropeStyle)
                    let pq = softmax(allowed.map { scale * dot(q0r, kr[$0][g]) })
                    impQ[h * hd + e] += zip(p, pq).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                    let pk = softmax(allowed.map { s -> Double in
                        var k0 = kv(s, g); k0[e] = 0
                        return scale * dot(qrt, rotate(k0, pos: s, table: table, style: c.ropeStyle))
                    })
                    impK[g * hd + e] += zip(p, pk).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                }
            }
        }
        return (impQ, impK)
    }

    func testGemmaWindowed() throws { try check(file: TestModels.gemmaFile, window: 8, tokens: 24) }
    func testSmolLMWindowed() throws { try check(file: TestModels.smolFile, window: 8, tokens: 24) }
}
