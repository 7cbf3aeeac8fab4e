import Foundation

/// How a downloaded file becomes the stored file.
public enum DataTranscoding: Sendable, Hashable {
    /// Stored exactly as downloaded; `DataFile.size` and `DataFile.sha256` are checked on the download.
    case none
    /// Downloaded as `.xz`, stored as the same content recompressed with zstd at `level`.
    /// The check is on the decompressed content (`contentSize`, `contentSHA256`), because the
    /// compressed bytes depend on the zstd version.
    case xzToZstd(contentSize: Int64, contentSHA256: String, level: Int32)
}

/// One file of a data set.
public struct DataFile: Sendable, Hashable {
    /// File name inside the data set's folder.
    public let name: String
    /// Size in bytes of the stored file (of the reference copy, for recompressed files).
    public let size: Int64
    /// SHA-256 (lowercase hex) of the stored file (of the reference copy, for recompressed files).
    public let sha256: String
    /// The canonical public URL the file is downloaded from.
    public let source: URL
    public let transcoding: DataTranscoding

    public init(name: String, size: Int64, sha256: String, source: URL, transcoding: DataTranscoding = .none) {
        self.name = name
        self.size = size
        self.sha256 = sha256
        self.source = source
        self.transcoding = transcoding
    }

    /// Path of the file on a mirror, relative to the mirror's base URL: the data-root layout,
    /// with the `.xz` original in place of a recompressed `.zst`.
    public func mirrorPath(in dataSet: DataSet) -> String {
        switch transcoding {
        case .none:
            return dataSet.directory + "/" + name
        case .xzToZstd:
            let base = name.hasSuffix(".zst") ? String(name.dropLast(4)) : name
            return dataSet.directory + "/" + base + ".xz"
        }
    }
}

/// A named data set: one or more files in one folder under the data root.
public struct DataSet: Sendable, Hashable {
    /// The name users type, e.g. `xquad` or `wiki-vi`.
    public let name: String
    /// One line saying what it is.
    public let summary: String
    /// Folder relative to the data root, e.g. `xquad` or `wiki`.
    public let directory: String
    public let files: [DataFile]
    /// Whether the set resolves to its folder (multi-file sets) or to its single file.
    public let resolvesToDirectory: Bool

    public init(name: String, summary: String, directory: String, files: [DataFile], resolvesToDirectory: Bool) {
        self.name = name
        self.summary = summary
        self.directory = directory
        self.files = files
        self.resolvesToDirectory = resolvesToDirectory
    }

    /// Total bytes of the stored files.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.size } }

    /// The file named `name`, or a clear error listing the set's files.
    public func file(named name: String) throws -> DataFile {
        guard let file = files.first(where: { $0.name == name }) else {
            throw StoreError.unknownDatasetFile(dataset: self.name, file: name, known: files.map(\.name))
        }
        return file
    }
}

/// The data sets the tool knows by name, with pinned sizes and hashes.
public struct DataCatalog: Sendable {
    public let dataSets: [DataSet]

    public init(dataSets: [DataSet]) {
        self.dataSets = dataSets
    }

    /// All names, in catalog order.
    public var names: [String] { dataSets.map(\.name) }

    /// The data set named `name` (case-insensitive), or a clear error listing the known names.
    public func dataSet(named name: String) throws -> DataSet {
        let key = name.lowercased()
        guard let set = dataSets.first(where: { $0.name == key }) else {
            throw StoreError.unknownDataset(name: name, known: names)
        }
        return set
    }
}
