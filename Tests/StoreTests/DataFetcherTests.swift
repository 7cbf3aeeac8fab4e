import Foundation
import ModelIO
@testable import Store
import TestSupport
import XCTest

/// Downloads against a loopback HTTP server; never the internet.
final class DataFetcherTests: XCTestCase {
    private let hello = Data("hello, data set\n".utf8)
    private let world = Data("world\n".utf8)
    private let xml = Data(String(repeating: "<page><title>Hà Nội</title><text>xin chào</text></page>\n", count: 200).utf8)

    /// mirror/docs/{hello,world}.txt and mirror/wiki/sample.xml.xz.
    private func makeMirror() throws -> URL {
        let mirror = try makeTemporaryDirectory(self).appendingPathComponent("mirror")
        let docs = mirror.appendingPathComponent("docs")
        let wiki = mirror.appendingPathComponent("wiki")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: wiki, withIntermediateDirectories: true)
        try hello.write(to: docs.appendingPathComponent("hello.txt"))
        try world.write(to: docs.appendingPathComponent("world.txt"))
        let plain = wiki.appendingPathComponent("sample.xml")
        try xml.write(to: plain)
        XCTAssertEqual(try runTool("xz", ["-T1", "-0", plain.path]), 0)  // replaces it with sample.xml.xz
        return mirror
    }

    private func catalog(helloHash: String? = nil, helloSize: Int64? = nil, xmlHash: String? = nil,
                         extraMissing: Bool = false) -> DataCatalog {
        let canonical = URL(string: "http://127.0.0.1:9/canonical-must-not-be-used")!
        var docs = [
            DataFile(name: "hello.txt", size: helloSize ?? Int64(hello.count),
                     sha256: helloHash ?? SHA256Hasher.hex(hello), source: canonical),
            DataFile(name: "world.txt", size: Int64(world.count), sha256: SHA256Hasher.hex(world), source: canonical),
        ]
        if extraMissing {
            docs.append(DataFile(name: "absent.txt", size: 1, sha256: String(repeating: "0", count: 64), source: canonical))
        }
        return DataCatalog(dataSets: [
            DataSet(name: "docs", summary: "", directory: "docs", files: docs, resolvesToDirectory: true),
            DataSet(name: "sample", summary: "", directory: "wiki",
                    files: [DataFile(name: "sample.xml.zst", size: 0, sha256: "", source: canonical,
                                     transcoding: .xzToZstd(contentSize: Int64(xml.count),
                                                            contentSHA256: xmlHash ?? SHA256Hasher.hex(xml), level: 19))],
                    resolvesToDirectory: false),
        ])
    }

    private func fetcher(_ catalog: DataCatalog, server: LoopbackServer, into dir: URL) -> DataFetcher {
        DataFetcher(root: DataRoot(searchPaths: [dir], writableRoot: dir, catalog: catalog), mirror: server.baseURL)
    }

    func testHappyPathThenSecondFetchDoesNothing() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        let f = fetcher(catalog(), server: server, into: dest)

        guard case let .fetched(docsURL, files, bytes) = try f.fetch("docs") else { return XCTFail("expected a download") }
        XCTAssertEqual(files, 2)
        XCTAssertEqual(bytes, Int64(hello.count + world.count))
        XCTAssertEqual(docsURL.path, dest.appendingPathComponent("docs").path)
        XCTAssertEqual(try Data(contentsOf: docsURL.appendingPathComponent("hello.txt")), hello)
        XCTAssertEqual(try Data(contentsOf: docsURL.appendingPathComponent("world.txt")), world)

        guard case let .fetched(sampleURL, _, _) = try f.fetch("sample") else { return XCTFail("expected a download") }
        XCTAssertEqual(sampleURL.lastPathComponent, "sample.xml.zst")
        let digest = try ZstdCompressor.contentDigest(of: sampleURL)
        XCTAssertEqual(digest.size, Int64(xml.count))
        XCTAssertEqual(digest.sha256, SHA256Hasher.hex(xml))
        // The zstd command line must read what libzstd wrote.
        let roundTrip = dest.appendingPathComponent("roundtrip.xml")
        XCTAssertEqual(try runTool("zstd", ["-q", "-dc", sampleURL.path], stdoutTo: roundTrip), 0)
        XCTAssertEqual(try Data(contentsOf: roundTrip), xml)
        try FileManager.default.removeItem(at: roundTrip)
        XCTAssertEqual(allFiles(under: dest), ["docs/hello.txt", "docs/world.txt", "wiki/sample.xml.zst"])
        XCTAssertEqual(server.requestCount, 3)
        // The stored-file check looks at the content of recompressed files.
        let sampleEntry = try f.root.catalog.dataSet(named: "sample").files[0]
        XCTAssertTrue(try f.verifyStored(sampleEntry, at: sampleURL))
        let other = dest.appendingPathComponent("other.xml")
        try Data("<page/>".utf8).write(to: other)
        XCTAssertEqual(try runTool("zstd", ["-q", "--rm", other.path]), 0)
        XCTAssertFalse(try f.verifyStored(sampleEntry, at: dest.appendingPathComponent("other.xml.zst")))
        try FileManager.default.removeItem(at: dest.appendingPathComponent("other.xml.zst"))

        // With the server gone, a second fetch can only succeed by doing nothing.
        server.stop()
        XCTAssertEqual(try f.fetch("docs"), .alreadyPresent(docsURL))
        XCTAssertEqual(try f.fetch("sample"), .alreadyPresent(sampleURL))
    }

    func testWrongHashIsAClearErrorAndLeavesNoFile() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        let bogus = String(repeating: "ab", count: 32)
        let f = fetcher(catalog(helloHash: bogus, xmlHash: bogus), server: server, into: dest)

        XCTAssertThrowsError(try f.fetch("docs")) { error in
            XCTAssertEqual(error as? StoreError,
                           .hashMismatch(file: "hello.txt", source: server.baseURL.absoluteString + "docs/hello.txt",
                                         expected: bogus, actual: SHA256Hasher.hex(hello)))
            let text = error.localizedDescription
            XCTAssertTrue(text.contains("hello.txt") && text.contains(bogus) && text.contains("nothing was written"), text)
        }
        XCTAssertThrowsError(try f.fetch("sample")) { error in
            guard case let .hashMismatch(file, _, expected, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "sample.xml.zst (decompressed content)")
            XCTAssertEqual(expected, bogus)
        }
        XCTAssertEqual(allFiles(under: dest), [], "no partial or temporary file may be left behind")
    }

    func testWrongSizeIsAClearError() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        let f = fetcher(catalog(helloSize: 3), server: server, into: dest)
        XCTAssertThrowsError(try f.fetch("docs")) { error in
            guard case let .sizeMismatch(file, _, expected, actual)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "hello.txt")
            XCTAssertEqual(expected, 3)
            XCTAssertEqual(actual, Int64(hello.count))
        }
        XCTAssertEqual(allFiles(under: dest), [])
    }

    func testServer404IsAClearError() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        let f = fetcher(catalog(extraMissing: true), server: server, into: dest)
        XCTAssertThrowsError(try f.fetch("docs")) { error in
            let url = server.baseURL.absoluteString + "docs/absent.txt"
            XCTAssertEqual(error as? StoreError, .httpStatus(url: url, status: 404))
            let text = error.localizedDescription
            XCTAssertTrue(text.contains(url) && text.contains("404"), text)
        }
        // The two good files are kept (each was verified), the set still does not resolve.
        XCTAssertEqual(allFiles(under: dest), ["docs/hello.txt", "docs/world.txt"])
        XCTAssertThrowsError(try fetcher(catalog(extraMissing: true), server: server, into: dest).root.resolve("docs"))
    }

    func testCorruptXZIsAClearError() throws {
        let mirror = try makeMirror()
        try Data("<html>not found</html>".utf8).write(to: mirror.appendingPathComponent("wiki/sample.xml.xz"))
        let server = try LoopbackServer(directory: mirror)
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        XCTAssertThrowsError(try fetcher(catalog(), server: server, into: dest).fetch("sample")) { error in
            guard case let .corruptDownload(file, source, _)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "sample.xml.zst")
            XCTAssertEqual(source, server.baseURL.absoluteString + "wiki/sample.xml.xz")
        }
        XCTAssertEqual(allFiles(under: dest), [])
    }

    func testUnreachableServerIsAClearError() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        server.stop()  // its port is now closed
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        XCTAssertThrowsError(try fetcher(catalog(), server: server, into: dest).fetch("docs")) { error in
            guard case .downloadFailed? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.localizedDescription.contains("LANGNEURON_DATA_MIRROR"), error.localizedDescription)
        }
        XCTAssertEqual(allFiles(under: dest), [])
    }

    func testDamagedFileOfAnIncompleteSetIsReplaced() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dest.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try Data("hello, dat4 set\n".utf8).write(to: dest.appendingPathComponent("docs/hello.txt"))  // same size, wrong bytes
        guard case let .fetched(_, files, _) = try fetcher(catalog(), server: server, into: dest).fetch("docs") else {
            return XCTFail("expected a download")
        }
        XCTAssertEqual(files, 2)
        XCTAssertEqual(try Data(contentsOf: dest.appendingPathComponent("docs/hello.txt")), hello)
    }

    func testOnlyMissingFilesAreDownloaded() throws {
        let server = try LoopbackServer(directory: try makeMirror())
        let dest = try makeTemporaryDirectory(self).appendingPathComponent("data")
        try FileManager.default.createDirectory(at: dest.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try hello.write(to: dest.appendingPathComponent("docs/hello.txt"))
        guard case let .fetched(_, files, _) = try fetcher(catalog(), server: server, into: dest).fetch("docs") else {
            return XCTFail("expected a download")
        }
        XCTAssertEqual(files, 1)
        XCTAssertEqual(server.requestCount, 1)
    }

    /// The real catalog entries through a mirror made from the reference copies: XQuAD (12 files,
    /// stored as downloaded) and the Vietnamese sample (xz -> zstd -19).
    func testRealCatalogThroughMirrorOfSharedCopies() throws {
        let shared = SharedData.url("data")
        guard FileManager.default.fileExists(atPath: shared.path) else { throw XCTSkip("shared/data is absent") }
        let tmp = try makeTemporaryDirectory(self)
        let mirror = tmp.appendingPathComponent("mirror")
        try FileManager.default.createDirectory(at: mirror.appendingPathComponent("wiki"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: shared.appendingPathComponent("xquad"), to: mirror.appendingPathComponent("xquad"))
        let xmlFile = mirror.appendingPathComponent("wiki/viwiki-20230501-sample.xml")
        XCTAssertEqual(try runTool("zstd", ["-q", "-dc", shared.appendingPathComponent("wiki/viwiki-20230501-sample.xml.zst").path],
                                   stdoutTo: xmlFile), 0)
        XCTAssertEqual(try runTool("xz", ["-T1", "-0", xmlFile.path]), 0)

        let server = try LoopbackServer(directory: mirror)
        let dest = tmp.appendingPathComponent("data")
        let f = DataFetcher(root: DataRoot(searchPaths: [dest], writableRoot: dest), mirror: server.baseURL)
        guard case let .fetched(xquad, files, _) = try f.fetch("xquad") else { return XCTFail("expected a download") }
        XCTAssertEqual(files, 12)
        for name in ["xquad.en.json", "xquad.vi.json", "xquad.zh.json"] {
            XCTAssertEqual(try Data(contentsOf: xquad.appendingPathComponent(name)),
                           try Data(contentsOf: shared.appendingPathComponent("xquad/\(name)")), name)
        }
        guard case let .fetched(vi, _, _) = try f.fetch("wiki-vi") else { return XCTFail("expected a download") }
        let digest = try ZstdCompressor.contentDigest(of: vi)
        XCTAssertEqual(digest.sha256, "d9a8d3f9857ca62215d979dc6e634813c519e876fa90403899b3e3ac3f4565f3")
        XCTAssertEqual(digest.size, 15_278_627)
        if ZstdCompressor.libraryVersion == 10504 {
            // Same libzstd as made the reference copy with `zstd -19`: the bytes must match too.
            XCTAssertEqual(try SHA256Hasher.hex(fileAt: vi), try f.root.catalog.dataSet(named: "wiki-vi").files[0].sha256)
        }
        XCTAssertEqual(try f.root.resolve("wiki-vi"), vi)
    }
}
