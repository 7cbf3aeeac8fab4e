import Foundation
@testable import Models
@testable import Neurons
import TestSupport
import XCTest

final class SelectionTests: XCTestCase {
    let sizes = StructureSizes(layers: 2, perLayer: [.attnQ: 4, .attnK: 2, .attnV: 2, .attnOutput: 4, .ffn: 6])

    func doc(_ ffn0: [Double], q0: [Double] = [4, 3, 2, 1]) -> [LayerImportance] {
        (0..<2).map { l in
            LayerImportance(layer: l, attnQ: l == 0 ? q0 : [0, 0, 0, 0], attnK: [1, 2], attnV: [2, 1], attnOutput: [0, 0, 0, 1],
                            ffn: l == 0 ? ffn0 : [Double](repeating: 1, count: 6))
        }
    }

    func testTopKConsistencyCapAndExclude() throws {
        let acc = PLNDAccumulator(sizes: sizes, topKAttention: 1, topKFFN: 2, epsilon: 0.5)
        try acc.add(doc([9, 8, 0, 0, 0, 0]), tokens: 10)
        try acc.add(doc([9, 0, 8, 0, 0, 0]), tokens: 10)
        try acc.add(doc([9, 0, 0, 8, 0, 0.6]), tokens: 10)
        XCTAssertEqual(acc.documents, 3)
        XCTAssertEqual(acc.tokens, 30)
        XCTAssertEqual(acc.topKCount(layer: 0, structure: .ffn), [3, 1, 1, 1, 0, 0])
        XCTAssertEqual(acc.epsilonCount(layer: 0, structure: .ffn), [3, 1, 1, 1, 0, 1])
        XCTAssertEqual(acc.meanImportance(layer: 0, structure: .ffn)[0], 9, accuracy: 0)
        // Ties (layer 1 ffn all equal) go to the lowest indices.
        XCTAssertEqual(acc.topKCount(layer: 1, structure: .ffn), [3, 3, 0, 0, 0, 0])

        let all = try acc.select(SelectionOptions(topKFFN: 2, consistency: 1.0))
        XCTAssertEqual(all.layers[0]?.ffn, [0])
        XCTAssertEqual(all.layers[1]?.ffn, [0, 1])
        XCTAssertEqual(all.layers[0]?.attnQ ?? [], [], "no attention criterion → no attention neurons")
        let third = try acc.select(SelectionOptions(topKFFN: 2, consistency: 0.3))
        XCTAssertEqual(third.layers[0]?.ffn, [0, 1, 2, 3])
        // Cap keeps the highest mean importance: 0 (9) then 1, 2, 3 (8/3 each: lowest indices).
        let capped = try acc.select(SelectionOptions(topKFFN: 2, consistency: 0.3, cap: 2))
        XCTAssertEqual(capped.layers[0]?.ffn, [0, 1])
        // ε alone, and ε together with top-k.
        XCTAssertEqual(try acc.select(SelectionOptions(epsilon: 0.5, consistency: 0.3)).layers[0]?.ffn, [0, 1, 2, 3, 5])
        XCTAssertEqual(try acc.select(SelectionOptions(topKFFN: 2, epsilon: 0.5, consistency: 0.3)).layers[0]?.ffn, [0, 1, 2, 3])
        // Attention top-1 per matrix: q unit 0, k unit 1, v unit 0, o unit 3.
        let attn = try acc.select(SelectionOptions(topKAttention: 1))
        XCTAssertEqual(attn.layers[0]?.attnQ, [0])
        XCTAssertEqual(attn.layers[0]?.attnK, [1])
        XCTAssertEqual(attn.layers[0]?.attnV, [0])
        XCTAssertEqual(attn.layers[0]?.attnOutput, [3])
        // Subtracting another language's set happens before the cap.
        let english = NeuronSet(layers: [0: LayerMask(ffn: [0])])
        let ex = try acc.select(SelectionOptions(topKFFN: 2, consistency: 0.3, cap: 2), exclude: english)
        XCTAssertEqual(ex.layers[0]?.ffn, [1, 2])
        // Criteria that were not counted are refused.
        XCTAssertThrowsError(try acc.select(SelectionOptions(topKFFN: 3)))
        XCTAssertThrowsError(try acc.select(SelectionOptions(consistency: 1)))
        XCTAssertThrowsError(try acc.select(SelectionOptions(topKFFN: 2, consistency: 0)))
    }

    func testRequiredDocuments() {
        XCTAssertEqual(PLNDAccumulator.required(consistency: 1.0, documents: 20), 20)
        XCTAssertEqual(PLNDAccumulator.required(consistency: 0.9, documents: 20), 18)
        XCTAssertEqual(PLNDAccumulator.required(consistency: 0.95, documents: 10), 10)
        XCTAssertEqual(PLNDAccumulator.required(consistency: 0.01, documents: 10), 1)
        XCTAssertEqual(PLNDAccumulator.required(consistency: 0.7, documents: 10), 7, "0.7·10 is 7 despite float rounding")
    }

    func testRandomMatchingIsDeterministicAndMatchesCounts() throws {
        let big = StructureSizes(layers: 4, perLayer: [.attnQ: 64, .attnK: 16, .attnV: 16, .attnOutput: 64, .ffn: 256])
        let set = NeuronSet(layers: [0: LayerMask(attnQ: [1, 2, 3], ffn: Array(0..<50)), 3: LayerMask(attnV: [5], attnOutput: [9, 10])])
        let a = try NeuronSet.randomMatching(set, sizes: big, seed: 1)
        let b = try NeuronSet.randomMatching(set, sizes: big, seed: 1)
        let c = try NeuronSet.randomMatching(set, sizes: big, seed: 2)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.toLayerMasks(), c.toLayerMasks())
        for l in 0..<4 {
            for st in NeuronStructure.allCases {
                XCTAssertEqual(a.count(layer: l, structure: st), set.count(layer: l, structure: st), "layer \(l) \(st)")
            }
        }
        try a.validate(sizes: big)
        let d = try NeuronSet.randomMatching(set, sizes: big, seed: 3, disjoint: true)
        XCTAssertTrue(Set(d.layers[0]?.ffn ?? []).isDisjoint(with: 0..<50))
        XCTAssertEqual(d.count(layer: 0, structure: .ffn), 50)
        // Not every draw lands on the first indices (a generator stuck at 0 would).
        XCTAssertNotEqual(a.layers[0]?.ffn, Array(0..<50))
        XCTAssertThrowsError(try NeuronSet.randomMatching(NeuronSet(layers: [0: LayerMask(attnK: Array(0..<10))]), sizes: big, seed: 1, disjoint: true))
        XCTAssertThrowsError(try NeuronSet.randomMatching(NeuronSet(layers: [0: LayerMask(attnK: [16])]), sizes: big, seed: 1))
    }

    func testRandomIsUniform() {
        // 20000 draws of 1 of 10: each count within 5 standard deviations (σ ≈ 42) of 2000.
        var rng = SplitMix64(seed: 5)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20000 { counts[NeuronSet.sample(1, from: 10, excluding: [], rng: &rng)[0]] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 2000, accuracy: 5 * 42.4) }
    }

    func testOverlap() throws {
        let s = StructureSizes(layers: 6, perLayer: [.attnQ: 8, .attnK: 4, .attnV: 4, .attnOutput: 8, .ffn: 16])
        let a = NeuronSet(sizes: s, layers: [0: LayerMask(ffn: [1, 2, 3]), 2: LayerMask(attnQ: [1]), 5: LayerMask(ffn: [4])])
        let b = NeuronSet(sizes: s, layers: [1: LayerMask(ffn: [1]), 0: LayerMask(ffn: [2, 3, 7]), 2: LayerMask(attnQ: [1, 2])])
        let o = try NeuronOverlap(a, b)
        XCTAssertEqual(NeuronOverlap.band(layer: 1, of: 6), .first)
        XCTAssertEqual(NeuronOverlap.band(layer: 2, of: 6), .middle)
        XCTAssertEqual(NeuronOverlap.band(layer: 5, of: 6), .last)
        let f = o.cell(.first, .ffn)
        XCTAssertEqual(f.a, 3); XCTAssertEqual(f.b, 4); XCTAssertEqual(f.intersection, 2)
        XCTAssertEqual(f.jaccard, 2.0 / 5.0, accuracy: 1e-12)
        let q = o.cell(.middle, .attnQ)
        XCTAssertEqual(q.intersection, 1); XCTAssertEqual(q.jaccard, 0.5, accuracy: 1e-12)
        XCTAssertEqual(o.cell(.last, .ffn).a, 1)
        XCTAssertEqual(o.cell(.last, .ffn).jaccard, 0)
        XCTAssertEqual(o.total(.all).intersection, 3)
        XCTAssertEqual(o.total(.all).a, 5)
        var other = b
        other.fingerprint = "x"
        var mine = a
        mine.fingerprint = "y"
        XCTAssertThrowsError(try NeuronOverlap(mine, other))
    }

    func testScoreDumpIsReadableSafetensors() throws {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("dump-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: u) }
        try Data("an older file".utf8).write(to: u)
        let w = try ScoreDumpWriter(url: u)
        try w.append("doc0.layer0.ffn", [1, 2.5, -3])
        try w.append("doc0.layer0.attn_q", [0.125])
        try w.finish(metadata: ["model": "m", "format": "pt"])
        let data = try Data(contentsOf: u)
        let n = data.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
        XCTAssertEqual(n % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(data.count, 8 + n + 16)
        let r = try ReferenceTensors(url: u)
        XCTAssertEqual(try r.doubles("doc0.layer0.ffn"), [1, 2.5, -3])
        XCTAssertEqual(try r.doubles("doc0.layer0.attn_q"), [0.125])
        XCTAssertEqual(r.shapes["doc0.layer0.ffn"], [3])
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        XCTAssertEqual((header["__metadata__"] as? [String: String])?["model"], "m")
        let w2 = try ScoreDumpWriter(url: u.appendingPathExtension("2"))
        try w2.append("a", [1])
        XCTAssertThrowsError(try w2.append("a", [1]), "a tensor name written twice is refused")
    }
}
