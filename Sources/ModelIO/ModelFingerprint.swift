import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifies the exact weights a patch or measurement was made from.
///
/// - A single file (e.g. a `.gguf`): the SHA-256 of the file, lowercase hex — the same value
///   `sha256sum` prints.
/// - A directory (Hugging Face checkpoint): the SHA-256 of the text made of one line per
///   weight file, `<name>\t<sha256 of the file>\n`, lines sorted by name byte-wise, **every
///   line including the last ending in "\n"**. Weight files are the regular files (symbolic
///   links followed) directly inside the directory (not in subdirectories) whose name ends in
///   `.safetensors` and does not start with `.`. Config and tokenizer files do not count.
///
/// File hashes are cached (see `FingerprintCache`) so that repeated runs do not re-read
/// gigabytes.
public enum ModelFingerprint {
    /// The fingerprint of the model at `url`, using `cache` (nil: no caching).
    /// `onlyCached`: never read a weight file; throw `notCached` when a hash is not in the cache.
    public static func of(url: URL, cache: FingerprintCache? = FingerprintCache.shared, onlyCached: Bool = false) throws -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelIOError.missingFile(path: url.path, what: "model file or directory to fingerprint")
        }
        if !isDir.boolValue { return try fileHash(url, cache: cache, onlyCached: onlyCached) }
        let files = try weightFiles(in: url)
        guard !files.isEmpty else {
            throw ModelIOError.missingFile(path: url.path, what: "*.safetensors weight files to fingerprint")
        }
        var text = ""
        for f in files {
            text += f.lastPathComponent + "\t" + (try fileHash(f, cache: cache, onlyCached: onlyCached)) + "\n"
        }
        return SHA256Hasher.hex(Data(text.utf8))
    }

    /// The weight files of a directory that enter its fingerprint, sorted by name byte-wise.
    public static func weightFiles(in directory: URL) throws -> [URL] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory.path) } catch {
            throw ModelIOError.cannotOpen(path: directory.path, reason: error.localizedDescription)
        }
        return names
            .filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            .map { directory.appendingPathComponent($0) }
            .filter { u in
                var isDir: ObjCBool = false
                return FileManager.default.fileExists(atPath: u.path, isDirectory: &isDir) && !isDir.boolValue
            }
    }

    /// SHA-256 of one file, from the cache when its path, size and modification time match.
    static func fileHash(_ url: URL, cache: FingerprintCache?, onlyCached: Bool = false) throws -> String {
        let real = url.resolvingSymlinksInPath().standardizedFileURL
        var st = stat()
        guard stat(real.path, &st) == 0 else {
            throw ModelIOError.cannotOpen(path: url.path, reason: String(cString: strerror(errno)))
        }
        #if canImport(Darwin)
        let mtime = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #else
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #endif
        let size = Int64(st.st_size)
        if let hit = cache?.lookup(path: real.path, size: size, mtimeNanoseconds: mtime) { return hit }
        if onlyCached { throw ModelIOError.missingFile(path: url.path, what: "cached fingerprint") }
        let hash: String
        do { hash = try SHA256Hasher.hex(fileAt: real) } catch {
            throw ModelIOError.cannotOpen(path: url.path, reason: error.localizedDescription)
        }
        cache?.store(path: real.path, entry: .init(size: size, mtimeNanoseconds: mtime, sha256: hash))
        return hash
    }
}

/// A small JSON cache of file hashes, keyed by absolute (symlink-resolved) path and valid
/// while the file's size and modification time (nanoseconds) are unchanged.
///
/// Location: `$XDG_CACHE_HOME/langneuron/fingerprints.json`, else
/// `~/.cache/langneuron/fingerprints.json` (a user cache rather than a sidecar next to the
/// model, because model directories may be read-only or shared). Format:
/// `{"version": 1, "files": {"<path>": {"size": …, "mtime_ns": …, "sha256": "…"}}}`.
/// Each store rewrites the file atomically; a missing, unreadable or corrupt cache is
/// treated as empty and failures to write it are ignored (the cache only saves time).
public final class FingerprintCache {
    public struct Entry: Codable, Equatable {
        public var size: Int64
        public var mtimeNanoseconds: Int64
        public var sha256: String
        enum CodingKeys: String, CodingKey { case size, mtimeNanoseconds = "mtime_ns", sha256 }
    }

    struct FileFormat: Codable {
        var version: Int
        var files: [String: Entry]
    }

    public let url: URL
    private let lock = NSLock()

    public init(url: URL) { self.url = url }

    /// The per-user default cache (see the type's documentation).
    public static let shared: FingerprintCache = {
        let env = ProcessInfo.processInfo.environment
        let base: URL
        if let x = env["XDG_CACHE_HOME"], !x.isEmpty {
            base = URL(fileURLWithPath: x)
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        }
        return FingerprintCache(url: base.appendingPathComponent("langneuron/fingerprints.json"))
    }()

    private func load() -> [String: Entry] {
        guard let data = try? Data(contentsOf: url),
              let f = try? JSONDecoder().decode(FileFormat.self, from: data), f.version == 1 else { return [:] }
        return f.files
    }

    /// The cached hash of `path` if its size and mtime still match.
    public func lookup(path: String, size: Int64, mtimeNanoseconds: Int64) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard let e = load()[path], e.size == size, e.mtimeNanoseconds == mtimeNanoseconds, e.sha256.count == 64 else { return nil }
        return e.sha256
    }

    /// Records a hash (re-reading the cache first so entries of other processes survive).
    public func store(path: String, entry: Entry) {
        lock.lock(); defer { lock.unlock() }
        var files = load()
        files[path] = entry
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        guard let data = try? enc.encode(FileFormat(version: 1, files: files)) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? AtomicFileWriter.write(data, to: url)
    }
}
