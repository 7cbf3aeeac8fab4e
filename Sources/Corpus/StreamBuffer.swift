#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable window over a byte stream: parsers look at `[start, end)`, consume by advancing
/// `start`, and `fill()` compacts and reads more. Memory stays proportional to the largest
/// record, not to the stream.
final class StreamBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var start = 0
    private(set) var end = 0
    private(set) var eof = false
    private let source: ByteSource
    /// Total bytes delivered by the source (decompressed size so far).
    private(set) var bytesDelivered = 0

    init(source: ByteSource, capacity: Int = 1 << 20) {
        self.source = source
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    var count: Int { end - start }
    var truncation: String? { source.truncation }
    var compressedBytesRead: Int { source.compressedBytesRead }

    /// Reads more bytes, first compacting consumed bytes away and growing when full.
    /// Returns false at end of stream.
    @discardableResult
    func fill() throws -> Bool {
        if eof { return false }
        if start > 0 {
            if start < end { memmove(base, base + start, end - start) }
            end -= start
            start = 0
        }
        if end == capacity {
            let newCapacity = capacity * 2
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: base, count: end)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(start: base + end, count: capacity - end))
        if n == 0 {
            eof = true
            return false
        }
        end += n
        bytesDelivered += n
        return true
    }

    /// Position of `needle` in `[from, end)`, or nil.
    func find(_ needle: StaticString, from: Int) -> Int? {
        guard from < end else { return nil }
        guard let hit = searchBytes(base + from, end - from, needle) else { return nil }
        return UnsafePointer(base).distance(to: hit)
    }

    /// Position of `byte` in `[from, end)`, or nil.
    func find(byte: UInt8, from: Int) -> Int? {
        guard from < end else { return nil }
        guard let hit = memchr(base + from, Int32(byte), end - from) else { return nil }
        return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
    }

    func slice(_ lower: Int, _ upper: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + lower, count: upper - lower)
    }
}

/// Copies `src[from...]` to `dst + o` up to the next `byte` (memchr, then one block copy), advancing
/// `o`. Returns the byte's position, or nil when there is none and everything was copied.
@inline(__always)
func copyUntil(_ byte: UInt8, _ src: UnsafeBufferPointer<UInt8>, from i: Int,
               into dst: UnsafeMutablePointer<UInt8>, at o: inout Int) -> Int? {
    guard let base = src.baseAddress, i < src.count else { return nil }
    let hit = memchr(base + i, Int32(byte), src.count - i)
    let end = hit.map { base.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? src.count
    if end > i {
        (dst + o).update(from: base + i, count: end - i)
        o += end - i
    }
    return hit == nil ? nil : end
}

/// Searches `needle` in a buffer (memmem).
@inline(__always)
func findBytes(_ needle: StaticString, in hay: UnsafeBufferPointer<UInt8>, from: Int = 0) -> Int? {
    guard let b = hay.baseAddress, from < hay.count else { return nil }
    guard let hit = searchBytes(b + from, hay.count - from, needle) else { return nil }
    return b.distance(to: hit)
}

/// First occurrence of `needle` in `count` bytes at `hay` (memchr on the first byte, then compare;
/// Glibc's memmem is not exported to Swift without _GNU_SOURCE).
@inline(__always)
func searchBytes(_ hay: UnsafePointer<UInt8>, _ count: Int, _ needle: StaticString) -> UnsafePointer<UInt8>? {
    let m = needle.utf8CodeUnitCount
    guard m > 0, count >= m else { return nil }
    let first = Int32(needle.utf8Start.pointee)
    var p = hay
    let last = hay + (count - m)
    while p <= last {
        guard let hit = memchr(p, first, last - p + 1) else { return nil }
        let q = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self))
        if memcmp(q, needle.utf8Start, m) == 0 { return q }
        p = q + 1
    }
    return nil
}
