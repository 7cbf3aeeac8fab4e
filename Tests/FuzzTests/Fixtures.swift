import Foundation
import ModelIO
import Models

/// Small, valid files of every format the tool reads, built in memory so that the fuzz suite
/// needs nothing from outside the repository: a one-layer Llama with an 8-wide hidden state and
/// a 261-token byte-level BPE vocabulary, as GGUF and as a Hugging Face directory.
enum Fixtures {
    static let hidden = 8, heads = 2, kvHeads = 1, headDim = 4, ffn = 32, layers = 1

    /// GPT-2's byte → printable character map (bytes_to_unicode).
    static let byteChars: [String] = {
        var bs = Array(33...126) + Array(161...172) + Array(174...255)
        var cs = bs
        var n = 0
        for b in 0..<256 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var out = [String](repeating: "", count: 256)
        for (b, c) in zip(bs, cs) { out[b] = String(UnicodeScalar(UInt32(c))!) }
        return out
    }()

    static let merges = ["h e", "l l", "he ll", "Ġ t"]
    static let special = "<|endoftext|>"
    static var tokens: [String] { byteChars + ["he", "ll", "hell", "Ġt", special] }
    static var vocabularySize: Int { tokens.count }

    /// Deterministic small weights (norm weights near 1, the rest near 0).
    static func weights(_ n: Int, seed: UInt64, norm: Bool = false) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { _ in (norm ? 1 : 0) + Float(rng.unit() - 0.5) * 0.2 }
    }

    /// (name, shape outermost first, values) in the Hugging Face naming.
    static func huggingFaceTensors() -> [(String, [Int], [Float])] {
        let p = "model.layers.0."
        let q = heads * headDim, kv = kvHeads * headDim
        return [
            ("model.embed_tokens.weight", [vocabularySize, hidden], weights(vocabularySize * hidden, seed: 1)),
            (p + "input_layernorm.weight", [hidden], weights(hidden, seed: 2, norm: true)),
            (p + "self_attn.q_proj.weight", [q, hidden], weights(q * hidden, seed: 3)),
            (p + "self_attn.k_proj.weight", [kv, hidden], weights(kv * hidden, seed: 4)),
            (p + "self_attn.v_proj.weight", [kv, hidden], weights(kv * hidden, seed: 5)),
            (p + "self_attn.o_proj.weight", [hidden, q], weights(hidden * q, seed: 6)),
            (p + "post_attention_layernorm.weight", [hidden], weights(hidden, seed: 7, norm: true)),
            (p + "mlp.gate_proj.weight", [ffn, hidden], weights(ffn * hidden, seed: 8)),
            (p + "mlp.up_proj.weight", [ffn, hidden], weights(ffn * hidden, seed: 9)),
            (p + "mlp.down_proj.weight", [hidden, ffn], weights(hidden * ffn, seed: 10)),
            ("model.norm.weight", [hidden], weights(hidden, seed: 11, norm: true)),
        ]
    }

    static func configJSON() -> Data {
        Data("""
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": \(hidden),
         "intermediate_size": \(ffn), "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads),
         "head_dim": \(headDim), "num_hidden_layers": \(layers), "vocab_size": \(vocabularySize),
         "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": true,
         "bos_token_id": \(vocabularySize - 1), "eos_token_id": \(vocabularySize - 1), "torch_dtype": "float32"}
        """.utf8)
    }

    static func tokenizerJSON() -> Data {
        let vocab = tokens.enumerated().map { "\(SafetensorsWriter.jsonString($0.element)): \($0.offset)" }.joined(separator: ", ")
        let m = merges.map { SafetensorsWriter.jsonString($0) }.joined(separator: ", ")
        return Data("""
        {"version": "1.0", "truncation": null, "padding": null,
         "added_tokens": [{"id": \(vocabularySize - 1), "content": "\(special)", "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true}],
         "normalizer": null,
         "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
         "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
         "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
         "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "",
                   "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                   "vocab": {\(vocab)}, "merges": [\(m)]}}
        """.utf8)
    }

    /// Writes the Hugging Face directory (config.json, model.safetensors, tokenizer.json).
    static func writeHuggingFace(to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try configJSON().write(to: dir.appendingPathComponent("config.json"))
        try tokenizerJSON().write(to: dir.appendingPathComponent("tokenizer.json"))
        let tensors = huggingFaceTensors().map { SafetensorsWriter.Tensor(name: $0.0, shape: $0.1, floats: $0.2) }
        try SafetensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: dir.appendingPathComponent("model.safetensors"))
    }

    /// A GGUF v3 file of the same model: llama metadata, a gpt2 tokenizer, F32 tensors and one
    /// Q8_0 tensor (so that dequantisation sees mutated scales too).
    static func gguf() -> Data {
        var d = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); d.append(contentsOf: Array(s.utf8)) }
        enum V { case s(String), u(UInt32), f(Float), strs([String]), ints([Int32]) }
        let kvs: [(String, V)] = [
            ("general.architecture", .s("llama")),
            ("general.alignment", .u(32)),
            ("llama.embedding_length", .u(UInt32(hidden))),
            ("llama.block_count", .u(UInt32(layers))),
            ("llama.attention.head_count", .u(UInt32(heads))),
            ("llama.attention.head_count_kv", .u(UInt32(kvHeads))),
            ("llama.attention.key_length", .u(UInt32(headDim))),
            ("llama.feed_forward_length", .u(UInt32(ffn))),
            ("llama.attention.layer_norm_rms_epsilon", .f(1e-5)),
            ("llama.rope.freq_base", .f(10000)),
            ("tokenizer.ggml.model", .s("gpt2")),
            ("tokenizer.ggml.pre", .s("gpt2")),
            ("tokenizer.ggml.tokens", .strs(tokens)),
            ("tokenizer.ggml.token_type", .ints(tokens.indices.map { $0 == vocabularySize - 1 ? 3 : 1 })),
            ("tokenizer.ggml.merges", .strs(merges)),
            ("tokenizer.ggml.bos_token_id", .u(UInt32(vocabularySize - 1))),
            ("tokenizer.ggml.eos_token_id", .u(UInt32(vocabularySize - 1))),
        ]
        let q = heads * headDim, kv = kvHeads * headDim
        // (name, GGUF dims innermost first, type, payload)
        var tensors: [(String, [Int], UInt32, Data)] = []
        func f32(_ name: String, _ dims: [Int], seed: UInt64, norm: Bool = false) {
            let w = weights(dims.reduce(1, *), seed: seed, norm: norm)
            tensors.append((name, dims, 0, w.withUnsafeBytes { Data($0) }))
        }
        f32("token_embd.weight", [hidden, vocabularySize], seed: 1)
        f32("blk.0.attn_norm.weight", [hidden], seed: 2, norm: true)
        f32("blk.0.attn_q.weight", [hidden, q], seed: 3)
        f32("blk.0.attn_k.weight", [hidden, kv], seed: 4)
        f32("blk.0.attn_v.weight", [hidden, kv], seed: 5)
        f32("blk.0.attn_output.weight", [q, hidden], seed: 6)
        f32("blk.0.ffn_norm.weight", [hidden], seed: 7, norm: true)
        f32("blk.0.ffn_gate.weight", [hidden, ffn], seed: 8)
        f32("blk.0.ffn_up.weight", [hidden, ffn], seed: 9)
        // Q8_0: per 32 values an f16 scale and 32 int8.
        var q8 = Data()
        var rng = SplitMix64(seed: 10)
        for _ in 0..<hidden {
            withUnsafeBytes(of: UInt16(0x2000).littleEndian) { q8.append(contentsOf: $0) }  // scale ≈ 0.0078
            for _ in 0..<ffn { q8.append(UInt8(truncatingIfNeeded: Int(rng.next() % 64) - 32)) }
        }
        tensors.append(("blk.0.ffn_down.weight", [ffn, hidden], 8, q8))
        f32("output_norm.weight", [hidden], seed: 11, norm: true)

        u32(3)
        u64(UInt64(tensors.count))
        u64(UInt64(kvs.count))
        for (k, v) in kvs {
            str(k)
            switch v {
            case let .s(s): u32(8); str(s)
            case let .u(x): u32(4); u32(x)
            case let .f(x): u32(6); u32(x.bitPattern)
            case let .strs(a): u32(9); u32(8); u64(UInt64(a.count)); a.forEach(str)
            case let .ints(a): u32(9); u32(5); u64(UInt64(a.count)); a.forEach { u32(UInt32(bitPattern: $0)) }
            }
        }
        var offset = 0
        for (name, dims, type, payload) in tensors {
            str(name)
            u32(UInt32(dims.count))
            dims.forEach { u64(UInt64($0)) }
            u32(type)
            u64(UInt64(offset))
            offset += (payload.count + 31) / 32 * 32
        }
        while d.count % 32 != 0 { d.append(0) }
        for (_, _, _, payload) in tensors {
            d.append(payload)
            while d.count % 32 != 0 { d.append(0) }
        }
        return d
    }

    static func neuronSet() -> Data {
        Data("""
        {"format": "langneuron.neurons/1", "language": "vi",
         "model": {"layers": 1, "sizes": {"attn_q": 8, "attn_k": 4, "attn_v": 4, "attn_output": 8, "ffn": 32}},
         "layers": {"0": {"attn_q": [1, 5], "attn_k": [0, 3], "attn_v": [2], "attn_output": [7], "ffn": [0, 4, 31]}}}
        """.utf8)
    }

    /// Six JSON lines documents of the fixture's few words (and some markup for the cleaner).
    static func documents() -> Data {
        let words = ["hello", "there", "hell", "the", "[[link|hell]]", "{{tpl|x}}", "Xin chào"]
        var rng = SplitMix64(seed: 3)
        return Data((0..<6).map { i in
            let text = (0..<40).map { _ in words[rng.below(words.count)] }.joined(separator: " ")
            return #"{"id": \#(i), "title": "T\#(i)", "text": "\#(text)"}"#
        }.joined(separator: "\n").utf8 + [0x0A])
    }

    static func recipe(model: String, neurons: String, output: String, train: String) -> String {
        """
        # fuzz fixture
        model: \(model)
        language: vi
        data: {train: \(train), documents: 4, heldout: 1, seq_len: 8, seed: 1, min_chars: 10}
        neurons: {file: \(neurons)}
        trainable: [attn_q, attn_k, attn_v, ffn_up, ffn_down]
        optimizer: {lr: 1.0e-3, betas: [0.9, 0.999], eps: 1.0e-8, weight_decay: 0.0, clip_grad_norm: 0.3}
        schedule: {warmup_ratio: 0.1, decay: cosine}
        batch:
          size: 2
          accumulation: 1
        epochs: 1
        output: \(output)
        checkpoint_every: 1

        """
    }
}

/// The project's seeded generator (Models' SplitMix64): the same seed gives the same cases on every machine.
extension SplitMix64 {
    mutating func unit() -> Double { nextUnit() }
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
