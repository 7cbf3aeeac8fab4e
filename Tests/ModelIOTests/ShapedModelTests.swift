import Foundation
@testable import ModelIO
import XCTest

/// The shaped benchmark models: the file llama.cpp and this tool run must have the preset's
/// shapes and types and label itself with the matrices' type.
final class ShapedModelTests: XCTestCase {
    /// A fixed-sequence generator (the test does not depend on Models' SplitMix64).
    struct Counter: RandomNumberGenerator {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        mutating func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state ^ (state >> 29) }
    }

    func testTestPresetWritesItsShapesTypesAndFileType() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shaped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let shape = try XCTUnwrap(ShapedModel.presets["test"])
        for (type, fileType) in [(GGMLType.q4_0, 2), (.q8_0, 7), (.q4_K, 14), (.f32, 0)] {
            let url = dir.appendingPathComponent("\(type).gguf")
            var rng = Counter()
            try shape.write(to: url, type: type, rng: &rng)
            let f = try GGUFFile(url: url)
            XCTAssertEqual(f.metadata["general.file_type"]?.int, fileType, "\(type)")
            XCTAssertEqual(f.tensors.count, 2 + 9 * shape.layers + 1)
            let kv = shape.kvHeads * (shape.hidden / shape.heads)
            XCTAssertEqual(f.tensorInfo("blk.1.attn_k.weight")?.shape, [kv, shape.hidden])
            XCTAssertEqual(f.tensorInfo("blk.0.ffn_down.weight")?.shape, [shape.hidden, shape.ffn])
            XCTAssertEqual(f.tensorInfo("output.weight")?.type, type)
            XCTAssertEqual(f.tensorInfo("output_norm.weight")?.type, .f32)
            let params = f.tensors.map(\.elementCount).reduce(0, +)
            XCTAssertEqual(params, shape.parameterCount)
            // Weights of RMS 1/√fan-in whatever the type (so activations keep their scale); 30%
            // covers the f16 rounding of the scales and the sampling of 65,536 random weights.
            for name in ["blk.0.attn_q.weight", "blk.1.ffn_down.weight"] {
                let info = try XCTUnwrap(f.tensorInfo(name))
                let w = try f.floats(name)
                XCTAssertTrue(w.allSatisfy(\.isFinite))
                let rms = (w.map { Double($0) * Double($0) }.reduce(0, +) / Double(w.count)).squareRoot()
                XCTAssertEqual(rms * Double(info.ggufDims[0]).squareRoot(), 1, accuracy: 0.3, "\(type) \(name)")
            }
        }
    }
}
