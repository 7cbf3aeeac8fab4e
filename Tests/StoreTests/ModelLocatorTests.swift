import Foundation
@testable import Store
import XCTest

final class ModelLocatorTests: XCTestCase {
    /// A file of `size` zero bytes (sparse, so cheap even at model size).
    private func makeSparseFile(_ url: URL, size: Int64) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    func testDefaultNames() throws {
        let dir = try makeTemporaryDirectory(self)
        let locator = ModelLocator(store: ModelStore(directory: dir), currentDirectory: dir)
        XCTAssertThrowsError(try locator.resolve("smollm2-135m", fetchIfMissing: false)) { error in
            XCTAssertEqual(error as? StoreError,
                           .modelMissing(name: "smollm2-135m", path: dir.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path))
            XCTAssertTrue(error.localizedDescription.contains("langneuron models fetch smollm2-135m"), error.localizedDescription)
        }
        let model = DefaultModel.smollm2_135m
        try makeSparseFile(dir.appendingPathComponent(model.fileName), size: model.size)
        let resolved = try locator.resolve("SmolLM2-135M", fetchIfMissing: false)
        XCTAssertEqual(resolved, ResolvedModel(url: dir.appendingPathComponent(model.fileName), kind: .gguf,
                                               defaultName: "smollm2-135m", knownSHA256: model.sha256))
    }

    func testPathsToGGUFFilesAndHuggingFaceFolders() throws {
        let dir = try makeTemporaryDirectory(self)
        let locator = ModelLocator(store: ModelStore(directory: dir.appendingPathComponent("none")), currentDirectory: dir)

        try Data("GGUF\u{3}\0\0\0".utf8).write(to: dir.appendingPathComponent("m.gguf"))
        XCTAssertEqual(try locator.resolve("m.gguf"), ResolvedModel(url: dir.appendingPathComponent("m.gguf"), kind: .gguf))
        XCTAssertEqual(try locator.resolve(dir.appendingPathComponent("m.gguf").path).kind, .gguf)

        try Data("PK\u{3}\u{4}".utf8).write(to: dir.appendingPathComponent("not.gguf"))
        XCTAssertThrowsError(try locator.resolve("not.gguf")) { error in
            guard case .notAModel? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.localizedDescription.contains("GGUF"), error.localizedDescription)
        }

        let hf = dir.appendingPathComponent("hf-model")
        try FileManager.default.createDirectory(at: hf, withIntermediateDirectories: true)
        XCTAssertThrowsError(try locator.resolve("hf-model")) { error in
            XCTAssertTrue(error.localizedDescription.contains("config.json"), error.localizedDescription)
        }
        try Data("{}".utf8).write(to: hf.appendingPathComponent("config.json"))
        for spec in ["hf-model", "hf-model/", hf.path] {
            let resolved = try locator.resolve(spec)
            XCTAssertEqual(resolved.kind, .huggingFaceDirectory, spec)
            XCTAssertEqual(resolved.url.path, hf.path, spec)
            XCTAssertNil(resolved.knownSHA256)
        }
    }

    func testUnknownSpecListsDefaults() throws {
        let dir = try makeTemporaryDirectory(self)
        let locator = ModelLocator(store: ModelStore(directory: dir), currentDirectory: dir)
        for spec in ["gemma-7b", "no/such/file.gguf", ""] {
            XCTAssertThrowsError(try locator.resolve(spec)) { error in
                XCTAssertEqual(error as? StoreError, .unknownModel(spec: spec, known: ["gemma3-270m", "smollm2-135m"]))
                XCTAssertTrue(error.localizedDescription.contains("gemma3-270m, smollm2-135m"), error.localizedDescription)
            }
        }
    }

    func testRealDefaultModelsResolveWithoutFetching() throws {
        guard let store = ModelFetcherTests.realModelStore() else {
            throw XCTSkip("no default model found (set LANGNEURON_MODELS or run `langneuron models fetch`)")
        }
        let locator = ModelLocator(store: store)
        for model in DefaultModel.all where store.isPresent(model) {
            let resolved = try locator.resolve(model.name, fetchIfMissing: false)
            XCTAssertEqual(resolved.kind, .gguf)
            XCTAssertEqual(resolved.knownSHA256, model.sha256)
            // The file really is GGUF: resolving it as a plain path must agree.
            XCTAssertEqual(try locator.resolve(resolved.url.path).url, resolved.url)
        }
    }
}
