import Foundation

/// A text tokenizer of a language model: text ⇄ token ids, as the model's own tokenizer does it.
public protocol Tokenizer: AnyObject {
    /// Number of token ids (the size of the embedding matrix's vocabulary axis).
    var vocabularySize: Int { get }
    /// The beginning-of-sequence token named by the model files, if any (whether `encode` adds
    /// it is a separate setting of the model).
    var bosTokenID: Int32? { get }
    /// The end-of-sequence token named by the model files, if any (where generation stops).
    var eosTokenID: Int32? { get }
    /// Encode text; `addSpecialTokens` adds BOS/EOS as the model's own tokenizer does by default.
    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32]
    /// Decode ids to text. Byte sequences that are not valid UTF-8 become U+FFFD; ids outside
    /// the vocabulary contribute nothing. `skipSpecialTokens` drops control tokens (BOS, EOS, …).
    func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String
    /// The raw vocabulary string of one token (for display / the logit lens); "" for an id
    /// outside the vocabulary.
    func token(_ id: Int32) -> String
    /// The text a token contributes when decoded (bytes resolved), for language classification.
    /// A lone byte of a multi-byte character comes out as U+FFFD; a control token gives its own
    /// text (e.g. "<bos>"; `TokenByteDecoding.decodedBytes(_:skipSpecialTokens: true)` is empty
    /// for those).
    func decodedPiece(_ id: Int32) -> String
}

/// Tokenizers that can give the exact bytes a token decodes to (every tokenizer of this module);
/// `StreamingDecoder` uses it to reassemble characters split across tokens.
public protocol TokenByteDecoding {
    /// The bytes token `id` contributes to decoded text (empty for unknown ids and, when
    /// `skipSpecialTokens`, for control tokens).
    func decodedBytes(_ id: Int32, skipSpecialTokens: Bool) -> [UInt8]
    /// Whether decoding drops one leading space of the whole text (SentencePiece models that add
    /// a space prefix when encoding).
    var stripsLeadingSpace: Bool { get }
}

/// What both BPE flavours share: the vocabulary strings, what each token decodes to, added-token
/// matching, special tokens around the text, decoding, and a per-word cache.
class BaseTokenizer: Tokenizer, TokenByteDecoding {
    let tokens: [String]
    /// The bytes each token decodes to.
    let pieces: [[UInt8]]
    /// Tokens dropped by `decode(skipSpecialTokens: true)`.
    let special: [Bool]
    let matcher: AddedTokenMatcher
    let prefixTokens: [Int32]
    let suffixTokens: [Int32]
    let bosTokenID: Int32?
    let eosTokenID: Int32?
    let stripsLeadingSpace: Bool

    private var cache: [[UInt8]: [Int32]] = [:]
    private let cacheLock = NSLock()
    private static let cacheLimit = 200_000
    private static let cacheableWordLength = 128

    init(tokens: [String], pieces: [[UInt8]], special: [Bool], added: [AddedToken],
         prefix: [Int32], suffix: [Int32], bos: Int32?, eos: Int32?, stripsLeadingSpace: Bool) {
        self.tokens = tokens
        self.pieces = pieces
        self.special = special
        self.matcher = AddedTokenMatcher(added)
        self.prefixTokens = prefix
        self.suffixTokens = suffix
        self.bosTokenID = bos
        self.eosTokenID = eos
        self.stripsLeadingSpace = stripsLeadingSpace
    }

    var vocabularySize: Int { tokens.count }

    func encode(_ text: String, addSpecialTokens: Bool) -> [Int32] {
        var out = [Int32]()
        out.reserveCapacity(text.utf8.count / 3 + 4)
        if addSpecialTokens { out.append(contentsOf: prefixTokens) }
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { p in
            for (k, seg) in matcher.split(p).enumerated() {
                switch seg {
                case let .token(id): out.append(id)
                case let .text(r): encodeText(p, r, atStart: k == 0, into: &out)
                }
            }
        }
        if addSpecialTokens { out.append(contentsOf: suffixTokens) }
        return out
    }

    /// Encodes the text `p[range]` (no added tokens inside). Subclasses implement the model.
    func encodeText(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, atStart: Bool, into out: inout [Int32]) {}

    /// Cached per-word encoding: `compute` runs only for words not seen recently.
    @inline(__always)
    func cachedWord(_ word: UnsafeBufferPointer<UInt8>, into out: inout [Int32], compute: () -> [Int32]) {
        // Long words (URLs, runs of CJK text without spaces) rarely repeat: not worth the memory.
        if word.count > Self.cacheableWordLength { out.append(contentsOf: compute()); return }
        let key = Array(word)
        cacheLock.lock()
        let hit = cache[key]
        cacheLock.unlock()
        if let hit { out.append(contentsOf: hit); return }
        let ids = compute()
        cacheLock.lock()
        if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[key] = ids
        cacheLock.unlock()
        out.append(contentsOf: ids)
    }

    func decodedBytes(_ id: Int32, skipSpecialTokens: Bool) -> [UInt8] {
        guard id >= 0, Int(id) < pieces.count else { return [] }
        if skipSpecialTokens && special[Int(id)] { return [] }
        return pieces[Int(id)]
    }

    func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < pieces.count {
            if skipSpecialTokens && special[Int(id)] { continue }
            bytes.append(contentsOf: pieces[Int(id)])
        }
        if stripsLeadingSpace, bytes.first == 0x20 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func token(_ id: Int32) -> String {
        guard id >= 0, Int(id) < tokens.count else { return "" }
        return tokens[Int(id)]
    }

    func decodedPiece(_ id: Int32) -> String {
        String(decoding: decodedBytes(id, skipSpecialTokens: false), as: UTF8.self)
    }
}
