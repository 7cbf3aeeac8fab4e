import Foundation

/// Where data sets live. A data set is looked up by name in each search folder in turn
/// (`$LANGNEURON_DATA`, then `./data`, then `../shared/data`); the first folder holding
/// all of its files wins. Fetched data sets are written to `writableRoot`.
public struct DataRoot: Sendable {
    /// Folders searched in order.
    public let searchPaths: [URL]
    /// Where `langneuron data fetch` writes: `$LANGNEURON_DATA`, else `./data`.
    public let writableRoot: URL
    public let catalog: DataCatalog

    public init(searchPaths: [URL], writableRoot: URL, catalog: DataCatalog = .standard) {
        self.searchPaths = searchPaths
        self.writableRoot = writableRoot
        self.catalog = catalog
    }

    /// The data root from the environment and the current directory.
    public static var `default`: DataRoot {
        fromEnvironment(ProcessInfo.processInfo.environment,
                        currentDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }

    /// The data root for a given environment and current directory (`LANGNEURON_DATA` is read;
    /// relative values are taken relative to `currentDirectory`).
    public static func fromEnvironment(_ environment: [String: String], currentDirectory: URL,
                                       catalog: DataCatalog = .standard) -> DataRoot {
        let local = currentDirectory.appendingPathComponent("data", isDirectory: true)
        let shared = currentDirectory.deletingLastPathComponent()
            .appendingPathComponent("shared", isDirectory: true)
            .appendingPathComponent("data", isDirectory: true)
        var paths = [local, shared]
        var writable = local
        if let env = environment["LANGNEURON_DATA"], !env.isEmpty {
            let url = env.hasPrefix("/") ? URL(fileURLWithPath: env, isDirectory: true)
                : currentDirectory.appendingPathComponent(env, isDirectory: true)
            paths.insert(url, at: 0)
            writable = url
        }
        return DataRoot(searchPaths: paths.map(\.standardizedFileURL), writableRoot: writable.standardizedFileURL,
                        catalog: catalog)
    }

    /// The search folder holding every file of `dataSet`, or nil.
    public func location(of dataSet: DataSet) -> URL? {
        searchPaths.first { root in
            dataSet.files.allSatisfy { file in
                FileManager.default.fileExists(atPath: Self.fileURL(root: root, dataSet: dataSet, file: file).path)
            }
        }
    }

    /// The data set `name` as a local path: its folder for multi-file sets (`xquad`, `mgsm`),
    /// its file otherwise. Throws a clear error if the name is unknown or the set is not present.
    public func resolve(_ name: String) throws -> URL {
        let set = try catalog.dataSet(named: name)
        guard let root = location(of: set) else {
            throw StoreError.datasetMissing(name: set.name, searched: searchPaths.map(\.path))
        }
        let dir = root.appendingPathComponent(set.directory, isDirectory: true)
        if set.resolvesToDirectory { return dir }
        return dir.appendingPathComponent(set.files[0].name)
    }

    /// One file of a data set, e.g. `path(forDataset: "xquad", file: "xquad.vi.json")`.
    public func path(forDataset name: String, file: String) throws -> URL {
        let set = try catalog.dataSet(named: name)
        let entry = try set.file(named: file)
        guard let root = location(of: set) else {
            throw StoreError.datasetMissing(name: set.name, searched: searchPaths.map(\.path))
        }
        return Self.fileURL(root: root, dataSet: set, file: entry)
    }

    /// `DataRoot.default.resolve(name)`.
    public static func resolve(_ name: String) throws -> URL {
        try DataRoot.default.resolve(name)
    }

    /// `DataRoot.default.path(forDataset:file:)`.
    public static func path(forDataset name: String, file: String) throws -> URL {
        try DataRoot.default.path(forDataset: name, file: file)
    }

    static func fileURL(root: URL, dataSet: DataSet, file: DataFile) -> URL {
        root.appendingPathComponent(dataSet.directory, isDirectory: true).appendingPathComponent(file.name)
    }
}
