import Foundation

extension GGUFWriter {
    /// One F32 tensor of a new GGUF file. `ggufDims` is innermost first (ggml's `ne`), so a
    /// row-major `[rows, cols]` array has `ggufDims == [cols, rows]`.
    public struct NewTensor {
        public let name: String
        public let ggufDims: [Int]
        public let values: [Float]

        public init(name: String, ggufDims: [Int], values: [Float]) {
            self.name = name
            self.ggufDims = ggufDims
            self.values = values
        }
    }

    /// Writes a new GGUF v3 file with the given metadata (in this order) and F32 tensors (in this
    /// order), with the default alignment of 32 bytes, atomically. Used for LoRA adapters.
    public static func write(metadata: [(key: String, value: GGUFValue)], tensors: [NewTensor], to url: URL) throws {
        let alignment = 32
        var seenKeys = Set<String>()
        for (k, _) in metadata where !seenKeys.insert(k).inserted {
            throw ModelIOError.writeFailed(path: url.path, reason: "metadata key '\(k)' given twice")
        }
        var seenNames = Set<String>()
        for t in tensors {
            guard seenNames.insert(t.name).inserted else {
                throw ModelIOError.writeFailed(path: url.path, reason: "tensor '\(t.name)' given twice")
            }
            guard (1...4).contains(t.ggufDims.count), t.ggufDims.allSatisfy({ $0 > 0 }) else {
                throw ModelIOError.writeFailed(path: url.path, reason: "tensor '\(t.name)' has dimensions \(t.ggufDims) (need 1 to 4 positive)")
            }
            let n = t.ggufDims.reduce(1, *)
            guard t.values.count == n else {
                throw ModelIOError.bufferSizeMismatch(path: url.path, tensor: t.name, expected: n, got: t.values.count)
            }
        }
        var header = ByteSink()
        header.append(Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (k, v) in metadata { try header.appendEntry(key: k, value: v, path: url.path) }
        var offset = 0
        for t in tensors {
            header.appendString(t.name)
            header.append(UInt32(t.ggufDims.count))
            for d in t.ggufDims { header.append(UInt64(d)) }
            header.append(GGMLType.f32.rawValue)
            header.append(UInt64(offset))
            offset += pad(t.values.count * 4, alignment)
        }
        let w = try AtomicFileWriter(destination: url)
        try w.write(header.bytes)
        try w.writeZeros(pad(header.bytes.count, alignment) - header.bytes.count)
        for t in tensors {
            // Host and file are little-endian: the float array's bytes are the F32 data.
            try t.values.withUnsafeBytes { try w.write($0) }
            try w.writeZeros(pad(t.values.count * 4, alignment) - t.values.count * 4)
        }
        try w.commit()
    }
}
