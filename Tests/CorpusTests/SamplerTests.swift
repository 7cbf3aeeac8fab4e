import XCTest
@testable import Corpus

final class SamplerTests: XCTestCase {
    func corpus(_ n: Int) -> [Document] {
        (0..<n).map { Document(title: "T\($0)", id: String($0), text: "Document number \($0) has some text in it.") }
    }

    func testDeterministicDisjointAndSized() throws {
        let sampler = try DocumentSampler(documents: 30, heldout: 10, seed: 42)
        let a = sampler.split(corpus(200))
        let b = sampler.split(corpus(200))
        XCTAssertEqual(a.train, b.train)
        XCTAssertEqual(a.heldout, b.heldout)
        XCTAssertEqual(a.train.count, 30)
        XCTAssertEqual(a.heldout.count, 10)
        XCTAssertTrue(Set(a.train.map(\.id)).isDisjoint(with: a.heldout.map(\.id)))
        XCTAssertTrue(Set(a.train.map(\.text)).isDisjoint(with: a.heldout.map(\.text)))
        XCTAssertTrue(a.warnings.isEmpty, "\(a.warnings)")
    }

    func testIndependentOfSourceOrderAndSeedSensitive() throws {
        let sampler = try DocumentSampler(documents: 20, heldout: 5, seed: 7)
        let docs = corpus(100)
        let forward = sampler.split(docs)
        let backward = sampler.split(docs.reversed())
        XCTAssertEqual(forward.train, backward.train)
        XCTAssertEqual(forward.heldout, backward.heldout)
        let other = try DocumentSampler(documents: 20, heldout: 5, seed: 8).split(docs)
        XCTAssertNotEqual(Set(other.train.map(\.id)), Set(forward.train.map(\.id)))
    }

    func testTrainIsStableWhenHeldoutChanges() throws {
        let docs = corpus(100)
        let small = try DocumentSampler(documents: 20, heldout: 0, seed: 1).split(docs)
        let large = try DocumentSampler(documents: 20, heldout: 30, seed: 1).split(docs)
        XCTAssertEqual(small.train, large.train)
    }

    func testExactDuplicatesAreRemoved() throws {
        var docs = corpus(10)
        docs += docs.map { Document(title: $0.title + " copy", id: $0.id + "c", text: $0.text) }
        let split = try DocumentSampler(documents: 8, heldout: 2, seed: 3).split(docs)
        let texts = (split.train + split.heldout).map(\.text)
        XCTAssertEqual(texts.count, 10)
        XCTAssertEqual(Set(texts).count, 10)
        XCTAssertEqual(split.duplicatesRemoved, 10)
        XCTAssertTrue(split.warnings.contains { $0.contains("10 exact duplicate") })
    }

    func testShortfallIsSharedAndWarned() throws {
        let split = try DocumentSampler(documents: 40, heldout: 10, seed: 0).split(corpus(20))
        XCTAssertEqual(split.train.count, 16)  // 20 × 40/50
        XCTAssertEqual(split.heldout.count, 4)
        XCTAssertTrue(split.warnings.first?.contains("only 20 distinct eligible documents") ?? false, "\(split.warnings)")
    }

    func testMinCharsAndScriptFilter() throws {
        let docs = [
            Document(title: "ja", id: "1", text: "東京都は日本の首都である。"),
            Document(title: "en", id: "2", text: "Wikipedia:Project page written in English only."),
            Document(title: "short", id: "3", text: "短い"),
        ]
        let sampler = try DocumentSampler(documents: 3, seed: 0, minChars: 5, profile: try ScriptProfile(language: "ja"))
        let split = sampler.split(docs)
        XCTAssertEqual(split.train.map(\.title), ["ja"])
        XCTAssertEqual(split.offScript, 1)
        XCTAssertTrue(split.warnings.contains { $0.contains("'en' (0% ja script)") }, "\(split.warnings)")
    }

    func testInvalidArguments() {
        XCTAssertThrowsError(try DocumentSampler(documents: -1))
        XCTAssertThrowsError(try DocumentSampler(documents: 1, heldout: -2))
        XCTAssertThrowsError(try DocumentSampler(documents: 1, minScriptFraction: 1.5))
    }

    func testSplitFromSampleDump() throws {
        let path = try samplePath("wiki/viwiki-20230501-sample.xml.zst")
        let sampler = try DocumentSampler(documents: 100, heldout: 20, seed: 2024, minChars: 200, profile: try ScriptProfile(language: "vi"))
        let a = try sampler.split(path: path)
        let b = try sampler.split(path: path)
        XCTAssertEqual(a.train.map(\.id), b.train.map(\.id))
        XCTAssertEqual(a.train.count, 100)
        XCTAssertEqual(a.heldout.count, 20)
        XCTAssertTrue(a.train.allSatisfy { $0.charCount >= 200 })
        XCTAssertTrue(Set(a.train.map(\.id)).isDisjoint(with: a.heldout.map(\.id)))
        XCTAssertTrue(a.warnings.contains { $0.contains("cut short") }, "\(a.warnings)")
    }
}

extension SamplerTests {
    func testShardsAreOneSourceInAnyOrder() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let docs = corpus(60)
        var paths: [String] = []
        for shard in 0..<3 {
            let path = dir.appendingPathComponent("shard\(shard).jsonl.zst").path
            let writer = try DocumentWriter(path: path)
            for d in docs[(shard * 20)..<(shard * 20 + 20)] { try writer.write(d) }
            try writer.finish()
            paths.append(path)
        }
        let sampler = try DocumentSampler(documents: 10, heldout: 5, seed: 9)
        let a = try sampler.split(paths: paths)
        let b = try sampler.split(paths: paths.reversed())
        let memory = sampler.split(docs)
        XCTAssertEqual(a.train, b.train)
        XCTAssertEqual(a.heldout, b.heldout)
        XCTAssertEqual(a.train, memory.train)
        XCTAssertEqual(a.reports.map(\.documents), [20, 20, 20])
        XCTAssertThrowsError(try sampler.split(paths: []))
    }
}
