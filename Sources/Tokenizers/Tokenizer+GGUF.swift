import Foundation
import ModelIO

/// GGUF token types (`tokenizer.ggml.token_type`), as llama.cpp writes them.
enum GGUFTokenType: Int {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

extension TokenizerLoader {
    /// Tokenizer models (`tokenizer.ggml.model`) this loader implements.
    public static let supportedGGUFModels = ["gpt2 (byte-level BPE)", "llama (SentencePiece BPE)"]

    /// Builds the tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata:
    /// `gpt2` byte-level BPE with the pre-tokenizer named by `tokenizer.ggml.pre`, or `llama`
    /// SentencePiece BPE with scores and byte fallback. Control and user-defined tokens are
    /// matched whole in the text; BOS/EOS are added as `add_bos_token`/`add_eos_token` say.
    public static func load(gguf: GGUFFile) throws -> Tokenizer {
        let file = gguf.url.path
        let md = gguf.metadata
        func key(_ k: String) -> String { "tokenizer.ggml." + k }

        guard let modelValue = md[key("model")] else { throw TokenizerError.missingField(file: file, field: key("model")) }
        guard let model = modelValue.string else {
            throw TokenizerError.invalidField(file: file, field: key("model"), reason: "expected a string")
        }
        guard model == "gpt2" || model == "llama" else {
            throw TokenizerError.unsupportedModel(file: file, field: key("model"), model: model, supported: supportedGGUFModels)
        }
        guard let tokensValue = md[key("tokens")] else { throw TokenizerError.missingField(file: file, field: key("tokens")) }
        guard let tokens = tokensValue.stringArray, !tokens.isEmpty else {
            throw TokenizerError.invalidField(file: file, field: key("tokens"), reason: "expected a non-empty array of strings")
        }
        let n = tokens.count

        var types = [GGUFTokenType](repeating: .normal, count: n)
        if let v = md[key("token_type")] {
            guard let raw = v.intArray, raw.count == n else {
                throw TokenizerError.invalidField(file: file, field: key("token_type"),
                                                  reason: "expected \(n) integers, one per token")
            }
            for (i, t) in raw.enumerated() { types[i] = GGUFTokenType(rawValue: t) ?? .normal }
        }

        func optionalID(_ k: String) throws -> Int32? {
            guard let v = md[key(k)] else { return nil }
            guard let i = v.int else { throw TokenizerError.invalidField(file: file, field: key(k), reason: "expected an integer") }
            // Some converters write -1 or an out-of-range id for "none".
            guard i >= 0 && i < n else { return nil }
            return Int32(i)
        }
        func optionalBool(_ k: String) throws -> Bool? {
            guard let v = md[key(k)] else { return nil }
            guard let b = v.bool else { throw TokenizerError.invalidField(file: file, field: key(k), reason: "expected a boolean") }
            return b
        }

        let bos = try optionalID("bos_token_id")
        let eos = try optionalID("eos_token_id")
        let unk = try optionalID("unknown_token_id")
        let addBOS = try optionalBool("add_bos_token") ?? (model == "llama")
        let addEOS = try optionalBool("add_eos_token") ?? false
        // Checked after the vocabulary fields, so that a broken vocabulary is reported first.
        func specialsAround() throws -> (prefix: [Int32], suffix: [Int32]) {
            var prefix = [Int32](), suffix = [Int32]()
            if addBOS {
                guard let bos else { throw TokenizerError.missingField(file: file, field: key("bos_token_id")) }
                prefix.append(bos)
            }
            if addEOS {
                guard let eos else { throw TokenizerError.missingField(file: file, field: key("eos_token_id")) }
                suffix.append(eos)
            }
            return (prefix, suffix)
        }

        // Gemma stores its user-defined runs of spaces with real spaces; they take part in BPE
        // as runs of `▁`, like every other piece (this is how transformers reads these files).
        let architecture = md["general.architecture"]?.string ?? ""
        let gemmaStyle = model == "llama" && ["gemma", "gemma2", "gemma3"].contains(architecture)
        var pieces = tokens
        if gemmaStyle {
            for i in 0..<n where types[i] == .userDefined && !tokens[i].isEmpty && tokens[i].utf8.allSatisfy({ $0 == 0x20 }) {
                pieces[i] = String(repeating: "\u{2581}", count: tokens[i].utf8.count)
            }
        }

        // Control and user-defined tokens are matched whole in the text; control (and unknown)
        // tokens are the "special" ones that decoding can skip.
        var added = [AddedToken]()
        var special = [Bool](repeating: false, count: n)
        for i in 0..<n {
            switch types[i] {
            case .control, .userDefined:
                added.append(AddedToken(id: Int32(i), content: Array(pieces[i].utf8)))
                special[i] = types[i] == .control
            case .unknown:
                special[i] = true
            default:
                break
            }
        }

        if model == "gpt2" {
            let preName: String
            if let v = md[key("pre")] {
                guard let s = v.string else { throw TokenizerError.invalidField(file: file, field: key("pre"), reason: "expected a string") }
                preName = s
            } else {
                preName = "gpt2" // files converted before `pre` existed used the GPT-2 split
            }
            guard let pre = PreTokenizer.ggufNames[preName] else {
                throw TokenizerError.unsupportedComponent(file: file, field: key("pre"), component: preName,
                                                          supported: PreTokenizer.ggufNames.keys.sorted())
            }
            guard let mergesValue = md[key("merges")] else { throw TokenizerError.missingField(file: file, field: key("merges")) }
            guard let mergeStrings = mergesValue.stringArray else {
                throw TokenizerError.invalidField(file: file, field: key("merges"), reason: "expected an array of strings")
            }
            var merges = [(String, String)]()
            merges.reserveCapacity(mergeStrings.count)
            for (i, m) in mergeStrings.enumerated() {
                // "a b": byte-level tokens never contain a raw space, so the first space separates.
                guard let pair = splitMerge(m) else {
                    throw TokenizerError.invalidField(file: file, field: "\(key("merges"))[\(i)]",
                                                      reason: "'\(m)' is not two tokens separated by a space")
                }
                merges.append(pair)
            }
            let (prefix, suffix) = try specialsAround()
            return try ByteLevelBPETokenizer(
                file: file, tokens: tokens, merges: merges, added: added, special: special,
                preTokenizer: pre, ignoreMerges: false, unknownID: unk,
                prefix: prefix, suffix: suffix, bos: bos, eos: eos)
        }

        // llama: SentencePiece BPE.
        guard let scoresValue = md[key("scores")] else { throw TokenizerError.missingField(file: file, field: key("scores")) }
        guard let scores = scoresValue.doubleArray, scores.count == n else {
            throw TokenizerError.invalidField(file: file, field: key("scores"), reason: "expected \(n) numbers, one per token")
        }
        var byteTokens = [Int32](repeating: -1, count: 256)
        for i in 0..<n where types[i] == .byte || md[key("token_type")] == nil {
            if let b = byteTokenValue(tokens[i]), byteTokens[Int(b)] < 0 { byteTokens[Int(b)] = Int32(i) }
        }
        let addSpacePrefix = try optionalBool("add_space_prefix") ?? true
        let (prefix, suffix) = try specialsAround()
        return SentencePieceBPETokenizer(
            tokens: tokens, pieces: pieces, scores: scores.map(Float.init),
            order: gemmaStyle ? .vocabularyOrder : .score, byteTokens: byteTokens,
            added: added, special: special, unknownID: unk,
            // As transformers reads these files: a Metaspace-style prefix, only where the text
            // does not already start with a space.
            options: .init(spacePrefix: addSpacePrefix ? .first : .none, prefixOnlyIfMissing: true,
                           stripsLeadingSpace: addSpacePrefix),
            prefix: prefix, suffix: suffix, bos: bos, eos: eos)
    }

    /// "a b" → ("a", "b"), split at the first space byte. (`firstIndex(of: " ")` would not do:
    /// it compares Characters, and a space followed by a combining mark is one Character.)
    static func splitMerge(_ m: String) -> (String, String)? {
        let u = Array(m.utf8)
        guard let sp = u.firstIndex(of: 0x20) else { return nil }
        return (String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[(sp + 1)...], as: UTF8.self))
    }

    /// The byte of a `<0xXX>` token, or nil.
    static func byteTokenValue(_ t: String) -> UInt8? {
        let u = Array(t.utf8)
        guard u.count == 6, u[0] == UInt8(ascii: "<"), u[1] == UInt8(ascii: "0"), u[2] == UInt8(ascii: "x"),
              u[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16)
    }
}
