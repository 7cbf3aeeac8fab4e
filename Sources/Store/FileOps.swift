import Foundation
import ModelIO
#if canImport(Glibc)
import Glibc
#endif

/// File helpers shared by the data and model fetchers: atomic replacement and hashing.
enum FileOps {
    /// A fresh temporary path next to `destination` (same file system, so the final rename is atomic).
    static func temporarySibling(of destination: URL) -> URL {
        destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
    }

    /// Creates `directory` (and parents) or throws a clear error.
    static func ensureDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError.ioFailed(path: directory.path, reason: error.localizedDescription)
        }
    }

    /// Atomically moves `temporary` over `destination` (replacing any existing file).
    static func commit(_ temporary: URL, to destination: URL) throws {
        if rename(temporary.path, destination.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw StoreError.ioFailed(path: destination.path, reason: reason)
        }
    }

    /// Size in bytes of a file, or nil if it does not exist.
    static func size(of url: URL) -> Int64? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              let n = attrs[.size] as? NSNumber else { return nil }
        return n.int64Value
    }

    /// SHA-256 of a file as lowercase hex, with I/O errors made clear.
    static func sha256(of url: URL) throws -> String {
        do {
            return try SHA256Hasher.hex(fileAt: url)
        } catch {
            throw StoreError.ioFailed(path: url.path, reason: error.localizedDescription)
        }
    }
}
