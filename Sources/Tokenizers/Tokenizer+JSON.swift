import Foundation

extension TokenizerLoader {
    /// Pipeline components of tokenizer.json this loader implements.
    public static let supportedJSONComponents = [
        "model: BPE (byte-level, or SentencePiece-style with ▁ and byte fallback)",
        "normalizer: none, NFC, Replace(' ' → '▁'), Prepend('▁')",
        "pre_tokenizer: ByteLevel (GPT-2 regex), Split with the GPT-2/Llama 3/Qwen 2 regex + ByteLevel, Digits(individual) + ByteLevel, Metaspace",
        "post_processor: none, ByteLevel, TemplateProcessing",
        "decoder: none, ByteLevel, Replace('▁' → ' '), ByteFallback, Fuse, Strip, Metaspace",
    ]

    /// Builds the tokenizer a Hugging Face `tokenizer.json` describes: byte-level BPE (GPT-2,
    /// SmolLM, Llama 3, Qwen 2 …) or SentencePiece-style BPE (Llama 2, Mistral, Gemma …).
    /// Added tokens are matched whole in the text. `tokenizerConfig` (`tokenizer_config.json`),
    /// when given, supplies `bos_token`/`eos_token` and the `add_bos_token`/`add_eos_token`
    /// flags, which override the post-processor's template.
    public static func load(tokenizerJSON url: URL, tokenizerConfig: URL?) throws -> Tokenizer {
        let file = url.path
        let root = try readJSON(url)

        // Model.
        guard let model = root["model"], model.objectPairs != nil else { throw TokenizerError.missingField(file: file, field: "model") }
        let modelType = model.typeName ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard modelType == "BPE" else {
            throw TokenizerError.unsupportedModel(file: file, field: "model.type", model: modelType, supported: ["BPE"])
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key]?.string, !v.isEmpty {
                throw TokenizerError.unsupportedComponent(file: file, field: "model.\(key)", component: "'\(v)'",
                                                          supported: ["null", "\"\""])
            }
        }
        if let d = model["dropout"]?.double, d > 0 {
            throw TokenizerError.unsupportedComponent(file: file, field: "model.dropout", component: "\(d)", supported: ["null", "0"])
        }
        guard let vocabPairs = model["vocab"]?.objectPairs else {
            throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "expected an object of token → id")
        }
        var maxID = -1
        var vocab = [(String, Int32)]()
        vocab.reserveCapacity(vocabPairs.count)
        for (t, v) in vocabPairs {
            guard let i = v.int, i >= 0, i < Int(Int32.max) else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab[\(t.debugDescription)]", reason: "expected a non-negative integer id")
            }
            vocab.append((t, Int32(i)))
            maxID = max(maxID, i)
        }
        guard let mergesRaw = model["merges"]?.array else {
            throw TokenizerError.invalidField(file: file, field: "model.merges", reason: "expected an array of merges")
        }
        var merges = [(String, String)]()
        merges.reserveCapacity(mergesRaw.count)
        for (i, m) in mergesRaw.enumerated() {
            // Older files write "a b", newer ones ["a", "b"].
            if let s = m.string, let pair = splitMerge(s) {
                merges.append(pair)
            } else if let pair = m.array, pair.count == 2, let a = pair[0].string, let b = pair[1].string {
                merges.append((a, b))
            } else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", reason: "expected \"a b\" or [\"a\", \"b\"]")
            }
        }

        // Added tokens.
        var added = [AddedToken]()
        var specialIDs = Set<Int32>()
        for (i, a) in (root["added_tokens"]?.array ?? []).enumerated() {
            guard let id = a["id"]?.int, id >= 0, id < Int(Int32.max), let content = a["content"]?.string else {
                throw TokenizerError.invalidField(file: file, field: "added_tokens[\(i)]", reason: "expected an id and a content string")
            }
            var t = AddedToken(id: Int32(id), content: Array(content.utf8))
            t.lstrip = a["lstrip"]?.bool ?? false
            t.rstrip = a["rstrip"]?.bool ?? false
            t.singleWord = a["single_word"]?.bool ?? false
            added.append(t)
            if a["special"]?.bool ?? false { specialIDs.insert(Int32(id)) }
            maxID = max(maxID, id)
        }
        guard maxID >= 0 else { throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "the vocabulary is empty") }
        // One slot per id up to the largest: ids far beyond what the file could list are corrupt,
        // and would allocate gigabytes.
        let fileSize = ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? NSNumber)?.intValue ?? Int.max
        guard maxID < max(fileSize, 1 << 16) else {
            throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "has id \(maxID), more ids than a \(fileSize)-byte file can list")
        }
        var tokens = [String](repeating: "", count: maxID + 1)
        for (t, i) in vocab { tokens[Int(i)] = t }
        for a in added { tokens[Int(a.id)] = String(decoding: a.content, as: UTF8.self) }
        var special = [Bool](repeating: false, count: tokens.count)
        for i in specialIDs { special[Int(i)] = true }
        // Token lookup by UTF-8 bytes (String keys would merge canonically equivalent tokens).
        var idOf = [[UInt8]: Int32](minimumCapacity: tokens.count)
        for (t, i) in vocab where idOf[Array(t.utf8)] == nil { idOf[Array(t.utf8)] = i }
        for a in added { idOf[a.content] = a.id }
        func lookup(_ s: String) -> Int32? { idOf[Array(s.utf8)] }

        // Post-processor and tokenizer_config.json: the special tokens around a text.
        var (prefix, suffix) = try jsonPostProcessor(root["post_processor"], file: file)
        var bos: Int32? = prefix.first
        var eos: Int32? = suffix.last
        if let configURL = tokenizerConfig {
            let config = try readJSON(configURL)
            func tokenString(_ key: String) -> String? { config[key]?.string ?? config[key]?["content"]?.string }
            if let s = tokenString("bos_token") {
                guard let id = lookup(s) else {
                    throw TokenizerError.invalidField(file: configURL.path, field: "bos_token", reason: "'\(s)' is not in the vocabulary of \(file)")
                }
                bos = id
            }
            if let s = tokenString("eos_token") {
                guard let id = lookup(s) else {
                    throw TokenizerError.invalidField(file: configURL.path, field: "eos_token", reason: "'\(s)' is not in the vocabulary of \(file)")
                }
                eos = id
            }
            if let add = config["add_bos_token"]?.bool {
                prefix.removeAll { $0 == bos }
                if add {
                    guard let bos else { throw TokenizerError.missingField(file: configURL.path, field: "bos_token") }
                    prefix.insert(bos, at: 0)
                }
            }
            if let add = config["add_eos_token"]?.bool {
                suffix.removeAll { $0 == eos }
                if add {
                    guard let eos else { throw TokenizerError.missingField(file: configURL.path, field: "eos_token") }
                    suffix.append(eos)
                }
            }
        }
        let unknownID = model["unk_token"]?.string.flatMap(lookup)
        let ignoreMerges = model["ignore_merges"]?.bool ?? false

        // Byte-level or SentencePiece-style, by the pre-tokenizer and decoder.
        let preType = root["pre_tokenizer"].map(flattenTypes) ?? []
        let decoderType = root["decoder"].map(flattenTypes) ?? []
        if preType.contains("ByteLevel") || (preType.isEmpty && decoderType.contains("ByteLevel")) {
            let nfc = try byteLevelNormalizer(root["normalizer"], file: file)
            let (pre, addPrefixSpace) = try byteLevelPreTokenizer(root["pre_tokenizer"], file: file)
            try checkDecoder(root["decoder"], allowed: ["ByteLevel"], file: file)
            return try ByteLevelBPETokenizer(
                file: file, tokens: tokens, merges: merges, added: added, special: special,
                preTokenizer: pre, ignoreMerges: ignoreMerges, unknownID: unknownID,
                addPrefixSpace: addPrefixSpace, nfc: nfc, prefix: prefix, suffix: suffix, bos: bos, eos: eos)
        }

        var options = try sentencePieceOptions(root, file: file)
        options.byteFallback = model["byte_fallback"]?.bool ?? false
        var byteTokens = [Int32](repeating: -1, count: 256)
        for (t, i) in vocab {
            if let b = byteTokenValue(t), byteTokens[Int(b)] < 0 { byteTokens[Int(b)] = i }
        }
        var pairRanks = [UInt64: UInt64](minimumCapacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            let ua = Array(a.utf8), ub = Array(b.utf8)
            guard let ia = idOf[ua], let ib = idOf[ub], let im = idOf[ua + ub] else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(rank)]",
                    reason: "merge '\(a) \(b)' uses or produces a token that is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: ia)) << 32 | UInt64(UInt32(bitPattern: ib))
            if pairRanks[key] == nil { pairRanks[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: im)) }
        }
        // Initial symbols are looked up among the model's own vocabulary.
        var bpeVocabulary = [String](repeating: "", count: tokens.count)
        for (t, i) in vocab { bpeVocabulary[Int(i)] = t }
        return SentencePieceBPETokenizer(
            tokens: tokens, pieces: bpeVocabulary, scores: [Float](repeating: 0, count: tokens.count), order: .vocabularyOrder,
            pairRanks: pairRanks, byteTokens: byteTokens, added: added, special: special, unknownID: unknownID,
            options: options, prefix: prefix, suffix: suffix, bos: bos, eos: eos)
    }

    private static func readJSON(_ url: URL) throws -> JSONTree {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let tree: JSONTree
        do { tree = try JSONTree.parse(data) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: "not valid JSON: \(error)")
        }
        guard tree.objectPairs != nil else {
            throw TokenizerError.unreadable(file: url.path, reason: "the top level is not a JSON object")
        }
        return tree
    }

    /// The component types of a (possibly nested Sequence) component.
    private static func flattenTypes(_ v: JSONTree) -> [String] {
        guard let type = v.typeName else { return [] }
        guard type == "Sequence" else { return [type] }
        let items = v["pretokenizers"]?.array ?? v["normalizers"]?.array ?? v["decoders"]?.array ?? v["processors"]?.array ?? []
        return items.flatMap(flattenTypes)
    }

    /// The components of a (possibly nested Sequence) component, or [] for null.
    private static func flattenComponents(_ v: JSONTree?, field: String, file: String) throws -> [JSONTree] {
        guard let v, !v.isNull else { return [] }
        guard let type = v.typeName else {
            throw TokenizerError.invalidField(file: file, field: field, reason: "expected null or an object with a type")
        }
        guard type == "Sequence" else { return [v] }
        let items = v["pretokenizers"]?.array ?? v["normalizers"]?.array ?? v["decoders"]?.array ?? v["processors"]?.array ?? []
        return try items.flatMap { try flattenComponents($0, field: field, file: file) }
    }

    /// Whether the (byte-level) normalizer is NFC (false for none).
    private static func byteLevelNormalizer(_ v: JSONTree?, file: String) throws -> Bool {
        var nfc = false
        for c in try flattenComponents(v, field: "normalizer", file: file) {
            guard c.typeName == "NFC" else {
                throw TokenizerError.unsupportedComponent(file: file, field: "normalizer", component: c.typeName ?? "?",
                                                          supported: ["none", "NFC"])
            }
            nfc = true
        }
        return nfc
    }

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The word split and whether a space is prefixed, for the pre-tokenizer shapes byte-level
    /// BPE files use.
    private static func byteLevelPreTokenizer(_ v: JSONTree?, file: String) throws -> (PreTokenizer?, Bool) {
        let supported = ["ByteLevel", "Sequence[Split(GPT-2 | Llama 3 | Qwen 2 regex, Isolated), ByteLevel(use_regex: false)]",
                         "Sequence[Digits(individual_digits: true), ByteLevel]"]
        let items = try flattenComponents(v, field: "pre_tokenizer", file: file)
        let describe = items.map { $0.typeName ?? "?" }.joined(separator: ", ")
        func unsupported(_ what: String) -> TokenizerError {
            .unsupportedComponent(file: file, field: "pre_tokenizer", component: what, supported: supported)
        }
        guard let last = items.last, last.typeName == "ByteLevel" else { throw unsupported(describe.isEmpty ? "none" : describe) }
        let useRegex = last["use_regex"]?.bool ?? true
        let addPrefixSpace = last["add_prefix_space"]?.bool ?? false
        let before = items.dropLast()
        if before.isEmpty { return (useRegex ? .gpt2 : nil, addPrefixSpace) }
        guard before.count == 1, let first = before.first else { throw unsupported(describe) }
        switch first.typeName {
        case "Digits" where first["individual_digits"]?.bool == true && useRegex:
            return (.digitsThenGPT2, addPrefixSpace)
        case "Split" where !useRegex:
            let pattern = first["pattern"]?["Regex"]?.string ?? ""
            guard first["behavior"]?.string == "Isolated", (first["invert"]?.bool ?? false) == false else {
                throw unsupported("Split(behavior: \(first["behavior"]?.string ?? "?"), invert: \(first["invert"]?.bool ?? false))")
            }
            switch pattern {
            case gpt2Pattern: return (.gpt2, addPrefixSpace)
            case llama3Pattern: return (.llama3, addPrefixSpace)
            case qwen2Pattern: return (.qwen2, addPrefixSpace)
            default: throw unsupported("Split with regex \(pattern.debugDescription)")
            }
        default:
            throw unsupported(describe)
        }
    }

    /// Normalizer, pre-tokenizer and decoder of a SentencePiece-style file, as options.
    private static func sentencePieceOptions(_ root: JSONTree, file: String) throws -> SentencePieceBPETokenizer.Options {
        var options = SentencePieceBPETokenizer.Options()
        var spacesReplaced = false
        for c in try flattenComponents(root["normalizer"], field: "normalizer", file: file) {
            switch c.typeName {
            case "Replace" where c["pattern"]?["String"]?.string == " " && c["content"]?.string == "\u{2581}":
                spacesReplaced = true
            case "Prepend" where c["prepend"]?.string == "\u{2581}":
                options.spacePrefix = .always
            default:
                throw TokenizerError.unsupportedComponent(
                    file: file, field: "normalizer", component: describe(c),
                    supported: ["none", "Replace(' ' → '▁')", "Prepend('▁')"])
            }
        }
        for c in try flattenComponents(root["pre_tokenizer"], field: "pre_tokenizer", file: file) {
            switch c.typeName {
            case "Metaspace" where (c["replacement"]?.string ?? "\u{2581}") == "\u{2581}":
                spacesReplaced = true
                let scheme = c["prepend_scheme"]?.string ?? ((c["add_prefix_space"]?.bool ?? true) ? "always" : "never")
                switch scheme {
                case "always": options.spacePrefix = .always
                case "first": options.spacePrefix = .first
                default: options.spacePrefix = .none
                }
                options.prefixOnlyIfMissing = true
                options.splitAtEverySpace = c["split"]?.bool ?? true
            // Splitting on spaces after they were all replaced by ▁ changes nothing.
            case "Split" where spacesReplaced && c["pattern"]?["String"]?.string == " ":
                break
            default:
                throw TokenizerError.unsupportedComponent(
                    file: file, field: "pre_tokenizer", component: describe(c),
                    supported: ["ByteLevel (byte-level BPE)", "Metaspace", "none (SentencePiece-style BPE)"])
            }
        }
        guard spacesReplaced else {
            throw TokenizerError.unsupportedComponent(
                file: file, field: "pre_tokenizer", component: "none",
                supported: ["ByteLevel (byte-level BPE)", "Metaspace or a Replace(' ' → '▁') normalizer (SentencePiece-style BPE)"])
        }
        for c in try flattenComponents(root["decoder"], field: "decoder", file: file) {
            switch c.typeName {
            case "Replace" where c["pattern"]?["String"]?.string == "\u{2581}" && c["content"]?.string == " ":
                break
            case "ByteFallback", "Fuse":
                break
            case "Strip" where (c["content"]?.string ?? " ") == " " && (c["stop"]?.int ?? 0) == 0:
                options.stripsLeadingSpace = (c["start"]?.int ?? 0) > 0
            case "Metaspace":
                let scheme = c["prepend_scheme"]?.string ?? ((c["add_prefix_space"]?.bool ?? true) ? "always" : "never")
                options.stripsLeadingSpace = scheme != "never"
            default:
                throw TokenizerError.unsupportedComponent(
                    file: file, field: "decoder", component: describe(c),
                    supported: ["Replace('▁' → ' ')", "ByteFallback", "Fuse", "Strip(' ', start, 0)", "Metaspace"])
            }
        }
        return options
    }

    private static func describe(_ c: JSONTree) -> String {
        guard let type = c.typeName else { return "?" }
        if let p = c["pattern"]?["String"]?.string ?? c["pattern"]?["Regex"]?.string {
            return "\(type)(\(p.debugDescription))"
        }
        return type
    }

    private static func checkDecoder(_ v: JSONTree?, allowed: [String], file: String) throws {
        for c in try flattenComponents(v, field: "decoder", file: file) where !allowed.contains(c.typeName ?? "") {
            throw TokenizerError.unsupportedComponent(file: file, field: "decoder", component: c.typeName ?? "?",
                                                      supported: ["none"] + allowed)
        }
    }

    /// Token ids the post-processor puts before and after a single sequence.
    private static func jsonPostProcessor(_ v: JSONTree?, file: String) throws -> ([Int32], [Int32]) {
        var prefix = [Int32](), suffix = [Int32]()
        for c in try flattenComponents(v, field: "post_processor", file: file) {
            switch c.typeName {
            case "ByteLevel":
                continue
            case "TemplateProcessing":
                guard let single = c["single"]?.array else {
                    throw TokenizerError.invalidField(file: file, field: "post_processor.single", reason: "expected an array")
                }
                var seenSequence = false
                for item in single {
                    if item["Sequence"] != nil { seenSequence = true; continue }
                    guard let name = item["SpecialToken"]?["id"]?.string else {
                        throw TokenizerError.invalidField(file: file, field: "post_processor.single", reason: "unknown template item")
                    }
                    guard let raw = c["special_tokens"]?[name]?["ids"]?.array else {
                        throw TokenizerError.invalidField(file: file, field: "post_processor.special_tokens", reason: "'\(name)' has no ids")
                    }
                    let ids = raw.compactMap { $0.int }.filter { $0 >= 0 && $0 < Int(Int32.max) }.map { Int32($0) }
                    if seenSequence { suffix += ids } else { prefix += ids }
                }
            default:
                throw TokenizerError.unsupportedComponent(file: file, field: "post_processor", component: c.typeName ?? "?",
                                                          supported: ["none", "ByteLevel", "TemplateProcessing", "Sequence of these"])
            }
        }
        return (prefix, suffix)
    }
}
