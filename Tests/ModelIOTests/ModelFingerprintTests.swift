import Foundation
import ModelIO
import TestSupport
import XCTest

final class ModelFingerprintTests: XCTestCase {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("fp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testDefaultModelHashes() throws {
        let cache = FingerprintCache(url: try tempDir().appendingPathComponent("fp.json"))
        for (file, hash) in [(TestModels.gemmaFile, "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"),
                             (TestModels.smolFile, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")] {
            guard let url = TestModels.url(file) else { throw XCTSkip("\(file) not fetched") }
            XCTAssertEqual(try ModelFingerprint.of(url: url, cache: nil), hash)
            XCTAssertEqual(try ModelFingerprint.of(url: url, cache: cache), hash) // fills the cache
            XCTAssertEqual(try ModelFingerprint.of(url: url, cache: cache), hash) // from the cache
        }
    }

    func testShardedDirectory() throws {
        guard SharedData.isAvailable else { throw XCTSkip("shared/ not present") }
        let dir = SharedData.url("reference/tiny/mistral/model")
        // Expected value computed independently with the shell:
        //   for f in model-0000{1,2,3}-of-00003.safetensors; do printf '%s\t%s\n' $f $(sha256sum $f | cut -d' ' -f1); done | sha256sum
        XCTAssertEqual(try ModelFingerprint.of(url: dir, cache: nil), "ca8ac98b3a78161b1ceb80c7255b5581d43961a4df3aec81f0d59de7650ecd22")
        XCTAssertEqual(try ModelFingerprint.weightFiles(in: dir).map(\.lastPathComponent),
                       ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"])
        // Single-file checkpoint directory (same pipeline over model.safetensors).
        XCTAssertEqual(try ModelFingerprint.of(url: SharedData.url("reference/tiny/llama/model"), cache: nil),
                       "18fb15a1a4a09db0ab77ab02341164fe83b76ea0acd5a15c4b19b599db3023cb")
    }

    func testDirectoryLineFormat() throws {
        let d = try tempDir()
        try Data("B".utf8).write(to: d.appendingPathComponent("b.safetensors"))
        try Data("A".utf8).write(to: d.appendingPathComponent("a.safetensors"))
        try Data("ignored".utf8).write(to: d.appendingPathComponent("config.json"))
        try Data("ignored".utf8).write(to: d.appendingPathComponent(".hidden.safetensors"))
        let ha = SHA256Hasher.hex(Data("A".utf8)), hb = SHA256Hasher.hex(Data("B".utf8))
        let expected = SHA256Hasher.hex(Data("a.safetensors\t\(ha)\nb.safetensors\t\(hb)\n".utf8))
        XCTAssertEqual(try ModelFingerprint.of(url: d, cache: nil), expected)
        let empty = try tempDir()
        XCTAssertThrowsError(try ModelFingerprint.of(url: empty, cache: nil)) { err in
            guard case .missingFile = err as? ModelIOError else { return XCTFail("\(err)") }
        }
        XCTAssertThrowsError(try ModelFingerprint.of(url: empty.appendingPathComponent("nope.gguf"), cache: nil))
    }

    /// The cache is consulted while size and mtime match, and ignored once the file changes.
    func testCacheIsUsedAndInvalidated() throws {
        let d = try tempDir()
        let file = d.appendingPathComponent("m.gguf")
        try Data("weights v1".utf8).write(to: file)
        let cache = FingerprintCache(url: d.appendingPathComponent("cache/fingerprints.json"))
        let real = SHA256Hasher.hex(Data("weights v1".utf8))
        XCTAssertEqual(try ModelFingerprint.of(url: file, cache: cache), real)
        // The entry was written, keyed by the absolute path.
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: cache.url)) as? [String: Any])
        let files = try XCTUnwrap(json["files"] as? [String: [String: Any]])
        let key = file.resolvingSymlinksInPath().standardizedFileURL.path
        var entry = try XCTUnwrap(files[key])
        XCTAssertEqual(entry["sha256"] as? String, real)
        // Plant a different hash with the same size and mtime: it must be returned (cache hit).
        entry["sha256"] = String(repeating: "0", count: 64)
        let planted = try JSONSerialization.data(withJSONObject: ["version": 1, "files": [key: entry]])
        try planted.write(to: cache.url)
        XCTAssertEqual(try ModelFingerprint.of(url: file, cache: cache), String(repeating: "0", count: 64))
        // Change the file (size and mtime): the stale entry is ignored and replaced.
        try Data("weights version 2".utf8).write(to: file)
        XCTAssertEqual(try ModelFingerprint.of(url: file, cache: cache), SHA256Hasher.hex(Data("weights version 2".utf8)))
        // A corrupt cache is treated as empty.
        try Data("{not json".utf8).write(to: cache.url)
        XCTAssertEqual(try ModelFingerprint.of(url: file, cache: cache), SHA256Hasher.hex(Data("weights version 2".utf8)))
    }
}
