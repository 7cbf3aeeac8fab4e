import Foundation
import ModelIO
import TestSupport
import XCTest

final class GGUFFileTests: XCTestCase {
    func testParsesDefaultModelHeaders() throws {
        for (file, arch, layers) in [("gemma-3-270m-q4_k_m.gguf", "gemma3", 18), ("SmolLM2-135M-Instruct.Q4_1.gguf", "llama", 30)] {
            guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched") }
            let g = try GGUFFile(url: url)
            XCTAssertEqual(g.metadata["general.architecture"]?.string, arch)
            XCTAssertEqual(g.metadata["\(arch).block_count"]?.int, layers)
            XCTAssertNotNil(g.tensorInfo("token_embd.weight"))
            XCTAssertNotNil(g.tensorInfo("blk.0.attn_q.weight"))
            XCTAssertGreaterThan(g.metadata["tokenizer.ggml.tokens"]?.stringArray?.count ?? 0, 40000)
        }
    }

    func testTruncatedFileIsRejectedWithClearError() throws {
        guard let url = TestModels.url("SmolLM2-135M-Instruct.Q4_1.gguf") else { throw XCTSkip("model not fetched") }
        let full = try MappedFile(url: url)
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("trunc-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: tmp) }
        // Cut inside the tensor data and inside the metadata: both must fail with `truncated`.
        for cut in [full.size - 1000, 2_000] {
            try Data(UnsafeRawBufferPointer(rebasing: full.bytes[0..<cut])).write(to: tmp)
            XCTAssertThrowsError(try GGUFFile(url: tmp)) { err in
                guard case .truncated = err as? ModelIOError else { return XCTFail("expected truncated, got \(err)") }
                XCTAssertTrue(err.localizedDescription.contains(tmp.path))
            }
        }
    }

    func testNotGGUF() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try Data("PK\u{3}\u{4}hello world".utf8).write(to: tmp)
        XCTAssertThrowsError(try GGUFFile(url: tmp)) { err in
            guard case .notGGUF = err as? ModelIOError else { return XCTFail("expected notGGUF, got \(err)") }
        }
    }
}
