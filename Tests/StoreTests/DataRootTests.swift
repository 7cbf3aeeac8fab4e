import Foundation
@testable import Store
import XCTest

final class DataRootTests: XCTestCase {
    /// A tiny catalog: one single-file set and one two-file folder set.
    static func tinyCatalog() -> DataCatalog {
        let url = URL(string: "http://127.0.0.1:9/unused")!
        return DataCatalog(dataSets: [
            DataSet(name: "one", summary: "", directory: "solo",
                    files: [DataFile(name: "a.txt", size: 1, sha256: "x", source: url)], resolvesToDirectory: false),
            DataSet(name: "pair", summary: "", directory: "pair",
                    files: [DataFile(name: "b.txt", size: 1, sha256: "x", source: url),
                            DataFile(name: "c.txt", size: 1, sha256: "x", source: url)],
                    resolvesToDirectory: true),
        ])
    }

    private func put(_ root: URL, _ path: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("z".utf8).write(to: url)
    }

    func testSearchOrderEnvThenLocalThenShared() throws {
        let tmp = try makeTemporaryDirectory(self)
        let cwd = tmp.appendingPathComponent("repo")
        let env = tmp.appendingPathComponent("envdata")
        let shared = tmp.appendingPathComponent("shared/data")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let catalog = Self.tinyCatalog()

        let withEnv = DataRoot.fromEnvironment(["LANGNEURON_DATA": env.path], currentDirectory: cwd, catalog: catalog)
        XCTAssertEqual(withEnv.searchPaths.map(\.path), [env.path, cwd.appendingPathComponent("data").path, shared.path])
        XCTAssertEqual(withEnv.writableRoot.path, env.path)
        let plain = DataRoot.fromEnvironment([:], currentDirectory: cwd, catalog: catalog)
        XCTAssertEqual(plain.writableRoot.path, cwd.appendingPathComponent("data").path)
        let relative = DataRoot.fromEnvironment(["LANGNEURON_DATA": "cache"], currentDirectory: cwd, catalog: catalog)
        XCTAssertEqual(relative.writableRoot.path, cwd.appendingPathComponent("cache").path)

        XCTAssertThrowsError(try withEnv.resolve("one")) { error in
            guard case let .datasetMissing(name, searched)? = error as? StoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "one")
            XCTAssertEqual(searched.count, 3)
            XCTAssertTrue(error.localizedDescription.contains("langneuron data fetch one"), error.localizedDescription)
        }
        try put(shared, "solo/a.txt")
        XCTAssertEqual(try withEnv.resolve("one").path, shared.appendingPathComponent("solo/a.txt").path)
        try put(cwd.appendingPathComponent("data"), "solo/a.txt")
        XCTAssertEqual(try withEnv.resolve("one").path, cwd.appendingPathComponent("data/solo/a.txt").path)
        try put(env, "solo/a.txt")
        XCTAssertEqual(try withEnv.resolve("one").path, env.appendingPathComponent("solo/a.txt").path)
    }

    func testFolderSetsNeedEveryFile() throws {
        let tmp = try makeTemporaryDirectory(self)
        let root = DataRoot(searchPaths: [tmp], writableRoot: tmp, catalog: Self.tinyCatalog())
        try put(tmp, "pair/b.txt")
        XCTAssertThrowsError(try root.resolve("pair"))  // c.txt still missing
        try put(tmp, "pair/c.txt")
        XCTAssertEqual(try root.resolve("pair").standardizedFileURL.path, tmp.appendingPathComponent("pair").path)
        XCTAssertEqual(try root.path(forDataset: "pair", file: "c.txt").path, tmp.appendingPathComponent("pair/c.txt").path)
        XCTAssertThrowsError(try root.path(forDataset: "pair", file: "d.txt")) { error in
            XCTAssertEqual(error as? StoreError, .unknownDatasetFile(dataset: "pair", file: "d.txt", known: ["b.txt", "c.txt"]))
        }
        XCTAssertThrowsError(try root.resolve("nope")) { error in
            XCTAssertEqual(error as? StoreError, .unknownDataset(name: "nope", known: ["one", "pair"]))
        }
    }
}
