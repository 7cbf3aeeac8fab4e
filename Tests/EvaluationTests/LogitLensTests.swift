import Evaluation
import Foundation
import Models
import TestSupport
import XCTest

final class LogitLensTests: XCTestCase {
    /// Layers whose top-1 − top-2 logit gap (ours) is below this are not compared: there the
    /// argmax may flip between our float32 pass and the reference's on rounding alone.
    static let minimumMargin: Float = 0.05

    func checkReference(_ name: String, file: String) throws {
        guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not in \(TestModels.directory.path); set LANGNEURON_MODELS") }
        let manifest = try SharedData.manifest(name)
        guard let forward = manifest["forward"] as? [[String: Any]], !forward.isEmpty else { return XCTFail("\(name): no forward entries") }
        let m = try LoadedModel.load(at: url)
        var compared = 0, skipped = 0
        for (i, entry) in forward.enumerated() {
            guard let ids = (entry["ids"] as? [NSNumber])?.map({ Int32($0.intValue) }),
                  let ref = (entry["lens_top1_last_pos"] as? [NSNumber])?.map({ Int32($0.intValue) }) else {
                return XCTFail("\(name) forward[\(i)]: missing ids or lens_top1_last_pos")
            }
            XCTAssertEqual(ref.count, m.config.layers + 1, "one entry per layer plus the output")
            let top = try LogitLens.topK(model: m.transformer, ids: ids, k: 2)
            XCTAssertEqual(top.count, m.config.layers + 1)
            for l in 0...m.config.layers {
                guard let last = top[l].last else { return XCTFail("layer \(l): no positions") }
                XCTAssertEqual(top[l].count, ids.count)
                if last.margin < Self.minimumMargin && last.ids[0] != ref[l] { skipped += 1; continue }
                XCTAssertEqual(last.ids[0], ref[l], "\(name) forward[\(i)] layer \(l): margin \(last.margin)")
                compared += 1
            }
        }
        // the check must not pass by skipping: nearly every layer is compared
        XCTAssertGreaterThanOrEqual(compared, forward.count * (m.config.layers + 1) - 2, "\(name): compared \(compared), skipped \(skipped)")
        print("\(name): lens top-1 matched the reference at \(compared) layer(s), \(skipped) skipped for margin < \(Self.minimumMargin)")
    }

    func testLensMatchesReferenceGemma() throws { try checkReference("gemma3-270m", file: TestModels.gemmaFile) }
    func testLensMatchesReferenceSmolLM() throws { try checkReference("smollm2-135m", file: TestModels.smolFile) }

    /// On the tiny Llama: the lens of the last layer's output is the model's own output head (top-k
    /// ids and logits equal a full sort of the model's logits), and the run's ratios add up.
    func testLensOutputLayerIsTheModelsHeadAndRatiosAddUp() throws {
        let url = SharedData.url("reference/tiny/llama/model")
        try XCTSkipUnless(FileManager.default.fileExists(atPath: url.path), "shared/ reference models not present")
        let m = try LoadedModel.load(at: url)
        let t = m.transformer, V = t.config.vocabularySize
        let ids = m.tokenizer.encode("The river flows past the old mill and into the sea.", addSpecialTokens: true)
        let k = 5
        let top = try LogitLens.topK(model: t, ids: ids, k: k, headRows: 3)
        XCTAssertEqual(top.count, t.config.layers + 1)
        let hidden = try t.forward(ids, cache: t.makeCache(capacity: ids.count))
        var logits = [Float](repeating: 0, count: ids.count * V)
        logits.withUnsafeMutableBufferPointer { t.logits($0.baseAddress!, hidden: hidden, rows: ids.count) }
        for p in 0..<ids.count {
            let row = Array(logits[(p * V)..<((p + 1) * V)])
            let order = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            let got = top[t.config.layers][p]
            XCTAssertEqual(got.ids, order.prefix(k).map { Int32($0) }, "position \(p)")
            // same arithmetic path (final norm + head), so equal to float rounding of the head chunking: 1e-4 relative
            for (i, j) in order.prefix(k).enumerated() {
                XCTAssertEqual(got.logits[i], row[j], accuracy: 1e-4 * max(1, abs(row[j])))
            }
        }
        // earlier layers differ from the output layer somewhere (the lens is not just the output)
        XCTAssertNotEqual(top[0].map(\.ids), top[t.config.layers].map(\.ids))

        let en = WordFrequencies(texts: ["the river flows past the old mill"])
        let c = try LensTokenClassifier(target: "en", english: en, targetWords: en)
        let r = try LogitLens.run(model: t, tokenizer: m.tokenizer, documents: [("en", ["The river flows past the old mill.", "Another short text here."])],
                                  classifiers: ["en": c], k: k, maxTokens: 8)
        let res = try XCTUnwrap(r.languages.first)
        XCTAssertEqual(res.documents, 2)
        XCTAssertEqual(res.layers.count, t.config.layers + 1)
        for l in res.layers {
            XCTAssertEqual(l.tokens, res.positions * k)
            XCTAssertEqual(l.english + l.target + l.other, 1, accuracy: 1e-12)
            XCTAssertEqual(l.noLetters + l.otherScript + l.unknownWord, l.other, accuracy: 1e-12)
            XCTAssertEqual(l.unknownWord, 0, "English targets use no word list")
            XCTAssertEqual(l.target, 0, "target English counts as English, never target")
        }
    }

    func testSelectAndClassifier() throws {
        let en = WordFrequencies(texts: ["the cat and the dog", "a house with a garden"])
        let vi = WordFrequencies(texts: ["con mèo và con chó", "nhà có vườn, anh ta"])
        XCTAssertEqual(WordFrequencies.words("Hà Nội, 2024!"), ["hà", "nội"])
        let cv = try LensTokenClassifier(target: "vi", english: en, targetWords: vi)
        XCTAssertEqual(cv.classify(" the"), .english)
        XCTAssertEqual(cv.classify(" con"), .target, "only in the Vietnamese list")
        XCTAssertEqual(cv.classify("ường"), .target, "diacritics")
        XCTAssertEqual(cv.classify(" 12,"), .noLetters)
        XCTAssertEqual(cv.classify("xyzzy"), .unknownWord, "in neither list")
        XCTAssertEqual(cv.classify("кот"), .otherScript)
        let cj = try LensTokenClassifier(target: "ja", english: en, targetWords: WordFrequencies(texts: []))
        XCTAssertEqual(cj.classify("です"), .target)
        XCTAssertEqual(cj.classify("東京"), .target)
        XCTAssertEqual(cj.classify(" house"), .english)
        XCTAssertEqual(cj.classify("кот"), .otherScript)
        let ce = try LensTokenClassifier(target: "en", english: en, targetWords: en)
        XCTAssertEqual(ce.classify(" garden"), .english)
        XCTAssertEqual(ce.classify("です"), .otherScript)
        XCTAssertEqual(ce.classify("\n"), .noLetters)
        XCTAssertThrowsError(try LensTokenClassifier(target: "xx-unknown", english: en, targetWords: en))

        let r = LensReport(topK: 2, maxTokens: 8, layers: 1, languages: [
            LensLanguageResult(language: "vi", documents: 1, positions: 2, layers: [
                LensLayerRatios(layer: 0, english: 0.25, target: 0.5, noLetters: 0.25, otherScript: 0, unknownWord: 0, tokens: 4),
                LensLayerRatios(layer: 1, english: 0.5, target: 0.5, noLetters: 0, otherScript: 0, unknownWord: 0, tokens: 4),
            ]),
        ])
        XCTAssertEqual(r.csv(), "language,layer,english,target,other,no_letters,other_script,unknown_word,tokens\n"
                       + "vi,0,0.250000,0.500000,0.250000,0.250000,0.000000,0.000000,4\n"
                       + "vi,1,0.500000,0.500000,0.000000,0.000000,0.000000,0.000000,4\n")
        XCTAssertTrue(r.svg().contains("<polyline"))
    }
}
