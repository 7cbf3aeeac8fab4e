import Foundation

/// An open-addressing hash table from byte strings to token ids, looked up with a buffer slice
/// so that BPE can test "is this span a token?" without allocating a String.
struct TokenTable {
    private var slots: [Int32]          // token id, or -1 for empty
    private var hashes: [UInt64]
    private var mask: Int
    /// The byte string of every entry, by token id (ids not in the table are empty).
    private(set) var keys: [[UInt8]]

    init(capacity: Int, idCount: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        hashes = [UInt64](repeating: 0, count: size)
        mask = size - 1
        keys = [[UInt8]](repeating: [], count: idCount)
    }

    @inline(__always)
    static func hash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
        // FNV-1a, 64-bit.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in p { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    @inline(__always)
    private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return a.count == 0 }
        return memcmp(pa, pb, a.count) == 0
    }

    /// Inserts `bytes → id` unless the bytes are empty or already present (the first id wins:
    /// a later duplicate is unreachable by encoding). Returns whether it was inserted.
    @discardableResult
    mutating func insert(_ bytes: [UInt8], id: Int32) -> Bool {
        guard !bytes.isEmpty, id >= 0, Int(id) < keys.count else { return false }
        if bytes.withUnsafeBufferPointer({ lookup($0) }) >= 0 { return false }
        let h = bytes.withUnsafeBufferPointer { Self.hash($0) }
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = id
        hashes[i] = h
        keys[Int(id)] = bytes
        return true
    }

    /// The id of the byte string `p`, or -1.
    @inline(__always)
    func lookup(_ p: UnsafeBufferPointer<UInt8>) -> Int32 {
        let h = Self.hash(p)
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let id = slots[i]
            if id < 0 { return -1 }
            if hashes[i] == h && keys[Int(id)].withUnsafeBufferPointer({ Self.equal($0, p) }) { return id }
            i = (i + 1) & mask
        }
    }

    func lookup(_ bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { lookup($0) }
    }
}
