import Foundation
import ModelIO
@testable import Store
import TestSupport
import XCTest

/// The pinned sizes and hashes must describe the reference copies in shared/data exactly.
final class DataCatalogTests: XCTestCase {
    func testStandardCatalogMatchesSharedCopies() throws {
        let dataRoot = SharedData.url("data")
        guard FileManager.default.fileExists(atPath: dataRoot.path) else { throw XCTSkip("shared/data is absent") }
        let catalog = DataCatalog.standard
        XCTAssertEqual(catalog.names, ["xquad", "mgsm", "wiki-en", "wiki-vi", "wiki-ja", "wiki-bn", "plnd-en"])
        XCTAssertEqual(try catalog.dataSet(named: "xquad").files.count, 12)
        XCTAssertEqual(try catalog.dataSet(named: "mgsm").files.count, 11)
        for set in catalog.dataSets {
            for file in set.files {
                let url = dataRoot.appendingPathComponent(set.directory).appendingPathComponent(file.name)
                // Exact equality: sizes in bytes and hex digests.
                XCTAssertEqual(FileOps.size(of: url), file.size, url.path)
                XCTAssertEqual(try SHA256Hasher.hex(fileAt: url), file.sha256, url.path)
                if case let .xzToZstd(contentSize, contentSHA256, level) = file.transcoding {
                    let digest = try ZstdCompressor.contentDigest(of: url)
                    XCTAssertEqual(digest.size, contentSize, url.path)
                    XCTAssertEqual(digest.sha256, contentSHA256, url.path)
                    XCTAssertEqual(level, 19)
                }
            }
        }
        // The one content hash published with the data (SOURCES.md) must be the one pinned.
        guard case let .xzToZstd(_, viHash, _) = try catalog.dataSet(named: "wiki-vi").files[0].transcoding else {
            return XCTFail("wiki-vi must be transcoded from xz")
        }
        XCTAssertEqual(viHash, "d9a8d3f9857ca62215d979dc6e634813c519e876fa90403899b3e3ac3f4565f3")
    }

    func testUnknownNamesGetClearErrors() throws {
        XCTAssertThrowsError(try DataCatalog.standard.dataSet(named: "wiki-xx")) { error in
            XCTAssertEqual(error as? StoreError, .unknownDataset(name: "wiki-xx", known: DataCatalog.standard.names))
            let text = error.localizedDescription
            XCTAssertTrue(text.contains("wiki-xx") && text.contains("xquad") && text.contains("plnd-en"), text)
        }
        let xquad = try DataCatalog.standard.dataSet(named: "XQuAD")  // names are case-insensitive
        XCTAssertThrowsError(try xquad.file(named: "xquad.xx.json")) { error in
            XCTAssertTrue(error.localizedDescription.contains("xquad.en.json"), error.localizedDescription)
        }
    }

    func testMirrorPathsFollowTheDataRootLayout() throws {
        let catalog = DataCatalog.standard
        let vi = try catalog.dataSet(named: "wiki-vi")
        XCTAssertEqual(vi.files[0].mirrorPath(in: vi), "wiki/viwiki-20230501-sample.xml.xz")
        XCTAssertEqual(vi.files[0].source.absoluteString,
                       "https://raw.githubusercontent.com/ssvb/xztextfilter/1cab21b37fa96f99a83ab46284bbff2b0dfbb883/testfiles/viwiki-truncated-100k.xml.xz")
        let mgsm = try catalog.dataSet(named: "mgsm")
        XCTAssertEqual(try mgsm.file(named: "mgsm_ja.tsv").mirrorPath(in: mgsm), "mgsm/mgsm_ja.tsv")

        let root = DataRoot(searchPaths: [], writableRoot: URL(fileURLWithPath: "/nonexistent"))
        let fetcher = DataFetcher(root: root, mirror: URL(string: "http://127.0.0.1:8080/base"))
        XCTAssertEqual(fetcher.sourceURL(of: vi.files[0], in: vi).absoluteString,
                       "http://127.0.0.1:8080/base/wiki/viwiki-20230501-sample.xml.xz")
        let canonical = DataFetcher(root: root, mirror: nil)
        XCTAssertEqual(canonical.sourceURL(of: vi.files[0], in: vi), vi.files[0].source)
        XCTAssertEqual(DataFetcher.mirrorFromEnvironment(["LANGNEURON_DATA_MIRROR": "http://h:1/m"])?.absoluteString, "http://h:1/m")
        XCTAssertNil(DataFetcher.mirrorFromEnvironment([:]))
    }
}
