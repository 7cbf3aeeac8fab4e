import Foundation

extension GGUFWriter {
    /// One F32 tensor of a new GGUF file, values in memory (small files such as LoRA adapters). `ggufDims` is innermost first (ggml's `ne`), so a
    /// row-major `[rows, cols]` array has `ggufDims == [cols, rows]`.
    public struct F32Tensor {
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
    public static func write(metadata: [(key: String, value: GGUFValue)], tensors: [F32Tensor], to url: URL) throws {
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
        try write(metadata: metadata.map { ($0.key, $0.value) },
                  tensors: tensors.map { NewTensor(name: $0.name, ggufDims: $0.ggufDims, type: .f32) }, to: url) { i, bytes in
            // Host and file are little-endian: the float array's bytes are the F32 data.
            tensors[i].values.withUnsafeBytes { bytes.copyMemory(from: $0) }
        }
    }
}
