#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A stream of bytes: a file, or a decompressor over one.
protocol ByteSource: AnyObject {
    /// Fills up to `buffer.count` bytes; returns 0 only at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Set when the stream ended early (an incomplete compressed frame or a corrupt block).
    var truncation: String? { get }
    /// Bytes consumed from the underlying file so far.
    var compressedBytesRead: Int { get }
    /// The decoder rejected the data (as opposed to the input simply ending early).
    var isCorrupt: Bool { get }
}

extension ByteSource {
    var isCorrupt: Bool { false }
}

/// Unbuffered POSIX reads from a file descriptor.
final class FileByteSource: ByteSource {
    let path: String
    private let fd: Int32
    private(set) var compressedBytesRead = 0
    var truncation: String? { nil }

    init(path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw CorpusError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) != S_IFDIR else {
            throw CorpusError.cannotOpen(path: path, reason: "it is a directory")
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw CorpusError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n >= 0 {
                compressedBytesRead += n
                return n
            }
            if errno == EINTR { continue }
            throw CorpusError.readFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Serves bytes from memory (tests, benchmarks).
final class MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    var truncation: String? { nil }
    var compressedBytesRead: Int { offset }

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0, let dst = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { src in
            if let from = src.baseAddress { dst.copyMemory(from: from + offset, byteCount: n) }
        }
        offset += n
        return n
    }
}

/// Lets a decompressor read the file again from the start after sniffing its magic bytes.
final class PrefixedByteSource: ByteSource {
    private var prefix: [UInt8]
    private var prefixOffset = 0
    private let inner: ByteSource
    var truncation: String? { inner.truncation }
    var compressedBytesRead: Int { inner.compressedBytesRead }

    init(prefix: [UInt8], inner: ByteSource) {
        self.prefix = prefix
        self.inner = inner
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefixOffset < prefix.count {
            let n = min(buffer.count, prefix.count - prefixOffset)
            guard n > 0, let dst = buffer.baseAddress else { return 0 }
            prefix.withUnsafeBytes { src in
                if let from = src.baseAddress { dst.copyMemory(from: from + prefixOffset, byteCount: n) }
            }
            prefixOffset += n
            return n
        }
        return try inner.read(into: buffer)
    }
}
