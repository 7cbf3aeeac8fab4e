import Foundation
import ModelIO
import Models
@testable import Neurons
import TestSupport
import XCTest

/// PLND importance against the float64 PyTorch reference (shared/reference, method §3).
/// Tolerances (reference README): relative L2 per vector within 1e-3 for ffn, attn_v and
/// attn_output (exact closed forms), within 1e-2 for attn_q and attn_k (float32 softmax differences).
final class PLNDReferenceTests: XCTestCase {
    static var models: [String: Transformer] = [:]

    static func model(_ file: String) throws -> Transformer {
        if let m = models[file] { return m }
        guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched (run scripts/bootstrap.sh)") }
        let m = try ModelLoader.load(gguf: GGUFFile(url: url))
        models[file] = m
        return m
    }

    func check(manifest name: String, file: String) throws {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not present") }
        let m = try Self.model(file)
        let manifest = try SharedData.manifest(name)
        let ref = try ReferenceTensors(url: SharedData.url("reference/\(name)/tensors.safetensors"))
        let forward = try XCTUnwrap(manifest["forward"] as? [[String: Any]])
        let plnd = PLND(transformer: m, threads: 2)
        var worst = [NeuronStructure: Double]()
        var checked = 0
        for (i, f) in forward.enumerated() {
            guard let layers = f["plnd_layers"] as? [Int] else { continue }
            let ids = try XCTUnwrap(f["ids"] as? [Int]).map(Int32.init)
            let result = try plnd.importance(of: ids, layers: Set(layers))
            XCTAssertEqual(result.map(\.layer), layers.sorted())
            for r in result {
                for s in NeuronStructure.allCases {
                    let expected = try ref.doubles("t\(i).plnd.l\(r.layer).\(s.rawValue)")
                    XCTAssertEqual(r[s].count, expected.count, "\(name) t\(i) l\(r.layer) \(s.rawValue) length")
                    let err = relativeL2(r[s], expected)
                    worst[s] = max(worst[s] ?? 0, err)
                    let tol = (s == .attnQ || s == .attnK) ? 1e-2 : 1e-3
                    XCTAssertLessThan(err, tol, "\(name) text \(i) layer \(r.layer) \(s.rawValue): relative L2 \(err)")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 0, "\(name): no PLND reference vectors found")
        print("\(name) PLND worst relative L2: " + NeuronStructure.allCases.map { "\($0.rawValue) \(String(format: "%.2e", worst[$0] ?? .nan))" }.joined(separator: ", "))
    }

    func testGemmaPLND() throws { try check(manifest: "gemma3-270m", file: TestModels.gemmaFile) }
    func testSmolLMPLND() throws { try check(manifest: "smollm2-135m", file: TestModels.smolFile) }
}
