import Foundation
@testable import Models
@testable import Neurons
import XCTest

final class NeuronSetTests: XCTestCase {
    let sizes = StructureSizes(layers: 3, perLayer: [.attnQ: 8, .attnK: 4, .attnV: 4, .attnOutput: 8, .ffn: 16])
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("neuronset-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ text: String, _ name: String = "set.json") throws -> URL {
        let u = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: u)
        return u
    }

    func sample() -> NeuronSet {
        var s = NeuronSet(fingerprint: "abc", language: "vi", sizes: sizes,
                          layers: [0: LayerMask(attnQ: [3, 1], attnV: [2], ffn: [15, 0]), 2: LayerMask(attnOutput: [7])])
        s.extra["selection"] = .object(["consistency": .double(0.5), "top_k_ffn": .int(4), "epsilon": .double(2.0), "tiny": .double(1e-7)])
        return s
    }

    func testRoundTripKeepsEverythingAndIsByteStable() throws {
        let u = dir.appendingPathComponent("a.json")
        try sample().write(to: u)
        let loaded = try NeuronSet.load(url: u)
        XCTAssertEqual(loaded, sample())
        XCTAssertEqual(loaded.toLayerMasks()[0]?.attnQ, [1, 3])
        XCTAssertEqual(loaded.toLayerMasks()[0]?.ffn, [0, 15])
        XCTAssertNil(loaded.toLayerMasks()[1])
        XCTAssertEqual(loaded.count(layer: 0, structure: .attnQ), 2)
        XCTAssertEqual(loaded.totalCount, 6)
        let u2 = dir.appendingPathComponent("b.json")
        try Data("old contents".utf8).write(to: u2)
        try loaded.write(to: u2)
        try loaded.write(to: u2)
        XCTAssertEqual(try Data(contentsOf: u), try Data(contentsOf: u2), "same set → same bytes")
        let json = String(decoding: try Data(contentsOf: u), as: UTF8.self)
        XCTAssertTrue(json.contains("\"statistics\""))
        XCTAssertTrue(json.contains("\"share\""))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no temporary files left behind")
    }

    func testUnknownKeysSurvive() throws {
        let u = try write("""
        {"format": "langneuron.neurons/1", "model": {"fingerprint": "f", "note": "kept"}, "language": "sw",
         "layers": {"1": {"ffn": [2, 1], "attn_k": []}}, "custom": {"x": [1, 2.5, true, null]}}
        """)
        let s = try NeuronSet.load(url: u)
        XCTAssertEqual(s.extra["custom"], .object(["x": .array([.int(1), .double(2.5), .bool(true), .null])]))
        XCTAssertEqual(s.modelExtra["note"], .string("kept"))
        XCTAssertNil(s.sizes)
        let out = dir.appendingPathComponent("out.json")
        try s.write(to: out)
        let back = try NeuronSet.load(url: out)
        XCTAssertEqual(back, s)
        XCTAssertEqual(back.layers[1]?.ffn.sorted(), [1, 2])
    }

    func testModelIsOptional() throws {
        let s = try NeuronSet.load(url: write(#"{"format": "langneuron.neurons/1", "layers": {"0": {"attn_q": [3]}}}"#))
        XCTAssertNil(s.fingerprint)
        try s.validate(sizes: sizes)
    }

    func expect(_ text: String, _ check: (NeuronsError) -> Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let u = try write(text, "bad-\(UUID().uuidString).json")
        XCTAssertThrowsError(try NeuronSet.load(url: u), file: file, line: line) { e in
            guard let ne = e as? NeuronsError else { return XCTFail("not a NeuronsError: \(e)", file: file, line: line) }
            XCTAssertTrue(check(ne), "unexpected \(ne)", file: file, line: line)
            XCTAssertTrue(ne.localizedDescription.contains(u.path), "message names the file: \(ne.localizedDescription)", file: file, line: line)
        }
    }

    func testBadFilesGiveClearErrors() throws {
        try expect("not json") { if case .unreadableFile = $0 { return true }; return false }
        try expect(#"{"layers": {}}"#) { if case .badField(_, "format", _) = $0 { return true }; return false }
        try expect(#"{"format": "other/2", "layers": {}}"#) { if case .unsupportedFormat(_, "other/2") = $0 { return true }; return false }
        try expect(#"{"format": "langneuron.neurons/1"}"#) { if case .badField(_, "layers", _) = $0 { return true }; return false }
        try expect(#"{"format": "langneuron.neurons/1", "layers": {"0": {"mlp": [1]}}}"#) {
            if case .unknownStructure(_, "0", "mlp") = $0 { return true }; return false
        }
        try expect(#"{"format": "langneuron.neurons/1", "layers": {"0": {"ffn": [1, 2, 1]}}}"#) {
            if case .duplicateIndex(_, 0, "ffn", 1) = $0 { return true }; return false
        }
        try expect(#"{"format": "langneuron.neurons/1", "layers": {"0": {"ffn": [-1]}}}"#) {
            if case .badField(_, "layers.0.ffn", _) = $0 { return true }; return false
        }
        try expect(#"{"format": "langneuron.neurons/1", "layers": {"x": {"ffn": [1]}}}"#) {
            if case .badField(_, "layers.x", _) = $0 { return true }; return false
        }
        // Ranges are checked at load when the file records the model's sizes.
        try expect(#"{"format": "langneuron.neurons/1", "model": {"layers": 2, "sizes": {"attn_q": 4, "attn_k": 2, "attn_v": 2, "attn_output": 4, "ffn": 8}}, "layers": {"0": {"ffn": [8]}}}"#) {
            if case .indexOutOfRange(_, 0, "ffn", 8, 8) = $0 { return true }; return false
        }
    }

    func testValidateAgainstModel() throws {
        var s = sample()
        s.sizes = nil
        try s.validate(sizes: sizes)
        var config = try XCTUnwrap(Self.config())
        config.layers = 3
        XCTAssertThrowsError(try s.validate(against: config, fingerprint: "other")) { e in
            guard case .fingerprintMismatch(_, "other", "abc")? = e as? NeuronsError else { return XCTFail("\(e)") }
        }
        s.layers[0]?.attnK = [4]
        XCTAssertThrowsError(try s.validate(sizes: sizes)) { e in
            guard case .indexOutOfRange(_, 0, "attn_k", 4, 4)? = e as? NeuronsError else { return XCTFail("\(e)") }
        }
        s.layers[0]?.attnK = [1, 1]
        XCTAssertThrowsError(try s.validate(sizes: sizes)) { e in
            guard case .duplicateIndex(_, 0, "attn_k", 1)? = e as? NeuronsError else { return XCTFail("\(e)") }
        }
        s.layers[0]?.attnK = []
        s.layers[3] = LayerMask(ffn: [1])
        XCTAssertThrowsError(try s.validate(sizes: sizes)) { e in
            guard case .badLayer(_, "3", 3)? = e as? NeuronsError else { return XCTFail("\(e)") }
        }
    }

    /// A small config for validation tests (values only, no weights).
    static func config() -> ModelConfig? {
        ModelConfig(architecture: .llama, format: .gguf, vocabularySize: 10, hidden: 8, layers: 3, heads: 2, kvHeads: 1, headDim: 4,
                    ffn: 16, rmsEpsilon: 1e-5, ropeStyle: .halves,
                    layerAttention: Array(repeating: LayerAttention(window: 0, ropeBase: 1e4, ropeScaling: .none), count: 3),
                    attentionScale: 0.5, activation: .swiglu, qkNorm: false, qkvBias: false, sandwichNorms: false,
                    normWeightOffset: 0, embeddingScale: 1, tiedEmbeddings: true, finalLogitSoftcap: nil)
    }

    func testSubtracting() {
        let a = sample()
        let b = NeuronSet(layers: [0: LayerMask(attnQ: [3], ffn: [0, 9])])
        let d = a.subtracting(b)
        XCTAssertEqual(d.layers[0]?.attnQ, [1])
        XCTAssertEqual(d.layers[0]?.ffn, [15])
        XCTAssertEqual(d.layers[2]?.attnOutput, [7])
    }
}
