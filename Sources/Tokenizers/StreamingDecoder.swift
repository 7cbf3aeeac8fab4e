/// Turns generated token ids into text as they arrive, emitting only complete UTF-8 characters:
/// a character whose bytes are spread over several tokens (byte-level BPE, `<0xXX>` fallback)
/// comes out once its last byte has arrived. The concatenation of everything `push` and
/// `flush` return equals `decode` of all ids.
public struct StreamingDecoder {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var pending: [UInt8] = []
    private var awaitingFirstByte = true

    /// - Parameter skipSpecialTokens: drop control tokens (BOS, EOS, chat markers), as
    ///   `decode(_:skipSpecialTokens:)` does.
    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// Adds one token; returns the text that became complete (possibly "").
    public mutating func push(_ id: Int32) -> String {
        if let t = tokenizer as? TokenByteDecoding {
            pending.append(contentsOf: t.decodedBytes(id, skipSpecialTokens: skipSpecialTokens))
            if awaitingFirstByte, let first = pending.first {
                awaitingFirstByte = false
                if t.stripsLeadingSpace && first == 0x20 { pending.removeFirst() }
            }
        } else {
            pending.append(contentsOf: tokenizer.decodedPiece(id).utf8)
        }
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns whatever is still held back (an unfinished character comes out as U+FFFD) and
    /// resets the decoder for a new text.
    public mutating func flush() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        awaitingFirstByte = true
        return text
    }

    /// Length of `bytes` without a trailing, not yet complete multi-byte sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var k = n - 1
        // Walk back over at most three continuation bytes to the sequence's lead byte.
        while k >= 0 && n - k < 4 && bytes[k] & 0xC0 == 0x80 { k -= 1 }
        guard k >= 0 else { return n }
        let lead = bytes[k]
        let need: Int
        switch lead {
        case 0xC2...0xDF: need = 2
        case 0xE0...0xEF: need = 3
        case 0xF0...0xF4: need = 4
        default: need = 1 // ASCII or a byte that cannot start a sequence: nothing to wait for
        }
        return need > n - k ? k : n
    }
}
