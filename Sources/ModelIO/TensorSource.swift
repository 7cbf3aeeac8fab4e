/// Named float tensors, whatever the container (GGUF file, safetensors file or a sharded
/// Hugging Face checkpoint). The model loader reads weights only through this protocol.
///
/// Layout: values come out row-major in `shape` order (outermost first). A *row* is the
/// innermost dimension (`shape.last` values); for tensors of more than two dimensions the
/// outer dimensions are flattened into rows, and a 1-D tensor is a single row.
public protocol TensorSource: AnyObject {
    /// All tensor names. GGUF: file order; safetensors: sorted (byte-wise) — see each type.
    var tensorNames: [String] { get }
    /// Shape, outermost first (PyTorch order), or nil when there is no such tensor.
    func shape(of name: String) -> [Int]?
    /// The stored element type as ggml/safetensors name it ("Q4_K", "BF16", "F32", …), or nil.
    func storageType(of name: String) -> String?
    /// The whole tensor as float32; `into.count` must equal the element count.
    func readFloats(_ name: String, into: UnsafeMutableBufferPointer<Float>) throws
    /// Rows `rows` of the tensor (see the layout note above); `into.count` must equal
    /// `rows.count * shape.last`.
    func readFloats(_ name: String, rows: Range<Int>, into: UnsafeMutableBufferPointer<Float>) throws
}

extension TensorSource {
    /// The whole tensor as a new float32 array.
    public func floatArray(_ name: String) throws -> [Float] {
        guard let s = shape(of: name) else {
            // Let the source throw its own missingTensor error (it knows its file's path).
            try readFloats(name, into: UnsafeMutableBufferPointer(start: nil, count: 0))
            throw ModelIOError.missingTensor(path: "\(Self.self)", tensor: name)
        }
        let n = s.reduce(1, *)
        return try [Float](unsafeUninitializedCapacity: n) { buf, initialized in
            try readFloats(name, into: buf)
            initialized = n
        }
    }

    /// Row count of a tensor under the protocol's layout (product of all but the last dimension).
    public func rowCount(of name: String) -> Int? {
        shape(of: name).map { $0.dropLast().reduce(1, *) }
    }
}

extension GGUFFile: TensorSource {
    /// Tensor names in file order.
    public var tensorNames: [String] { tensors.map(\.name) }

    public func shape(of name: String) -> [Int]? { tensorInfo(name)?.shape }

    public func storageType(of name: String) -> String? { tensorInfo(name)?.type.description }

    public func readFloats(_ name: String, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let info = tensorInfo(name) else { throw ModelIOError.missingTensor(path: url.path, tensor: name) }
        try dequantize(info, into: output)
    }

    public func readFloats(_ name: String, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let info = tensorInfo(name) else { throw ModelIOError.missingTensor(path: url.path, tensor: name) }
        try dequantize(info, rows: rows, into: output)
    }
}

/// A tensor's bytes as stored (no conversion), inside a mapping that `owner` keeps alive.
public struct StoredTensor {
    /// ggml type number of the elements (safetensors F32/F16/BF16 map to ggml's F32/F16/BF16).
    public let type: GGMLType
    public let bytes: UnsafeRawBufferPointer
    /// Retain this for as long as `bytes` is used (the mapped file).
    public let owner: AnyObject
}

/// Sources whose tensors can be used in place, in their stored type (memory-mapped files).
public protocol StoredTensorSource: TensorSource {
    /// The stored bytes of `name`, or nil when the tensor is missing or its type has no ggml equivalent.
    func storedTensor(_ name: String) -> StoredTensor?
}

extension GGUFFile: StoredTensorSource {
    public func storedTensor(_ name: String) -> StoredTensor? {
        guard let info = tensorInfo(name) else { return nil }
        return StoredTensor(type: info.type, bytes: UnsafeRawBufferPointer(rebasing: file.bytes[info.fileOffset..<(info.fileOffset + info.byteCount)]),
                            owner: file)
    }
}

extension SafetensorsDType {
    /// The ggml type with the same element encoding, if any.
    public var ggmlType: GGMLType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }
}

extension SafetensorsFile: StoredTensorSource {
    public func storedTensor(_ name: String) -> StoredTensor? {
        guard let t = info(name), let type = t.dtype.ggmlType else { return nil }
        return StoredTensor(type: type, bytes: rawBytes(t), owner: file)
    }
}

extension SafetensorsCollection: StoredTensorSource {
    public func storedTensor(_ name: String) -> StoredTensor? { locate(name).flatMap { $0.file.storedTensor(name) } }
}
