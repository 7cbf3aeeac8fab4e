import Foundation

/// Byte-level BPE (GPT-2 family: SmolLM, Llama 3, Qwen …): the text is split into words by a
/// regex-like pre-tokenizer, each word's UTF-8 bytes start as one symbol per byte, and merges
/// apply in the order of the merge list.
final class ByteLevelBPETokenizer: BaseTokenizer {
    /// Token of each single byte (-1 when the vocabulary lacks it).
    private let byteIDs: [Int32]
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    private let pairs: [UInt64: UInt64]
    private let preTokenizer: PreTokenizer?
    /// Raw bytes → id of the model's (non-added) vocabulary.
    private let table: TokenTable
    /// Use a word's own token when the whole word is in the vocabulary (tokenizer.json `ignore_merges`).
    private let ignoreMerges: Bool
    private let unknownID: Int32?
    /// Put a space before each text segment that does not start with one (`add_prefix_space`).
    private let addPrefixSpace: Bool
    /// Unicode NFC-normalise each text segment first (a tokenizer.json `NFC` normalizer).
    private let nfc: Bool

    /// - Parameters:
    ///   - merges: pairs of byte-level token strings, highest priority first.
    ///   - added: tokens matched whole in the text; their ids decode to their own content.
    init(file: String, tokens: [String], merges: [(String, String)], added: [AddedToken], special: [Bool],
         preTokenizer: PreTokenizer?, ignoreMerges: Bool, unknownID: Int32?,
         addPrefixSpace: Bool = false, nfc: Bool = false, prefix: [Int32], suffix: [Int32], bos: Int32?, eos: Int32?) throws {
        var table = TokenTable(capacity: tokens.count, idCount: tokens.count)
        var pieces = [[UInt8]]()
        pieces.reserveCapacity(tokens.count)
        var addedContent = [Int32: [UInt8]]()
        for a in added { addedContent[a.id] = a.content }
        for (i, t) in tokens.enumerated() {
            if let c = addedContent[Int32(i)] {
                pieces.append(c)
            } else {
                let bytes = ByteLevel.decode(t)
                pieces.append(bytes)
                table.insert(bytes, id: Int32(i))
            }
        }
        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 { byteIDs[b] = table.lookup([UInt8(b)]) }

        // Keyed by UTF-8 bytes: String keys would compare by canonical equivalence.
        var stringIDs = [[UInt8]: Int32](minimumCapacity: tokens.count)
        for (i, t) in tokens.enumerated() where stringIDs[Array(t.utf8)] == nil { stringIDs[Array(t.utf8)] = Int32(i) }
        var pairs = [UInt64: UInt64](minimumCapacity: merges.count)
        for (rank, (a, b)) in merges.enumerated() {
            let ua = Array(a.utf8), ub = Array(b.utf8)
            guard let ia = stringIDs[ua], let ib = stringIDs[ub], let im = stringIDs[ua + ub] else {
                throw TokenizerError.invalidField(file: file, field: "merges[\(rank)]",
                    reason: "merge '\(a) \(b)' uses or produces a token that is not in the vocabulary")
            }
            let key = UInt64(UInt32(bitPattern: ia)) << 32 | UInt64(UInt32(bitPattern: ib))
            if pairs[key] == nil { pairs[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: im)) }
        }
        self.byteIDs = byteIDs
        self.pairs = pairs
        self.preTokenizer = preTokenizer
        self.table = table
        self.ignoreMerges = ignoreMerges
        self.unknownID = unknownID
        self.addPrefixSpace = addPrefixSpace
        self.nfc = nfc
        super.init(tokens: tokens, pieces: pieces, special: special, added: added,
                   prefix: prefix, suffix: suffix, bos: bos, eos: eos, stripsLeadingSpace: false)
    }

    private struct Rule: MergeRule {
        let pairs: [UInt64: UInt64]
        @inline(__always)
        func merge(left: BytePairEncoder.Symbol, right: BytePairEncoder.Symbol,
                   span: UnsafeBufferPointer<UInt8>) -> (primary: Double, secondary: UInt64, id: Int32)? {
            let key = UInt64(UInt32(bitPattern: left.id)) << 32 | UInt64(UInt32(bitPattern: right.id))
            guard let v = pairs[key] else { return nil }
            return (Double(v >> 32), 0, Int32(truncatingIfNeeded: v & 0xFFFF_FFFF))
        }
    }

    override func encodeText(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, atStart: Bool, into out: inout [Int32]) {
        guard nfc || addPrefixSpace else { return encodeWords(p, range, into: &out) }
        var text = nfc ? String(decoding: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self)
            .precomposedStringWithCanonicalMapping : String(decoding: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self)
        // Byte check: `hasPrefix` compares graphemes, and " " + a combining mark is one grapheme.
        if addPrefixSpace && text.utf8.first != 0x20 { text = " " + text }
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { encodeWords($0, 0..<$0.count, into: &out) }
    }

    private func encodeWords(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Int32]) {
        var words = [Range<Int>]()
        if let preTokenizer {
            preTokenizer.split(p, range, into: &words)
        } else {
            words.append(range)
        }
        for w in words where !w.isEmpty {
            let word = UnsafeBufferPointer(rebasing: p[w])
            cachedWord(word, into: &out) { encodeWord(word) }
        }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>) -> [Int32] {
        if ignoreMerges {
            let id = table.lookup(word)
            if id >= 0 { return [id] }
        }
        var symbols = [BytePairEncoder.Symbol]()
        symbols.reserveCapacity(word.count)
        for (i, b) in word.enumerated() {
            symbols.append(.init(start: Int32(i), end: Int32(i + 1), id: byteIDs[Int(b)], scalars: 1,
                                 prev: Int32(i - 1), next: i + 1 < word.count ? Int32(i + 1) : -1))
        }
        let merged = BytePairEncoder.run(word, &symbols, rule: Rule(pairs: pairs))
        var ids = [Int32]()
        ids.reserveCapacity(merged.count)
        for s in merged {
            if s.id >= 0 { ids.append(s.id) } else if let u = unknownID { ids.append(u) }
        }
        return ids
    }
}
