import Foundation

/// Downloads data sets into the writable data root, verifying every file's size and SHA-256
/// before it is renamed into place (so a failed fetch leaves nothing behind).
public struct DataFetcher {
    /// What a fetch did.
    public enum Outcome: Equatable, Sendable {
        /// The data set was already present (at this path); nothing was downloaded.
        case alreadyPresent(URL)
        /// Downloaded `files` files (`bytes` stored bytes); the data set now resolves to the path.
        case fetched(URL, files: Int, bytes: Int64)
    }

    public let root: DataRoot
    /// Base URL that replaces the canonical sources; it holds the data-root layout
    /// (`xquad/xquad.en.json`, …) with the `.xz` originals in place of recompressed `.zst` files.
    public let mirror: URL?
    public var downloader: HTTPDownloader
    /// Receives one line per step, for the command line.
    public var progress: (String) -> Void

    public init(root: DataRoot = .default, mirror: URL? = DataFetcher.mirrorFromEnvironment(),
                downloader: HTTPDownloader = HTTPDownloader(), progress: @escaping (String) -> Void = { _ in }) {
        self.root = root
        self.mirror = mirror
        self.downloader = downloader
        self.progress = progress
    }

    /// `$LANGNEURON_DATA_MIRROR` as a URL (a plain path is taken as a local folder), or nil.
    public static func mirrorFromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard let value = environment["LANGNEURON_DATA_MIRROR"], !value.isEmpty else { return nil }
        if value.hasPrefix("/") { return URL(fileURLWithPath: value, isDirectory: true) }
        return URL(string: value)
    }

    /// The URL a file is downloaded from: the mirror if set, else its canonical source.
    public func sourceURL(of file: DataFile, in dataSet: DataSet) -> URL {
        guard let mirror else { return file.source }
        var base = mirror.absoluteString
        if !base.hasSuffix("/") { base += "/" }
        return URL(string: base + file.mirrorPath(in: dataSet)) ?? file.source
    }

    /// Fetches the data set `name` unless it already resolves. Idempotent.
    @discardableResult
    public func fetch(_ name: String) throws -> Outcome {
        let set = try root.catalog.dataSet(named: name)
        if root.location(of: set) != nil {
            return .alreadyPresent(try root.resolve(set.name))
        }
        let directory = root.writableRoot.appendingPathComponent(set.directory, isDirectory: true)
        try FileOps.ensureDirectory(directory)
        var fetched = 0
        var bytes: Int64 = 0
        for file in set.files {
            let destination = directory.appendingPathComponent(file.name)
            if FileManager.default.fileExists(atPath: destination.path), (try? verifyStored(file, at: destination)) == true {
                continue
            }
            let url = sourceURL(of: file, in: set)
            progress("downloading \(url.absoluteString)")
            try download(file, from: url, to: destination)
            fetched += 1
            bytes += FileOps.size(of: destination) ?? 0
        }
        return .fetched(try root.resolve(set.name), files: fetched, bytes: bytes)
    }

    /// Whether a stored file matches the catalog (its content, for recompressed files).
    public func verifyStored(_ file: DataFile, at url: URL) throws -> Bool {
        switch file.transcoding {
        case .none:
            guard FileOps.size(of: url) == file.size else { return false }
            return try FileOps.sha256(of: url) == file.sha256
        case let .xzToZstd(contentSize, contentSHA256, _):
            if FileOps.size(of: url) == file.size, try FileOps.sha256(of: url) == file.sha256 { return true }
            let digest = try ZstdCompressor.contentDigest(of: url)
            return digest.size == contentSize && digest.sha256 == contentSHA256
        }
    }

    private func download(_ file: DataFile, from url: URL, to destination: URL) throws {
        let downloaded = FileOps.temporarySibling(of: destination)
        defer { try? FileManager.default.removeItem(at: downloaded) }
        try downloader.download(url, to: downloaded)
        switch file.transcoding {
        case .none:
            try check(downloaded, size: file.size, sha256: file.sha256, name: file.name, source: url)
            try FileOps.commit(downloaded, to: destination)
        case let .xzToZstd(contentSize, contentSHA256, level):
            let xml = FileOps.temporarySibling(of: destination)
            let zst = FileOps.temporarySibling(of: destination)
            defer {
                try? FileManager.default.removeItem(at: xml)
                try? FileManager.default.removeItem(at: zst)
            }
            do {
                try Self.decompressXZ(downloaded, to: xml)
            } catch let StoreError.toolFailed(_, _, stderr) {
                throw StoreError.corruptDownload(file: file.name, source: url.absoluteString,
                                                 reason: "xz cannot decompress it: \(stderr)")
            }
            try check(xml, size: contentSize, sha256: contentSHA256,
                      name: "\(file.name) (decompressed content)", source: url)
            progress("compressing \(file.name) with zstd -\(level)")
            try ZstdCompressor.compress(xml, to: zst, level: level)
            try FileOps.commit(zst, to: destination)
        }
    }

    private func check(_ url: URL, size: Int64, sha256: String, name: String, source: URL) throws {
        let actualSize = FileOps.size(of: url) ?? -1
        guard actualSize == size else {
            throw StoreError.sizeMismatch(file: name, source: source.absoluteString, expected: size, actual: actualSize)
        }
        let actual = try FileOps.sha256(of: url)
        guard actual == sha256 else {
            throw StoreError.hashMismatch(file: name, source: source.absoluteString, expected: sha256, actual: actual)
        }
    }

    /// `xz -dc input > output` (Debian xz-utils); liblzma would add a build dependency for three small files.
    static func decompressXZ(_ input: URL, to output: URL) throws {
        guard let xz = Subprocess.findExecutable("xz") else {
            throw StoreError.toolMissing(tool: "xz", debianPackage: "xz-utils",
                                         purpose: "decompress the published .xz Wikipedia samples")
        }
        let args = ["-dc", input.path]
        let result = try Subprocess.run(xz, args, stdoutFile: output)
        guard result.status == 0 else {
            throw StoreError.toolFailed(command: Subprocess.describe(xz, args), status: result.status,
                                        stderr: Subprocess.tail(result.stderr))
        }
    }
}
