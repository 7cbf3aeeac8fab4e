import Foundation

/// Writes small GGUF v3 files (metadata only, no tensors) so tests can build tokenizers from
/// hand-made vocabularies and from deliberately broken metadata.
enum MiniGGUF {
    enum Value {
        case string(String), u32(UInt32), i32(Int32), f32(Float), bool(Bool)
        case strings([String]), i32s([Int32]), f32s([Float])
    }

    static func write(_ kvs: [(String, Value)]) throws -> URL {
        var d = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        u32(3)
        u64(0)
        u64(UInt64(kvs.count))
        for (k, v) in kvs {
            str(k)
            switch v {
            case let .string(s): u32(8); str(s)
            case let .u32(x): u32(4); u32(x)
            case let .i32(x): u32(5); u32(UInt32(bitPattern: x))
            case let .f32(x): u32(6); u32(x.bitPattern)
            case let .bool(b): u32(7); d.append(b ? 1 : 0)
            case let .strings(a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
            case let .i32s(a): u32(9); u32(5); u64(UInt64(a.count)); a.forEach { u32(UInt32(bitPattern: $0)) }
            case let .f32s(a): u32(9); u32(6); u64(UInt64(a.count)); a.forEach { u32($0.bitPattern) }
            }
        }
        while d.count % 32 != 0 { d.append(0) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString).gguf")
        try d.write(to: url)
        return url
    }
}
