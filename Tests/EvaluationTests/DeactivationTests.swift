import Evaluation
import Foundation
import Models
import TestSupport
import XCTest

final class DeactivationTests: XCTestCase {
    static let texts = [
        "The quick brown fox jumps over the lazy dog, and then it runs far away into the forest.",
        "Language models predict the next token from the tokens before it, one position at a time.",
        "Hà Nội là thủ đô của Việt Nam, nằm bên bờ sông Hồng ở miền Bắc.",
    ]

    func loadTiny() throws -> LoadedModel {
        let url = SharedData.url("reference/tiny/llama/model")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "shared/ reference models not present")
        return try LoadedModel.load(at: url)
    }

    /// Neurons in every layer and every structure of the tiny Llama (3 layers, q/o 64, k/v 32, ffn 128).
    static let everywhere: [Int: LayerMask] = {
        var m = [Int: LayerMask]()
        for l in 0..<3 {
            m[l] = LayerMask(attnQ: [0, 5, 17], attnK: [1, 9], attnV: [2, 30], attnOutput: [3, 40], ffn: Array(stride(from: l, to: 128, by: 4)))
        }
        return m
    }()

    // MARK: stage restriction (pure)

    func testStageLayersAndStructures() throws {
        let layout = try StageLayout(layers: 8, understandingLayers: 2, generationLayers: 3)
        XCTAssertEqual(DeactivationStage.understanding.layers(layout), 0..<2)
        XCTAssertEqual(DeactivationStage.solveAttention.layers(layout), 2..<5)
        XCTAssertEqual(DeactivationStage.solveFFN.layers(layout), 2..<5)
        XCTAssertEqual(DeactivationStage.generation.layers(layout), 5..<8)
        XCTAssertEqual(DeactivationStage.all.layers(layout), 0..<8)

        var masks = [Int: LayerMask]()
        for l in 0..<8 { masks[l] = LayerMask(attnQ: [l], attnK: [l + 1], attnV: [l + 2], attnOutput: [l + 3], ffn: [l, l + 10]) }
        let u = Deactivation.restrict(masks, to: .understanding, layout: layout)
        XCTAssertEqual(Set(u.keys), [0, 1])
        XCTAssertEqual(u[1], masks[1], "understanding keeps all structures")
        let sa = Deactivation.restrict(masks, to: .solveAttention, layout: layout)
        XCTAssertEqual(Set(sa.keys), [2, 3, 4])
        XCTAssertEqual(sa[3], LayerMask(attnQ: [3], attnK: [4], attnV: [5], attnOutput: [6], ffn: []), "solve-attn drops ffn")
        let sf = Deactivation.restrict(masks, to: .solveFFN, layout: layout)
        XCTAssertEqual(Set(sf.keys), [2, 3, 4])
        XCTAssertEqual(sf[4], LayerMask(ffn: [4, 14]), "solve-ffn drops attention")
        let g = Deactivation.restrict(masks, to: .generation, layout: layout)
        XCTAssertEqual(Set(g.keys), [5, 6, 7])
        XCTAssertEqual(g[7], masks[7])
        XCTAssertEqual(Deactivation.restrict(masks, to: .all, layout: layout), masks)
        XCTAssertEqual(Deactivation.count(masks), 8 * 6)
        XCTAssertEqual(Deactivation.count(sa), 3 * 4)
        XCTAssertEqual(Deactivation.count(sf), 3 * 2)
        // a layer whose only neurons are in the dropped structure disappears
        XCTAssertTrue(Deactivation.restrict([3: LayerMask(ffn: [1])], to: .solveAttention, layout: layout).isEmpty)

        XCTAssertThrowsError(try StageLayout(layers: 8, understandingLayers: 5, generationLayers: 4))
        XCTAssertThrowsError(try StageLayout(layers: 8, understandingLayers: -1, generationLayers: 4))
        XCTAssertEqual(StageLayout.paperScaled(layers: 32), try StageLayout(layers: 32, understandingLayers: 8, generationLayers: 4))
        XCTAssertEqual(StageLayout.paperScaled(layers: 18), try StageLayout(layers: 18, understandingLayers: 5, generationLayers: 2))
        XCTAssertEqual(try DeactivationStage.parseList("all, solve-attn,all"), [.all, .solveAttention])
        XCTAssertThrowsError(try DeactivationStage.parseList("understand"))
    }

    // MARK: Δ arithmetic (pure)

    func testDeltaArithmetic() {
        XCTAssertEqual(Deactivation.change(before: 10, after: 12.5), 25, accuracy: 1e-12)
        XCTAssertEqual(Deactivation.change(before: 8, after: 6), -25, accuracy: 1e-12)
        // ΔEng = 10, Δn-Eng = (40 + 70) / 2 = 55, Δ = −45
        let s = DeltaSummary(changes: [("vi", 40), ("en", 10), ("ja", 70)], english: "en")
        XCTAssertEqual(s.deltaEnglish ?? .nan, 10, accuracy: 1e-12)
        XCTAssertEqual(s.deltaNonEnglish ?? .nan, 55, accuracy: 1e-12)
        XCTAssertEqual(s.delta ?? .nan, -45, accuracy: 1e-12)
        let noEnglish = DeltaSummary(changes: [("vi", 40)], english: "en")
        XCTAssertNil(noEnglish.deltaEnglish)
        XCTAssertNil(noEnglish.delta)
        XCTAssertEqual(noEnglish.deltaNonEnglish ?? .nan, 40, accuracy: 1e-12)
        let onlyEnglish = DeltaSummary(changes: [("en", 3)], english: "en")
        XCTAssertNil(onlyEnglish.deltaNonEnglish)
        XCTAssertNil(onlyEnglish.delta)
    }

    // MARK: on the tiny Llama

    func testZeroingChangesPerplexityAndEmptyMasksDoNot() throws {
        let m = try loadTiny()
        let layout = try StageLayout(layers: 3, understandingLayers: 1, generationLayers: 1)
        let docs: [(language: String, texts: [String])] = [("en", Array(Self.texts.prefix(2))), ("vi", [Self.texts[2]])]
        // Control arm: neurons only in layer 0, so every stage but understanding/all zeroes nothing.
        let layer0 = [0: Self.everywhere[0]!]
        let r = try Deactivation.run(model: m.transformer, tokenizer: m.tokenizer, documents: docs, masks: Self.everywhere,
                                     randomMasks: layer0, stages: DeactivationStage.allCases, layout: layout, maxTokens: 64)
        XCTAssertEqual(r.stages.map(\.stage), DeactivationStage.allCases)
        XCTAssertEqual(r.languages, ["en", "vi"])
        for st in r.stages {
            XCTAssertEqual(st.arms.map(\.kind), ["language", "random"])
            let lang = st.arms[0], ctrl = st.arms[1]
            // every stage of `everywhere` zeroes something, so every language's perplexity moves
            XCTAssertGreaterThan(lang.neurons, 0)
            for c in lang.languages {
                // tolerance: a real change, well above float noise (relative 1e-6)
                XCTAssertGreaterThan(abs(c.after.meanNLL - c.before.meanNLL), 1e-6 * c.before.meanNLL,
                                     "\(st.stage.rawValue) \(c.language): zeroing did not change the NLL")
                XCTAssertEqual(c.change, 100 * (c.after.ppl / c.before.ppl - 1), accuracy: 1e-9)
            }
            let zeroesSomething = st.stage == .understanding || st.stage == .all
            XCTAssertEqual(ctrl.neurons, zeroesSomething ? 9 + 32 : 0)
            for c in ctrl.languages {
                if zeroesSomething {
                    XCTAssertNotEqual(c.after.meanNLL, c.before.meanNLL, "\(st.stage.rawValue) \(c.language)")
                } else {
                    // nothing zeroed: exactly the unmodified model (no tolerance)
                    XCTAssertEqual(c.after, c.before, "\(st.stage.rawValue) \(c.language): empty masks changed the result")
                    XCTAssertEqual(c.change, 0)
                }
            }
            XCTAssertEqual(lang.summary, DeltaSummary(changes: lang.languages.map { ($0.language, $0.change) }, english: "en"))
        }
        // the neuron counts per stage follow the restriction: 9 attention + 32 ffn per layer
        let counts = Dictionary(uniqueKeysWithValues: r.stages.map { ($0.stage, $0.arms[0].neurons) })
        XCTAssertEqual(counts[.understanding], 41)
        XCTAssertEqual(counts[.solveAttention], 9)
        XCTAssertEqual(counts[.solveFFN], 32)
        XCTAssertEqual(counts[.generation], 41)
        XCTAssertEqual(counts[.all], 123)

        // zeroing in a stage equals zeroing exactly that stage's masks by hand (layer 1 ffn only)
        let byHand = try Perplexity.evaluate(model: m.transformer, tokenizer: m.tokenizer, documents: docs[0].texts, maxTokens: 64,
                                             hooks: ForwardHooks(masks: [1: LayerMask(ffn: Self.everywhere[1]!.ffn)]))
        let solveFFN = r.stages.first { $0.stage == .solveFFN }!.arms[0].languages[0].after
        XCTAssertEqual(byHand, solveFFN, "deterministic and restricted to layer 1's ffn")

        // the report round-trips through JSON and the tables name every language
        let data = try JSONEncoder().encode(r)
        XCTAssertEqual(try JSONDecoder().decode(DeactivationReport.self, from: data), r)
        let md = r.markdown()
        XCTAssertTrue(md.contains("| all | random | 41 | vi |"), md)
        XCTAssertTrue(r.table().contains("ΔEng"))
    }
}
