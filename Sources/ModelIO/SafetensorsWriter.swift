import Foundation

/// Writes `.safetensors` files: deterministic (tensors sorted by name byte-wise, data in that
/// order, `__metadata__` first with sorted keys, no whitespace), header padded with spaces
/// to a multiple of 8 bytes so that the data section is 8-byte aligned, written atomically.
public enum SafetensorsWriter {
    /// One tensor to write; its bytes are little-endian, row-major in `shape` order.
    public struct Tensor {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        let payload: Payload

        enum Payload {
            case data(Data)
            case pointer(UnsafeRawBufferPointer)
            case floats([Float])
        }

        /// Bytes from `data` (must hold exactly elements × dtype size bytes).
        public init(name: String, dtype: SafetensorsDType, shape: [Int], data: Data) {
            self.name = name; self.dtype = dtype; self.shape = shape; payload = .data(data)
        }

        /// Bytes read from `bytes` during `write`; the memory must stay valid until it returns.
        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            self.name = name; self.dtype = dtype; self.shape = shape; payload = .pointer(bytes)
        }

        /// An F32 tensor from float values.
        public init(name: String, shape: [Int], floats: [Float]) {
            self.name = name; dtype = .f32; self.shape = shape; payload = .floats(floats)
        }

        var byteCount: Int {
            switch payload {
            case let .data(d): return d.count
            case let .pointer(p): return p.count
            case let .floats(f): return f.count * 4
            }
        }

        func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            switch payload {
            case let .data(d): return try d.withUnsafeBytes(body)
            case let .pointer(p): return try body(p)
            case let .floats(f): return try f.withUnsafeBytes(body)
            }
        }
    }

    /// Writes `tensors` and `metadata` to `url` (replacing it atomically). Throws before
    /// touching the destination if names repeat or a tensor's byte count does not match its
    /// shape and dtype.
    public static func write(tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var header = "{"
        var first = true
        if !metadata.isEmpty {
            header += "\"__metadata__\":{"
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header += keys.map { jsonString($0) + ":" + jsonString(metadata[$0] ?? "") }.joined(separator: ",")
            header += "}"
            first = false
        }
        var offset = 0
        var previous: String?
        for t in sorted {
            guard !t.name.isEmpty, t.name != "__metadata__", t.name != previous else {
                throw ModelIOError.writeFailed(path: url.path, reason: "tensor name '\(t.name)' is empty, reserved or repeated")
            }
            previous = t.name
            guard t.shape.allSatisfy({ $0 >= 0 }) else {
                throw ModelIOError.writeFailed(path: url.path, reason: "tensor '\(t.name)' has a negative dimension in \(t.shape)")
            }
            var expected = t.dtype.size
            for d in t.shape {
                let (p, overflow) = expected.multipliedReportingOverflow(by: d)
                guard !overflow else {
                    throw ModelIOError.writeFailed(path: url.path, reason: "tensor '\(t.name)' shape \(t.shape) is too large")
                }
                expected = p
            }
            guard t.byteCount == expected else {
                throw ModelIOError.writeFailed(path: url.path,
                                               reason: "tensor '\(t.name)' has \(t.byteCount) bytes but shape \(t.shape) of \(t.dtype.rawValue) needs \(expected)")
            }
            if !first { header += "," }
            first = false
            header += jsonString(t.name) + ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
                + t.shape.map(String.init).joined(separator: ",")
                + "],\"data_offsets\":[\(offset),\(offset + expected)]}"
            offset += expected
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        // Spaces are valid trailing JSON whitespace; they make 8 + N a multiple of 8.
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        let w = try AtomicFileWriter(destination: url)
        var length = UInt64(headerBytes.count).littleEndian
        try withUnsafeBytes(of: &length) { try w.write($0) }
        try w.write(headerBytes)
        for t in sorted { try t.withBytes { try w.write($0) } }
        try w.commit()
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, other
    /// characters as UTF-8. (Shared by every hand-written JSON writer in the project.)
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
