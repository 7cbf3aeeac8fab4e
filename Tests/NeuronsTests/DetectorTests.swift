import Foundation
import ModelIO
import Models
@testable import Neurons
import TestSupport
import XCTest

final class DetectorTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("detector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    func testLoadDocuments() throws {
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(at: d) }
        let f = d.appendingPathComponent("c.txt")
        try Data("first doc\n\n  \nsecond doc\r\nthird\n".utf8).write(to: f)
        XCTAssertEqual(try loadDocuments(path: f.path, count: 2), ["first doc", "second doc"])
        XCTAssertEqual(try loadDocuments(path: f.path, count: 10), ["first doc", "second doc", "third"])
        let empty = d.appendingPathComponent("e.txt")
        try Data("\n \n".utf8).write(to: empty)
        XCTAssertThrowsError(try loadDocuments(path: empty.path, count: 3)) { e in
            guard case .emptyCorpus(let p, _)? = e as? NeuronsError else { return XCTFail("\(e)") }
            XCTAssertEqual(p, empty.path)
        }
        XCTAssertThrowsError(try loadDocuments(path: d.appendingPathComponent("missing.txt").path, count: 3))
        XCTAssertThrowsError(try loadDocuments(path: f.path, count: 0))
    }

    /// Detection over three documents agrees with PLND run by hand: means, top-k counts, dump
    /// contents, the corpus hash, and a selected set that validates against the model.
    func testDetectorMatchesDirectPLND() throws {
        guard let url = TestModels.url(TestModels.smolFile) else { throw XCTSkip("model not fetched") }
        let model = try LoadedModel.load(ggufAt: url, knownFingerprint: "test-fingerprint")
        let docs = ["The cat sat on the mat and looked at the garden.", "Rivers flow to the sea; the sea holds the salt.",
                    "A short note about numbers: one, two, three, four."]
        let detector = try Detector(model: model, maxTokens: 12, threads: 2)
        let sizes = StructureSizes(config: model.config)
        let acc = PLNDAccumulator(sizes: sizes, topKAttention: 8, topKFFN: 32, epsilon: nil)
        let d = try tempDir()
        defer { try? FileManager.default.removeItem(at: d) }
        let dumpURL = d.appendingPathComponent("scores.safetensors")
        let dump = try ScoreDumpWriter(url: dumpURL)
        var progress = [Int]()
        let summary = try detector.run(docs, into: acc, dump: dump) { progress.append($0.documentsDone) }
        try dump.finish(metadata: ["model_fingerprint": model.fingerprint])
        XCTAssertEqual(progress, [1, 2, 3])
        XCTAssertEqual(summary.documents, 3)
        XCTAssertEqual(summary.tokens, docs.map { min(12, model.tokenizer.encode($0, addSpecialTokens: true).count) }.reduce(0, +))

        let plnd = PLND(transformer: model.transformer, threads: 1)
        var direct = [[LayerImportance]]()
        for doc in docs { direct.append(try plnd.importance(of: detector.tokens(of: doc))) }
        XCTAssertTrue(direct.allSatisfy { $0.count == model.config.layers })
        let dumped = try ReferenceTensors(url: dumpURL)
        for l in [0, 7, model.config.layers - 1] {
            for st in NeuronStructure.allCases {
                let mean = acc.meanImportance(layer: l, structure: st)
                let expected = (0..<mean.count).map { i in direct.reduce(0.0) { $0 + $1[l][st][i] } / 3 }
                XCTAssertLessThan(relativeL2(mean, expected), 1e-12, "layer \(l) \(st): accumulated mean = direct mean (thread count must not matter)")
                let k = st.isAttention ? 8 : 32
                var counts = [Int](repeating: 0, count: mean.count)
                for doc in direct { for i in PLNDAccumulator.topIndices(doc[l][st], k) { counts[i] += 1 } }
                XCTAssertEqual(acc.topKCount(layer: l, structure: st), counts)
                // float32 dump: relative error of a float32 rounding, 6e-8, per element.
                let v = try dumped.doubles("doc1.layer\(l).\(st.rawValue)")
                XCTAssertLessThan(relativeL2(v, direct[1][l][st]), 1e-7)
            }
        }
        // Corpus hash: length-prefixed UTF-8 of the documents used.
        var h = SHA256Hasher()
        for doc in docs {
            var n = UInt64(doc.utf8.count).littleEndian
            withUnsafeBytes(of: &n) { h.update($0) }
            h.update(Data(doc.utf8))
        }
        XCTAssertEqual(summary.corpusSHA256, h.finalizeHex())

        var set = try acc.select(SelectionOptions(topKAttention: 8, topKFFN: 32, consistency: 1.0, cap: 5))
        set.fingerprint = model.fingerprint
        try set.validate(against: model.config, fingerprint: model.fingerprint)
        XCTAssertGreaterThan(set.totalCount, 0)
        for l in set.nonEmptyLayers { for st in NeuronStructure.allCases { XCTAssertLessThanOrEqual(set.count(layer: l, structure: st), 5) } }
        XCTAssertThrowsError(try detector.run([""], into: acc)) { e in
            guard case .emptyCorpus? = e as? NeuronsError else { return XCTFail("\(e)") }
        }
    }
}
