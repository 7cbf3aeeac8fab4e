import Foundation
import Models
import TestSupport
import XCTest

/// Loading and scoring a real model keeps its weights in the file's mapping: resident memory
/// grows by about the file's size (the pages the products touch) plus activations, not by the
/// float32 size of the model. Threshold: half the float32 size (gemma3-270m: 268 M parameters,
/// 1.07 GB as float32; the GGUF is 253 MB); a float32 copy alone would exceed it.
final class StoredWeightsMemoryTests: XCTestCase {
    func testLoadingAndScoringDoNotGrowByTheFloat32Size() throws {
        guard let url = TestModels.url(TestModels.gemmaFile) else { throw XCTSkip("gemma3-270m not fetched") }
        let before = MemoryPlan.currentRSS
        XCTAssertGreaterThan(before, 0, "/proc/self/statm readable")
        let model = try LoadedModel.load(at: url)
        let ids = model.tokenizer.encode("Hà Nội là thủ đô của Việt Nam. The capital of France is Paris.", addSpecialTokens: true)
        let scores = try model.transformer.score(ids)
        XCTAssertTrue(scores.nll.allSatisfy(\.isFinite))
        let grown = MemoryPlan.currentRSS - before
        let c = model.config
        let float32Bytes = 4 * (model.transformer.weights.layers.reduce(0) { $0 + $1.parameterCount } + c.vocabularySize * c.hidden)
        print(String(format: "gemma3-270m: RSS grew by %.0f MB (stored weights %.0f MB, float32 size %.0f MB)",
                     Double(grown) / 1e6, Double(model.transformer.weights.storedMatrixBytes) / 1e6, Double(float32Bytes) / 1e6))
        XCTAssertLessThan(grown, float32Bytes / 2)
        withExtendedLifetime(model) {}
    }
}
