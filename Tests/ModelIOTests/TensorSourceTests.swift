import Foundation
import ModelIO
import TestSupport
import XCTest

final class TensorSourceTests: XCTestCase {
    func testGGUFAsTensorSource() throws {
        guard let url = TestModels.url(TestModels.smolFile) else { throw XCTSkip("model not fetched") }
        let g = try GGUFFile(url: url)
        let s: TensorSource = g
        XCTAssertEqual(s.tensorNames, g.tensors.map(\.name)) // file order
        XCTAssertEqual(s.shape(of: "token_embd.weight"), [49152, 576])
        XCTAssertEqual(s.storageType(of: "token_embd.weight"), "Q8_0")
        XCTAssertEqual(s.storageType(of: "blk.0.ffn_down.weight"), "Q4_1")
        XCTAssertNil(s.shape(of: "nope"))
        XCTAssertEqual(s.rowCount(of: "token_embd.weight"), 49152)
        let norm = try s.floatArray("blk.0.attn_norm.weight")
        XCTAssertEqual(norm, try g.floats("blk.0.attn_norm.weight"))
        var row = [Float](repeating: 0, count: 576)
        try row.withUnsafeMutableBufferPointer { try s.readFloats("token_embd.weight", rows: 0..<1, into: $0) }
        // Manifest first16 of token_embd.weight, first value (exact).
        XCTAssertEqual(row[0], -0.10654449462890625)
        XCTAssertThrowsError(try row.withUnsafeMutableBufferPointer { try s.readFloats("nope", into: $0) }) { err in
            guard case .missingTensor = err as? ModelIOError else { return XCTFail("\(err)") }
        }
    }
}
