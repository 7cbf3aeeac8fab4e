import Foundation

/// Writes GGUF files with the shapes of real models and random weights, for benchmarks: a
/// Llama-architecture file (the layout llama.cpp and this tool both run) with a synthetic
/// SentencePiece vocabulary (byte tokens plus generated pieces). The weights mean nothing;
/// type, shapes and size are those of the model named. Never commit the result.
public struct ShapedModel {
    public var name: String
    public var layers: Int
    public var hidden: Int
    public var ffn: Int
    public var heads: Int
    public var kvHeads: Int
    public var vocabulary: Int
    public var contextLength: Int

    public init(name: String, layers: Int, hidden: Int, ffn: Int, heads: Int, kvHeads: Int, vocabulary: Int, contextLength: Int = 4096) {
        self.name = name; self.layers = layers; self.hidden = hidden; self.ffn = ffn
        self.heads = heads; self.kvHeads = kvHeads; self.vocabulary = vocabulary; self.contextLength = contextLength
    }

    /// Shapes by name: Mistral-7B (the paper's model), Llama-3.2-1B-like, and a tiny one for tests.
    public static let presets: [String: ShapedModel] = [
        "mistral-7b": ShapedModel(name: "mistral-7b", layers: 32, hidden: 4096, ffn: 14336, heads: 32, kvHeads: 8, vocabulary: 32000),
        "llama-1b": ShapedModel(name: "llama-1b", layers: 16, hidden: 2048, ffn: 8192, heads: 32, kvHeads: 8, vocabulary: 32000),
        "test": ShapedModel(name: "test", layers: 2, hidden: 256, ffn: 512, heads: 4, kvHeads: 2, vocabulary: 300, contextLength: 512),
    ]

    /// Parameters (the head untied).
    public var parameterCount: Int {
        let headDim = hidden / heads
        let attn = hidden * hidden * 2 + 2 * hidden * kvHeads * headDim
        return 2 * vocabulary * hidden + hidden + layers * (attn + 3 * hidden * ffn + 2 * hidden)
    }

    /// Writes the model with matrices of `type` (norms F32), drawing random data from `rng`
    /// (deterministic for a seeded generator).
    public func write<G: RandomNumberGenerator>(to url: URL, type: GGMLType, rng: inout G,
                                                progress: (Int, Int) -> Void = { _, _ in }) throws {
        let per = type.blockLayout.elements
        guard hidden % per == 0, ffn % per == 0, hidden % heads == 0, heads % kvHeads == 0 else {
            throw ModelIOError.writeFailed(path: url.path, reason: "shape \(name) does not fit \(type) blocks of \(per)")
        }
        guard RandomBlocks.halfFields(type).count > 0 || [.f32, .f16, .bf16].contains(type) else {
            throw ModelIOError.writeFailed(path: url.path, reason: "no random generator for \(type)")
        }
        let headDim = hidden / heads
        var tensors: [(name: String, dims: [Int], type: GGMLType)] = [
            ("token_embd.weight", [hidden, vocabulary], type),
        ]
        for l in 0..<layers {
            let p = "blk.\(l)."
            tensors += [
                (p + "attn_norm.weight", [hidden], .f32),
                (p + "attn_q.weight", [hidden, hidden], type),
                (p + "attn_k.weight", [hidden, kvHeads * headDim], type),
                (p + "attn_v.weight", [hidden, kvHeads * headDim], type),
                (p + "attn_output.weight", [hidden, hidden], type),
                (p + "ffn_norm.weight", [hidden], .f32),
                (p + "ffn_gate.weight", [hidden, ffn], type),
                (p + "ffn_up.weight", [hidden, ffn], type),
                (p + "ffn_down.weight", [ffn, hidden], type),
            ]
        }
        tensors += [("output_norm.weight", [hidden], .f32), ("output.weight", [hidden, vocabulary], type)]

        // Vocabulary: <unk> <s> </s>, the 256 byte tokens, then distinct generated pieces.
        var tokens = ["<unk>", "<s>", "</s>"] + (0..<256).map { String(format: "<0x%02X>", $0) }
        var types: [Int32] = [2, 3, 3] + Array(repeating: 6, count: 256)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        var i = 0
        while tokens.count < vocabulary {
            var s = "", n = i
            repeat { s.append(letters[n % 26]); n /= 26 } while n > 0
            tokens.append((i % 2 == 0 ? "▁" : "") + s)
            types.append(1)
            i += 1
        }
        tokens = Array(tokens.prefix(vocabulary)); types = Array(types.prefix(vocabulary))
        let scores = (0..<vocabulary).map { GGUFValue.float32($0 < 259 ? 0 : -Float($0)) }
        let a = "llama"
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string(a)),
            ("general.name", .string("shaped-\(name)-\(type)")),
            ("general.file_type", .uint32(Self.llamaFileType(type))),
            ("\(a).context_length", .uint32(UInt32(contextLength))),
            ("\(a).embedding_length", .uint32(UInt32(hidden))),
            ("\(a).block_count", .uint32(UInt32(layers))),
            ("\(a).feed_forward_length", .uint32(UInt32(ffn))),
            ("\(a).attention.head_count", .uint32(UInt32(heads))),
            ("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads))),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("\(a).rope.freq_base", .float32(10000)),
            ("\(a).rope.dimension_count", .uint32(UInt32(headDim))),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .array(tokens.map { .string($0) })),
            ("tokenizer.ggml.scores", .array(scores)),
            ("tokenizer.ggml.token_type", .array(types.map { .int32($0) })),
            ("tokenizer.ggml.bos_token_id", .uint32(1)),
            ("tokenizer.ggml.eos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(0)),
        ]
        let fieldScale = try Self.unitFieldScale(type)
        let total = tensors.count
        try GGUFWriter.write(metadata: metadata, tensors: tensors.map { t in
            GGUFWriter.NewTensor(name: t.name, ggufDims: t.dims, type: t.type)
        }, to: url) { index, bytes in
            let t = tensors[index]
            if t.dims.count == 1 {
                // Norm weights near 1 so activations keep their scale.
                for j in 0..<t.dims[0] { bytes.storeBytes(of: (1 + 0.01 * Float(j % 7)).bitPattern.littleEndian, toByteOffset: 4 * j, as: UInt32.self) }
            } else {
                // Weights of RMS 1/√fan-in, so a row's dot product with a unit-RMS input is about
                // one and activations keep their scale through 32 layers.
                RandomBlocks.fill(t.type, bytes, scale: fieldScale / Float(t.dims[0]).squareRoot(), rng: &rng)
            }
            progress(index + 1, total)
        }
    }
}

extension ShapedModel {
    /// The scale-field value that gives random blocks of `type` weights of RMS 1: a block's
    /// values are its scale times codes whose size depends on the type (Q4_0 codes ±8, Q8_0
    /// ±127, K-quants a 6-bit sub-scale times the code), so the RMS of 64 probe blocks filled
    /// with field value 1 is measured and inverted.
    static func unitFieldScale(_ type: GGMLType) throws -> Float {
        let (per, blockBytes) = type.blockLayout
        let blocks = 64
        var probe = [UInt8](repeating: 0, count: blocks * blockBytes)
        var values = [Float](repeating: 0, count: blocks * per)
        var rng = ProbeGenerator()
        try probe.withUnsafeMutableBytes { b in
            RandomBlocks.fill(type, b, scale: 1, rng: &rng)
            try values.withUnsafeMutableBufferPointer { try GGMLDequantizer.dequantize(type, bytes: UnsafeRawBufferPointer(b), into: $0) }
        }
        let rms = (values.reduce(0) { $0 + Double($1) * Double($1) } / Double(values.count)).squareRoot()
        return rms > 0 && rms.isFinite ? Float(1 / rms) : 1
    }

    /// Fixed probe data, so the calibration does not consume the caller's generator.
    private struct ProbeGenerator: RandomNumberGenerator {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        mutating func next() -> UInt64 { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state }
    }

    /// llama.cpp's `general.file_type` (its llama_ftype: "all F32" = 0, "mostly Q4_0" = 2, …) for a
    /// file whose matrices are all `type`, so llama-bench and llama-cli label the file by its type;
    /// 0 for types it names no "mostly" value for.
    static func llamaFileType(_ type: GGMLType) -> UInt32 {
        switch type {
        case .f16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q5_0: return 8
        case .q5_1: return 9
        case .q4_K: return 14 // Q4_K_S: every matrix Q4_K
        case .q5_K: return 16 // Q5_K_S
        case .q6_K: return 18
        case .bf16: return 32
        default: return 0
        }
    }
}

extension GGUFWriter {
    /// A tensor of a new file: name, dims in GGUF order (innermost first) and type.
    public struct NewTensor {
        public let name: String
        public let ggufDims: [Int]
        public let type: GGMLType
        public init(name: String, ggufDims: [Int], type: GGMLType) { self.name = name; self.ggufDims = ggufDims; self.type = type }
        public var byteCount: Int? { type.byteCount(elements: ggufDims.reduce(1, *)) }
    }

    /// Writes a new GGUF v3 file (alignment 32) tensor by tensor: `fill(i, bytes)` writes tensor
    /// i's data into a buffer of its byte size, so memory stays at one tensor. Atomic.
    public static func write(metadata: [(String, GGUFValue)], tensors: [NewTensor], to url: URL,
                             fill: (Int, UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let alignment = 32
        var header = ByteSink()
        header.append(Array("GGUF".utf8))
        header.append(UInt32(3))
        header.append(UInt64(tensors.count))
        header.append(UInt64(metadata.count))
        for (k, v) in metadata { try header.appendEntry(key: k, value: v, path: url.path) }
        var offset = 0
        var sizes = [Int]()
        for t in tensors {
            guard let size = t.byteCount, t.ggufDims[0] % t.type.blockLayout.elements == 0 else {
                throw ModelIOError.writeFailed(path: url.path, reason: "tensor \(t.name): dims \(t.ggufDims) are not whole \(t.type) blocks")
            }
            header.appendString(t.name)
            header.append(UInt32(t.ggufDims.count))
            for d in t.ggufDims { header.append(UInt64(d)) }
            header.append(t.type.rawValue)
            header.append(UInt64(offset))
            sizes.append(size)
            offset += pad(size, alignment)
        }
        let w = try AtomicFileWriter(destination: url)
        try w.write(header.bytes)
        try w.writeZeros(pad(header.bytes.count, alignment) - header.bytes.count)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(sizes.max() ?? 1, 1), alignment: 64)
        defer { buffer.deallocate() }
        for (i, size) in sizes.enumerated() {
            let b = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size])
            try fill(i, b)
            try w.write(UnsafeRawBufferPointer(b))
            try w.writeZeros(pad(size, alignment) - size)
        }
        try w.commit()
    }
}
