/// A token that is matched in the text as a whole before the model sees it (special tokens
/// such as `<|im_start|>`, and user-defined tokens such as Gemma's runs of spaces).
struct AddedToken {
    var id: Int32
    var content: [UInt8]
    /// Also swallow whitespace on the left / right of a match (tokenizer.json `lstrip`/`rstrip`).
    var lstrip = false
    var rstrip = false
    /// Only match when not inside a word (tokenizer.json `single_word`).
    var singleWord = false
}

/// One piece of text after splitting on added tokens.
enum TextSegment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

/// Leftmost-longest matching of added tokens over UTF-8 with a byte trie.
struct AddedTokenMatcher {
    private var edges: [Int: Int32] = [:]      // (node << 8 | byte) → child node
    private var terminal: [Int32] = [-1]        // node → index into `tokens`, or -1
    private var firstByte = [Bool](repeating: false, count: 256)
    private(set) var tokens: [AddedToken] = []

    var isEmpty: Bool { tokens.isEmpty }

    init(_ added: [AddedToken]) {
        for t in added where !t.content.isEmpty {
            var node = 0
            for b in t.content {
                let key = node << 8 | Int(b)
                if let c = edges[key] {
                    node = Int(c)
                } else {
                    terminal.append(-1)
                    let c = terminal.count - 1
                    edges[key] = Int32(c)
                    node = c
                }
            }
            // The first token with a given content wins.
            if terminal[node] < 0 {
                terminal[node] = Int32(tokens.count)
                tokens.append(t)
            }
            firstByte[Int(t.content[0])] = true
        }
    }

    /// Splits `p` into text ranges and matched added tokens, in order.
    func split(_ p: UnsafeBufferPointer<UInt8>) -> [TextSegment] {
        let n = p.count
        if tokens.isEmpty { return n > 0 ? [.text(0..<n)] : [] }
        var out = [TextSegment]()
        var textStart = 0
        var i = 0
        while i < n {
            guard firstByte[Int(p[i])] else { i += 1; continue }
            // Longest match starting at i.
            var node = 0, j = i, best = -1, bestEnd = i
            while j < n, let c = edges[node << 8 | Int(p[j])] {
                node = Int(c)
                j += 1
                if terminal[node] >= 0 { best = Int(terminal[node]); bestEnd = j }
            }
            guard best >= 0 else { i += 1; continue }
            let t = tokens[best]
            if t.singleWord && (isWordByte(p, before: i) || isWordByte(p, at: bestEnd)) { i += 1; continue }
            var s = i, e = bestEnd
            if t.lstrip { while s > textStart, isSpaceByte(p[s - 1]) { s -= 1 } }
            if t.rstrip { while e < n, isSpaceByte(p[e]) { e += 1 } }
            if textStart < s { out.append(.text(textStart..<s)) }
            out.append(.token(t.id))
            textStart = e
            i = e
        }
        if textStart < n { out.append(.text(textStart..<n)) }
        return out
    }

    private func isSpaceByte(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }

    private func isWordByte(_ p: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        guard i > 0 else { return false }
        var k = i - 1
        while k > 0, p[k] & 0xC0 == 0x80 { k -= 1 }
        return isWordScalar(decodeScalar(p, k).value)
    }

    private func isWordByte(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> Bool {
        guard i < p.count else { return false }
        return isWordScalar(decodeScalar(p, i).value)
    }

    private func isWordScalar(_ v: UInt32) -> Bool {
        let c = ScalarClass.of(v)
        return c == .letter || c == .number || v == 0x5F
    }
}
