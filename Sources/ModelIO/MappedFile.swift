import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only memory map of a whole file. Model files are mapped, not read, so that
/// loading costs no copy and only the pages that are touched come from disk.
public final class MappedFile {
    public let url: URL
    public let size: Int
    public let bytes: UnsafeRawBufferPointer

    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw ModelIOError.cannotOpen(path: url.path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw ModelIOError.cannotOpen(path: url.path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw ModelIOError.cannotOpen(path: url.path, reason: "not a regular file")
        }
        size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw ModelIOError.cannotOpen(path: url.path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let base = bytes.baseAddress, size > 0 {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }
}

/// A bounds-checked little-endian cursor over a byte buffer; every read names what it was
/// reading so that a truncated file yields a precise error.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset: Int = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.count - offset }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        // `n` may come straight from a file: compare against what is left, never add to offset.
        guard n >= 0, n <= remaining else {
            throw ModelIOError.truncated(path: path, needed: offset.addingSaturating(max(n, 0)), size: bytes.count, what: what())
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    mutating func readFloat(_ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what()))
    }

    mutating func readDouble(_ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what()))
    }

    /// A GGUF string: u64 byte length, then UTF-8 bytes (no terminator).
    mutating func readString(_ what: @autoclosure () -> String) throws -> String {
        let n = try read(UInt64.self, what())
        guard n <= UInt64(remaining) else {
            throw ModelIOError.truncated(path: path, needed: offset.addingSaturating(Int(clamping: n)), size: bytes.count, what: what())
        }
        let len = Int(n)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + len)]), as: UTF8.self)
        offset += len
        return s
    }
}

extension Int {
    /// `self + other`, or `Int.max` instead of a trap; for sizes read from files that only end up in messages.
    func addingSaturating(_ other: Int) -> Int {
        let (r, o) = addingReportingOverflow(other)
        return o ? (other > 0 ? .max : .min) : r
    }

    /// `self * other`, or nil when it does not fit.
    func multipliedChecked(_ other: Int) -> Int? {
        let (r, o) = multipliedReportingOverflow(by: other)
        return o ? nil : r
    }
}
