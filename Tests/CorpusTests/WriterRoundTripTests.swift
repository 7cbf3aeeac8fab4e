import XCTest
@testable import Corpus

final class WriterRoundTripTests: XCTestCase {
    func testExtractWriteReadRoundTrip() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let docs = [
            Document(title: "Quote \"and\" backslash \\", id: "1", text: "Line one\nLine two\twith tab and control \u{01}.", url: "https://x/1"),
            Document(title: "Tiếng Việt", id: "2", text: "東京 বাংলা emoji 🙂"),
        ]
        for name in ["out.jsonl.zst", "out.jsonl"] {
            let path = dir.appendingPathComponent(name).path
            let writer = try DocumentWriter(path: path)
            for d in docs { try writer.write(d) }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the destination before finish()")
            try writer.finish()
            let back = try DocumentReader(path: path).readAll()
            XCTAssertEqual(back, docs, name)
            // chars/bytes fields are written.
            let reread = try DocumentReader(path: path, options: .init(format: .jsonLines))
            _ = try reread.readAll()
            XCTAssertEqual(reread.report.documents, 2)
        }
        let plain = try String(contentsOfFile: dir.appendingPathComponent("out.jsonl").path, encoding: .utf8)
        // Counts checked against the standard library's own views.
        let expected = #""chars":\#(docs[1].text.unicodeScalars.count),"bytes":\#(docs[1].text.utf8.count),"#
        XCTAssertTrue(plain.contains(expected), plain)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["out.jsonl", "out.jsonl.zst"])
    }

    func testAbandonedWriterLeavesNothing() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.jsonl.zst").path
        do {
            let writer = try DocumentWriter(path: path)
            try writer.write(Document(title: "a", id: "1", text: "b"))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
        XCTAssertThrowsError(try DocumentWriter(path: dir.appendingPathComponent("missing/x.jsonl").path))
    }

    func testSampleDumpExtractRoundTripIsDeterministic() throws {
        let source = try samplePath("wiki/enwiki-sample.xml.bz2")
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var outputs: [Data] = []
        for k in 0..<2 {
            let path = dir.appendingPathComponent("en\(k).jsonl.zst").path
            let reader = try DocumentReader(path: source, options: .init(minChars: 500))
            let writer = try DocumentWriter(path: path)
            var docs: [Document] = []
            while let d = try reader.next() {
                docs.append(d)
                try writer.write(d)
            }
            try writer.finish()
            XCTAssertEqual(try DocumentReader(path: path).readAll(), docs)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertEqual(outputs[0], outputs[1], "byte-identical output")
    }
}

extension WriterRoundTripTests {
    func testWriteAfterFinishThrows() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let writer = try DocumentWriter(path: dir.appendingPathComponent("a.jsonl").path)
        try writer.finish()
        XCTAssertThrowsError(try writer.write(Document(title: "t", id: "1", text: "x")))
    }
}
