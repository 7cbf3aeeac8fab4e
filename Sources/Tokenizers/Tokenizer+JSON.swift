import Foundation

extension TokenizerLoader {
    /// Pipeline components of tokenizer.json this loader implements.
    public static let supportedJSONComponents = [
        "model: BPE (byte-level)",
        "normalizer: none, NFC",
        "pre_tokenizer: ByteLevel (GPT-2 regex), Split with the GPT-2/Llama 3/Qwen 2 regex + ByteLevel, Digits(individual) + ByteLevel",
        "post_processor: none, ByteLevel, TemplateProcessing",
        "decoder: none, ByteLevel",
    ]

    /// Builds a Hugging Face `tokenizer.json` byte-level BPE tokenizer (GPT-2, SmolLM, Llama 3,
    /// Qwen 2 …). Added tokens are matched whole in the text. `tokenizerConfig`
    /// (`tokenizer_config.json`), when given, supplies `bos_token`/`eos_token` and the
    /// `add_bos_token`/`add_eos_token` flags, which override the post-processor's template.
    public static func load(tokenizerJSON url: URL, tokenizerConfig: URL?) throws -> Tokenizer {
        let file = url.path
        let root = try readJSONObject(url)

        // Model.
        guard let model = root["model"] as? [String: Any] else { throw TokenizerError.missingField(file: file, field: "model") }
        let modelType = (model["type"] as? String) ?? (model["merges"] != nil ? "BPE" : "unknown")
        guard modelType == "BPE" else {
            throw TokenizerError.unsupportedModel(file: file, field: "model.type", model: modelType, supported: ["BPE (byte-level)"])
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let v = model[key] as? String, !v.isEmpty {
                throw TokenizerError.unsupportedComponent(file: file, field: "model.\(key)", component: "'\(v)'",
                                                          supported: ["null", "\"\""])
            }
        }
        if let d = model["dropout"] as? Double, d > 0 {
            throw TokenizerError.unsupportedComponent(file: file, field: "model.dropout", component: "\(d)", supported: ["null", "0"])
        }
        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "expected an object of token → id")
        }
        var idOf = [String: Int32](minimumCapacity: vocab.count)
        var maxID = -1
        for (t, v) in vocab {
            guard let i = (v as? NSNumber)?.intValue, i >= 0, i < Int(Int32.max) else {
                throw TokenizerError.invalidField(file: file, field: "model.vocab[\(t.debugDescription)]", reason: "expected a non-negative integer id")
            }
            idOf[t] = Int32(i)
            maxID = max(maxID, i)
        }
        guard let mergesRaw = model["merges"] as? [Any] else {
            throw TokenizerError.invalidField(file: file, field: "model.merges", reason: "expected an array of merges")
        }
        var merges = [(String, String)]()
        merges.reserveCapacity(mergesRaw.count)
        for (i, m) in mergesRaw.enumerated() {
            // Older files write "a b", newer ones ["a", "b"].
            if let s = m as? String, let sp = s.firstIndex(of: " ") {
                merges.append((String(s[..<sp]), String(s[s.index(after: sp)...])))
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw TokenizerError.invalidField(file: file, field: "model.merges[\(i)]", reason: "expected \"a b\" or [\"a\", \"b\"]")
            }
        }

        // Added tokens.
        var added = [AddedToken]()
        var specialIDs = Set<Int32>()
        var addedContent = [String: Int32]()
        for (i, a) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let id = (a["id"] as? NSNumber)?.intValue, id >= 0, id < Int(Int32.max), let content = a["content"] as? String else {
                throw TokenizerError.invalidField(file: file, field: "added_tokens[\(i)]", reason: "expected an id and a content string")
            }
            var t = AddedToken(id: Int32(id), content: Array(content.utf8))
            t.lstrip = a["lstrip"] as? Bool ?? false
            t.rstrip = a["rstrip"] as? Bool ?? false
            t.singleWord = a["single_word"] as? Bool ?? false
            added.append(t)
            if a["special"] as? Bool ?? false { specialIDs.insert(Int32(id)) }
            if addedContent[content] == nil { addedContent[content] = Int32(id) }
            maxID = max(maxID, id)
        }
        guard maxID >= 0 else { throw TokenizerError.invalidField(file: file, field: "model.vocab", reason: "the vocabulary is empty") }
        var tokens = [String](repeating: "", count: maxID + 1)
        for (t, i) in idOf { tokens[Int(i)] = t }
        for a in added { tokens[Int(a.id)] = String(decoding: a.content, as: UTF8.self) }
        var special = [Bool](repeating: false, count: tokens.count)
        for i in specialIDs { special[Int(i)] = true }

        // Pipeline components.
        let nfc = try jsonNormalizer(root["normalizer"], file: file)
        let (pre, addPrefixSpace) = try jsonPreTokenizer(root["pre_tokenizer"], file: file)
        try checkJSONDecoder(root["decoder"], file: file)
        var (prefix, suffix) = try jsonPostProcessor(root["post_processor"], file: file)

        // Special tokens named by tokenizer_config.json.
        func lookup(_ s: String) -> Int32? { addedContent[s] ?? idOf[s] }
        var bos: Int32? = prefix.first
        var eos: Int32? = suffix.last
        if let configURL = tokenizerConfig {
            let config = try readJSONObject(configURL)
            func tokenString(_ key: String) -> String? {
                if let s = config[key] as? String { return s }
                return (config[key] as? [String: Any])?["content"] as? String
            }
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
            if let add = config["add_bos_token"] as? Bool {
                prefix.removeAll { $0 == bos }
                if add {
                    guard let bos else { throw TokenizerError.missingField(file: configURL.path, field: "bos_token") }
                    prefix.insert(bos, at: 0)
                }
            }
            if let add = config["add_eos_token"] as? Bool {
                suffix.removeAll { $0 == eos }
                if add {
                    guard let eos else { throw TokenizerError.missingField(file: configURL.path, field: "eos_token") }
                    suffix.append(eos)
                }
            }
        }

        let unknownID = (model["unk_token"] as? String).flatMap(lookup)
        return try ByteLevelBPETokenizer(
            file: file, tokens: tokens, merges: merges, added: added, special: special,
            preTokenizer: pre, ignoreMerges: model["ignore_merges"] as? Bool ?? false, unknownID: unknownID,
            addPrefixSpace: addPrefixSpace, nfc: nfc, prefix: prefix, suffix: suffix, bos: bos, eos: eos)
    }

    private static func readJSONObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let obj: Any
        do { obj = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError.unreadable(file: url.path, reason: "not valid JSON: \(error.localizedDescription)")
        }
        guard let dict = obj as? [String: Any] else {
            throw TokenizerError.unreadable(file: url.path, reason: "the top level is not a JSON object")
        }
        return dict
    }

    private static func componentType(_ v: Any?) -> String {
        ((v as? [String: Any])?["type"] as? String) ?? "\(v.map { "\($0)" } ?? "?")"
    }

    /// Whether the normalizer is NFC (false for none).
    private static func jsonNormalizer(_ v: Any?, file: String) throws -> Bool {
        guard let v, !(v is NSNull) else { return false }
        let supported = ["none", "NFC"]
        guard let d = v as? [String: Any], let type = d["type"] as? String else {
            throw TokenizerError.invalidField(file: file, field: "normalizer", reason: "expected null or an object with a type")
        }
        switch type {
        case "NFC": return true
        case "Sequence":
            let items = d["normalizers"] as? [Any] ?? []
            var nfc = false
            for item in items { nfc = try jsonNormalizer(item, file: file) || nfc }
            return nfc
        default:
            throw TokenizerError.unsupportedComponent(file: file, field: "normalizer", component: type, supported: supported)
        }
    }

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The word split and whether a space is prefixed, for the pre-tokenizer shapes byte-level
    /// BPE files use.
    private static func jsonPreTokenizer(_ v: Any?, file: String) throws -> (PreTokenizer?, Bool) {
        let supported = ["ByteLevel", "Sequence[Split(GPT-2 | Llama 3 | Qwen 2 regex, Isolated), ByteLevel(use_regex: false)]",
                         "Sequence[Digits(individual_digits: true), ByteLevel]"]
        func unsupported(_ what: String) -> TokenizerError {
            .unsupportedComponent(file: file, field: "pre_tokenizer", component: what, supported: supported)
        }
        guard let d = v as? [String: Any], let type = d["type"] as? String else { throw unsupported("none") }
        var items: [[String: Any]] = [d]
        if type == "Sequence" {
            guard let list = d["pretokenizers"] as? [[String: Any]] else {
                throw TokenizerError.invalidField(file: file, field: "pre_tokenizer.pretokenizers", reason: "expected an array")
            }
            items = list
        }
        let describe = items.map { ($0["type"] as? String) ?? "?" }.joined(separator: ", ")
        guard let last = items.last, last["type"] as? String == "ByteLevel" else { throw unsupported(describe) }
        let useRegex = last["use_regex"] as? Bool ?? true
        let addPrefixSpace = last["add_prefix_space"] as? Bool ?? false
        let before = items.dropLast()
        if before.isEmpty { return (useRegex ? .gpt2 : nil, addPrefixSpace) }
        guard before.count == 1, let first = before.first else { throw unsupported(describe) }
        switch first["type"] as? String {
        case "Digits" where first["individual_digits"] as? Bool == true && useRegex:
            return (.digitsThenGPT2, addPrefixSpace)
        case "Split" where !useRegex:
            let pattern = ((first["pattern"] as? [String: Any])?["Regex"] as? String) ?? ""
            guard (first["behavior"] as? String) == "Isolated", (first["invert"] as? Bool ?? false) == false else {
                throw unsupported("Split(behavior: \(first["behavior"] ?? "?"), invert: \(first["invert"] ?? "?"))")
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

    private static func checkJSONDecoder(_ v: Any?, file: String) throws {
        guard let v, !(v is NSNull) else { return }
        let type = componentType(v)
        guard type == "ByteLevel" else {
            throw TokenizerError.unsupportedComponent(file: file, field: "decoder", component: type, supported: ["none", "ByteLevel"])
        }
    }

    /// Token ids the post-processor puts before and after a single sequence.
    private static func jsonPostProcessor(_ v: Any?, file: String) throws -> ([Int32], [Int32]) {
        guard let v, !(v is NSNull) else { return ([], []) }
        let supported = ["none", "ByteLevel", "TemplateProcessing", "Sequence of these"]
        guard let d = v as? [String: Any], let type = d["type"] as? String else {
            throw TokenizerError.invalidField(file: file, field: "post_processor", reason: "expected null or an object with a type")
        }
        switch type {
        case "ByteLevel":
            return ([], [])
        case "Sequence":
            var prefix = [Int32](), suffix = [Int32]()
            for item in d["processors"] as? [Any] ?? [] {
                let (p, s) = try jsonPostProcessor(item, file: file)
                prefix += p
                suffix = s + suffix
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            guard let single = d["single"] as? [[String: Any]] else {
                throw TokenizerError.invalidField(file: file, field: "post_processor.single", reason: "expected an array")
            }
            let specials = d["special_tokens"] as? [String: Any] ?? [:]
            var prefix = [Int32](), suffix = [Int32]()
            var seenSequence = false
            for item in single {
                if item["Sequence"] != nil { seenSequence = true; continue }
                guard let name = (item["SpecialToken"] as? [String: Any])?["id"] as? String else {
                    throw TokenizerError.invalidField(file: file, field: "post_processor.single", reason: "unknown template item \(item)")
                }
                guard let ids = ((specials[name] as? [String: Any])?["ids"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.int32Value }) else {
                    throw TokenizerError.invalidField(file: file, field: "post_processor.special_tokens", reason: "'\(name)' has no ids")
                }
                if seenSequence { suffix += ids } else { prefix += ids }
            }
            return (prefix, suffix)
        default:
            throw TokenizerError.unsupportedComponent(file: file, field: "post_processor", component: type, supported: supported)
        }
    }
}
