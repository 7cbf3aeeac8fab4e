/// SentencePiece-style BPE (Llama 2, Gemma …): spaces are written `▁` (U+2581), each word
/// starts as one symbol per Unicode scalar, the adjacent pair whose concatenation is the
/// highest-scoring vocabulary piece merges first, and characters outside the vocabulary
/// fall back to byte tokens `<0xXX>`.
final class SentencePieceBPETokenizer: BaseTokenizer {
    /// Normal pieces (the only ones BPE may produce), by UTF-8 bytes.
    private let table: TokenTable
    private let scores: [Float]
    /// `<0xXX>` token of each byte, -1 when missing.
    private let byteIDs: [Int32]
    private let unknownID: Int32?
    private let addSpacePrefix: Bool
    /// First bytes of scalars that some piece has directly before a `▁`: words are split
    /// before a `▁` only where no piece can span the boundary (see `encodeText`).
    private let joinsBeforeSpace: Set<UInt32>

    static let space: [UInt8] = [0xE2, 0x96, 0x81] // "▁"

    /// - Parameters:
    ///   - normal: which ids BPE may produce (SentencePiece "normal" pieces).
    ///   - byteTokens: ids of `<0xXX>` tokens by byte value (-1 when absent).
    init(tokens: [String], scores: [Float], normal: [Bool], byteTokens: [Int32], added: [AddedToken],
         special: [Bool], unknownID: Int32?, addSpacePrefix: Bool,
         prefix: [Int32], suffix: [Int32], bos: Int32?, eos: Int32?) {
        var table = TokenTable(capacity: tokens.count, idCount: tokens.count)
        var pieces = [[UInt8]]()
        pieces.reserveCapacity(tokens.count)
        var isByteToken = [Bool](repeating: false, count: tokens.count)
        for id in byteTokens where id >= 0 && Int(id) < tokens.count { isByteToken[Int(id)] = true }
        var joins = Set<UInt32>()
        for (i, t) in tokens.enumerated() {
            let utf8 = Array(t.utf8)
            if isByteToken[i], let b = byteTokens.firstIndex(of: Int32(i)) {
                pieces.append([UInt8(b)])
            } else {
                pieces.append(Self.unescapeSpaces(utf8))
            }
            if normal[i] {
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
        }
        self.table = table
        self.scores = scores
        self.byteIDs = byteTokens
        self.unknownID = unknownID
        self.addSpacePrefix = addSpacePrefix
        self.joinsBeforeSpace = joins
        super.init(tokens: tokens, pieces: pieces, special: special, added: added,
                   prefix: prefix, suffix: suffix, bos: bos, eos: eos, stripsLeadingSpace: addSpacePrefix)
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

    private struct Rule: MergeRule {
        let table: TokenTable
        let scores: [Float]
        @inline(__always)
        func merge(left: Int32, right: Int32, span: UnsafeBufferPointer<UInt8>) -> (priority: Double, id: Int32)? {
            let id = table.lookup(span)
            guard id >= 0 else { return nil }
            return (-Double(scores[Int(id)]), id)
        }
    }

    override func encodeText(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, atStart: Bool, into out: inout [Int32]) {
        // Normalise: optional leading ▁, every space → ▁.
        var norm = [UInt8]()
        norm.reserveCapacity(range.count + range.count / 2 + 3)
        if addSpacePrefix && atStart { norm.append(contentsOf: Self.space) }
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
                if v == 0x2581 && prev != 0x2581 && i > start && !joinsBeforeSpace.contains(prev) {
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
            symbols.append(.init(start: Int32(i), end: Int32(i + len), id: id, prev: k - 1, next: k + 1))
            i += len
        }
        if !symbols.isEmpty { symbols[symbols.count - 1].next = -1 }
        let merged = BytePairEncoder.run(word, &symbols, rule: Rule(table: table, scores: scores))
        var ids = [Int32]()
        ids.reserveCapacity(merged.count)
        for s in merged {
            if s.id >= 0 { ids.append(s.id); continue }
            // Byte fallback; without byte tokens for all its bytes the character is unknown.
            let bytes = word[Int(s.start)..<Int(s.end)]
            if bytes.allSatisfy({ byteIDs[Int($0)] >= 0 }) {
                for b in bytes { ids.append(byteIDs[Int(b)]) }
            } else if let u = unknownID {
                ids.append(u)
            }
        }
        return ids
    }
}
