import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file atomically: bytes go to a hidden temporary file in the destination's
/// directory (same file system), which is flushed to disk and renamed over the destination
/// only by `commit()`. Readers see the old file or the complete new one, never a partial
/// one; on error or `abort()` (or if the writer is dropped uncommitted) the temporary file
/// is removed and the destination is untouched. Writes are buffered.
public final class AtomicFileWriter {
    public let destination: URL
    let tempPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var finished = false
    /// Bytes written so far (including buffered ones).
    public private(set) var bytesWritten = 0
    private static let bufferLimit = 1 << 20

    public init(destination: URL) throws {
        self.destination = destination
        let dir = destination.deletingLastPathComponent().path
        let random = UInt64.random(in: 0..<UInt64.max)
        tempPath = dir + "/." + destination.lastPathComponent + ".tmp-\(getpid())-" + String(random, radix: 16)
        fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ModelIOError.writeFailed(path: destination.path, reason: "cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(AtomicFileWriter.bufferLimit)
    }

    deinit { if !finished { abort() } }

    /// Appends bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw ModelIOError.writeFailed(path: destination.path, reason: "writer already finished") }
        bytesWritten += bytes.count
        if buffer.count + bytes.count <= AtomicFileWriter.bufferLimit {
            buffer.append(contentsOf: bytes)
            return
        }
        try flush()
        if bytes.count >= AtomicFileWriter.bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public func write(_ data: Data) throws { try data.withUnsafeBytes { try write($0) } }
    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Appends `count` zero bytes (alignment padding).
    public func writeZeros(_ count: Int) throws {
        guard count > 0 else { return }
        try write([UInt8](repeating: 0, count: count))
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = AtomicFileWriter.posixWrite(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                abort()
                throw ModelIOError.writeFailed(path: destination.path, reason: reason)
            }
            p += n
            left -= n
        }
    }

    private static func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    /// Flushes, syncs and renames the temporary file over the destination.
    public func commit() throws {
        guard !finished else { throw ModelIOError.writeFailed(path: destination.path, reason: "writer already finished") }
        try flush()
        guard fsync(fd) == 0 else {
            let reason = String(cString: strerror(errno)); abort()
            throw ModelIOError.writeFailed(path: destination.path, reason: "fsync: \(reason)")
        }
        close(fd)
        fd = -1
        guard rename(tempPath, destination.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tempPath)
            finished = true
            throw ModelIOError.writeFailed(path: destination.path, reason: "rename: \(reason)")
        }
        finished = true
    }

    /// Discards everything written; the destination is untouched.
    public func abort() {
        guard !finished else { return }
        if fd >= 0 { close(fd); fd = -1 }
        unlink(tempPath)
        finished = true
    }

    /// Atomically replaces `url` with `data`.
    public static func write(_ data: Data, to url: URL) throws {
        let w = try AtomicFileWriter(destination: url)
        try w.write(data)
        try w.commit()
    }
}
