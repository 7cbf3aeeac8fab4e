/// Converts ggml-encoded tensor bytes to float32, bit-identical with ggml's reference
/// dequantisation (`dequantize_row_*` in ggml-quants.c).
public enum GGMLDequantizer {
    /// Types this build can dequantise.
    public static let supportedTypes: Set<GGMLType> = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
    ]

    /// Dequantises `elements` values (a whole number of blocks) of `type` from `bytes` into `out`.
    /// Elements come out in storage order. Sizes are validated; `unsupported` is thrown (as built
    /// by the caller, naming file and tensor) for types outside `supportedTypes`.
    static func run(_ type: GGMLType, bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>,
                    elements: Int, unsupported: @autoclosure () -> Error) throws {
        let (perBlock, blockBytes) = type.blockLayout
        precondition(elements % perBlock == 0 && bytes.count >= elements / perBlock * blockBytes,
                     "GGMLDequantizer.run called with an inconsistent size (internal error)")
        guard elements > 0 else { return }
        guard let base = bytes.baseAddress else { return }
        let x = base.assumingMemoryBound(to: UInt8.self)
        let blocks = elements / perBlock
        switch type {
        case .f32: f32(x, out, elements)
        case .f16: f16(x, out, elements)
        case .bf16: bf16(x, out, elements)
        case .q8_0: q8_0(x, out, blocks)
        case .q4_0: q4_0(x, out, blocks)
        case .q4_1: q4_1(x, out, blocks)
        case .q5_0: q5_0(x, out, blocks)
        case .q5_1: q5_1(x, out, blocks)
        case .q2_K: q2_K(x, out, blocks)
        case .q3_K: q3_K(x, out, blocks)
        case .q4_K: q4_K(x, out, blocks)
        case .q5_K: q5_K(x, out, blocks)
        case .q6_K: q6_K(x, out, blocks)
        default: throw unsupported()
        }
    }

    /// Dequantises raw ggml blocks of `type` (e.g. a hand-built block, or bytes from another
    /// container) into `output`, whose count must be a whole number of blocks whose bytes
    /// `bytes` holds exactly.
    public static func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer,
                                  into output: UnsafeMutableBufferPointer<Float>) throws {
        let (perBlock, blockBytes) = type.blockLayout
        guard output.count % perBlock == 0, bytes.count == output.count / perBlock * blockBytes else {
            throw ModelIOError.bufferSizeMismatch(path: "<memory>", tensor: "\(type) blocks",
                                                  expected: bytes.count / blockBytes * perBlock, got: output.count)
        }
        guard let out = output.baseAddress else { return }
        try run(type, bytes: bytes, into: out, elements: output.count,
                unsupported: ModelIOError.unsupportedTensorType(path: "<memory>", tensor: "\(type) blocks", type: type.description))
    }
}
