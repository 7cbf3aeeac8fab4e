/// SentencePiece-style BPE (Llama 2, Gemma …): spaces are written `▁` (U+2581), each word
/// starts as one symbol per Unicode scalar, the best-ranked adjacent pair merges first (by
/// piece score, vocabulary order or listed merge rank, see `MergeOrder` and `pairRanks`), and
/// characters outside the vocabulary fall back to byte tokens `<0xXX>`.
final class SentencePieceBPETokenizer: BaseTokenizer {
    /// Every piece (as BPE sees it), by UTF-8 bytes.
    private let table: TokenTable
    /// Merge priority of each piece (lower merges first).
    private let rank: [Double]
    /// `<0xXX>` token of each byte, -1 when missing.
    private let byteIDs: [Int32]
    private let unknownID: Int32?
    private let options: Options
    /// `(left << 32 | right)` → `(rank << 32 | merged id)` when the merges are listed
    /// (tokenizer.json); nil when any pair whose concatenation is a piece merges (GGUF).
    private let pairRanks: [UInt64: UInt64]?
    /// Scalars that some piece has directly before a `▁`: words are split before a `▁` only
    /// where no piece can span the boundary (see `encodeText`).
    private let joinsBeforeSpace: Set<UInt32>

    static let space: [UInt8] = [0xE2, 0x96, 0x81] // "▁"

    /// Where a `▁` is put before the text.
    enum SpacePrefix {
        case none
        /// Before the text's first segment (when the text does not start with an added token).
        case first
        /// Before every segment between added tokens.
        case always
    }

    struct Options {
        var spacePrefix = SpacePrefix.none
        /// Put the prefix only where the segment does not already start with `▁` (Metaspace).
        var prefixOnlyIfMissing = false
        /// Every `▁` starts a new word that BPE cannot merge across (Metaspace `split: true`).
        var splitAtEverySpace = false
        /// Decoding drops one leading space.
        var stripsLeadingSpace = false
        /// Characters outside the vocabulary become `<0xXX>` tokens (else the unknown token).
        var byteFallback = true
    }

    /// Which pieces merge first.
    enum MergeOrder {
        /// Higher `tokenizer.ggml.scores` first (SentencePiece).
        case score
        /// Earlier in the vocabulary first (Gemma, whose user-defined pieces carry placeholder scores).
        case vocabularyOrder
    }

    /// - Parameters:
    ///   - tokens: the vocabulary as stored (returned by `token(_:)`).
    ///   - pieces: the vocabulary as BPE matches it, spaces written `▁` (usually `tokens`).
    ///   - byteTokens: ids of `<0xXX>` tokens by byte value (-1 when absent).
    ///   - pairRanks: the merge list, when the file gives one; otherwise pieces merge by `order`.
    init(tokens: [String], pieces vocabulary: [String], scores: [Float], order: MergeOrder,
         pairRanks: [UInt64: UInt64]? = nil, byteTokens: [Int32],
         added: [AddedToken], special: [Bool], unknownID: Int32?, options: Options,
         prefix: [Int32], suffix: [Int32], bos: Int32?, eos: Int32?) {
        var table = TokenTable(capacity: tokens.count, idCount: tokens.count)
        var pieces = [[UInt8]]()
        pieces.reserveCapacity(tokens.count)
        var byteValue = [Int: UInt8]()
        for (b, id) in byteTokens.enumerated() where id >= 0 { byteValue[Int(id)] = UInt8(b) }
        var joins = Set<UInt32>()
        for (i, t) in vocabulary.enumerated() {
            let utf8 = Array(t.utf8)
            if let b = byteValue[i] {
                pieces.append([b])
            } else {
                pieces.append(Self.unescapeSpaces(utf8))
            }
            table.insert(utf8, id: Int32(i))
            // Record scalars followed by ▁ inside a piece (after its leading ▁ run).
            let scalars = Array(t.unicodeScalars)
            var k = 0
            while k < scalars.count && scalars[k] == "\u{2581}" { k += 1 }
            while k + 1 < scalars.count {
                if scalars[k + 1] == "\u{2581}" && scalars[k] != "\u{2581}" { joins.insert(scalars[k].value) }
                k += 1
            }
        }
        self.table = table
        switch order {
        case .score: self.rank = scores.map { -Double($0) }
        case .vocabularyOrder: self.rank = (0..<tokens.count).map(Double.init)
        }
        self.byteIDs = byteTokens
        self.unknownID = unknownID
        self.options = options
        self.pairRanks = pairRanks
        self.joinsBeforeSpace = joins
        super.init(tokens: tokens, pieces: pieces, special: special, added: added,
                   prefix: prefix, suffix: suffix, bos: bos, eos: eos, stripsLeadingSpace: options.stripsLeadingSpace)
    }

    /// Whether `p[range]` starts with `▁`.
    private static func startsWithSpaceMark(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        range.count >= 3 && p[range.lowerBound] == 0xE2 && p[range.lowerBound + 1] == 0x96 && p[range.lowerBound + 2] == 0x81
    }

    /// `▁` → space in a piece's decoded bytes.
    private static func unescapeSpaces(_ b: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(b.count)
        var i = 0
        while i < b.count {
            if i + 2 < b.count && b[i] == 0xE2 && b[i + 1] == 0x96 && b[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return out
    }

    /// Any adjacent pair whose concatenation is a piece merges. Ties between pairs making
    /// equally ranked pieces go to the longer left part, then the longer right part, then the
    /// earlier piece (the order in which merge lists derived from a vocabulary are sorted).
    private struct Rule: MergeRule {
        let table: TokenTable
        let rank: [Double]
        let pairRanks: [UInt64: UInt64]?
        @inline(__always)
        func merge(left: BytePairEncoder.Symbol, right: BytePairEncoder.Symbol,
                   span: UnsafeBufferPointer<UInt8>) -> (primary: Double, secondary: UInt64, id: Int32)? {
            if let pairRanks {
                let key = UInt64(UInt32(bitPattern: left.id)) << 32 | UInt64(UInt32(bitPattern: right.id))
                guard let v = pairRanks[key] else { return nil }
                return (Double(v >> 32), 0, Int32(truncatingIfNeeded: v & 0xFFFF_FFFF))
            }
            let id = table.lookup(span)
            guard id >= 0 else { return nil }
            let l = UInt64(0xFFFF - min(left.scalars, 0xFFFF)), r = UInt64(0xFFFF - min(right.scalars, 0xFFFF))
            return (rank[Int(id)], l << 48 | r << 32 | UInt64(UInt32(bitPattern: id)), id)
        }
    }

    override func encodeText(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, atStart: Bool, into out: inout [Int32]) {
        // Normalise: optional leading ▁, every space → ▁.
        var norm = [UInt8]()
        norm.reserveCapacity(range.count + range.count / 2 + 3)
        let wantsPrefix: Bool
        switch options.spacePrefix {
        case .none: wantsPrefix = false
        case .first: wantsPrefix = atStart
        case .always: wantsPrefix = true
        }
        if wantsPrefix && !(options.prefixOnlyIfMissing && (range.first.map { p[$0] == 0x20 } ?? false
                                                            || Self.startsWithSpaceMark(p, range))) {
            norm.append(contentsOf: Self.space)
        }
        for i in range {
            if p[i] == 0x20 { norm.append(contentsOf: Self.space) } else { norm.append(p[i]) }
        }
        norm.withUnsafeBufferPointer { q in
            // Words: a ▁ run and what follows up to the next ▁ run. BPE on each word alone gives
            // the same result as on the whole text whenever no piece spans the boundary, i.e.
            // when the scalar before the ▁ never precedes a ▁ inside a piece.
            var start = 0
            var i = 0
            var prev: UInt32 = 0x2581
            while i < q.count {
                let (v, len) = decodeScalar(q, i)
                if v == 0x2581 && i > start && (options.splitAtEverySpace || (prev != 0x2581 && !joinsBeforeSpace.contains(prev))) {
                    let word = UnsafeBufferPointer(rebasing: q[start..<i])
                    cachedWord(word, into: &out) { encodeWord(word) }
                    start = i
                }
                prev = v
                i += len
            }
            if start < q.count {
                let word = UnsafeBufferPointer(rebasing: q[start..<q.count])
                cachedWord(word, into: &out) { encodeWord(word) }
            }
        }
    }

    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var symbols = [BytePairEncoder.Symbol]()
        symbols.reserveCapacity(word.count)
        var i = 0
        while i < word.count {
            let (_, len) = decodeScalar(word, i)
            let id = table.lookup(UnsafeBufferPointer(rebasing: word[i..<(i + len)]))
            let k = Int32(symbols.count)
            symbols.append(.init(start: Int32(i), end: Int32(i + len), id: id, scalars: 1, prev: k - 1, next: k + 1))
            i += len
        }
        if !symbols.isEmpty { symbols[symbols.count - 1].next = -1 }
        let merged = BytePairEncoder.run(word, &symbols, rule: Rule(table: table, rank: rank, pairRanks: pairRanks))
        var ids = [Int32]()
        ids.reserveCapacity(merged.count)
        for s in merged {
            if s.id >= 0 { ids.append(s.id); continue }
            // Byte fallback; without byte tokens for all its bytes the character is unknown.
            let bytes = word[Int(s.start)..<Int(s.end)]
            if options.byteFallback && bytes.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                for b in bytes { ids.append(byteIDs[Int(b)]) }
            } else if let u = unknownID {
                ids.append(u)
            }
        }
        return ids
    }
}
