import Foundation

/// Limits checked on JSON and YAML text before it reaches a parser. The parsers recurse once per
/// nesting level (Yams overflows the stack at a few thousand `[`), and YAML aliases can expand a
/// small file into an enormous tree; the project's own files nest a handful of levels.
public enum TextLimits {
    /// Deepest nesting accepted in recipes and neuron sets.
    public static let maxNesting = 64
    /// Most YAML alias uses (`*name`) accepted in one recipe (each can copy a whole subtree).
    public static let maxYAMLAliases = 32

    /// `s` made fit for a one-line error message: control characters escaped, at most `limit`
    /// characters (names read from a corrupt file can be any bytes of any length).
    public static func shown(_ s: String, limit: Int = 80) -> String {
        var out = ""
        var n = 0
        for ch in s.unicodeScalars {
            if n >= limit { out += "…"; break }
            if ch.value < 0x20 || ch.value == 0x7F || (0x80..<0xA0).contains(ch.value) || ch == "\u{FFFD}" {
                out += ch == "\u{FFFD}" ? "\\ufffd" : String(format: "\\x%02x", ch.value)
            } else {
                out.unicodeScalars.append(ch)
            }
            n += 1
        }
        return out
    }

    /// The first line of a parser's message, shortened (Yams adds the offending line and a caret).
    public static func firstLine(_ s: String, limit: Int = 200) -> String {
        let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? s
        var t = line.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(":") { t.removeLast() }
        return shown(t, limit: limit)
    }

    /// What a scan found beyond a limit, as a sentence for an error message.
    public struct Violation: Error, Equatable {
        public let reason: String
    }

    /// Checks the size, the nesting depth of `[`/`{` outside strings, against `maxDepth`.
    /// Returns nil when the text is within the limits.
    public static func checkJSON(_ bytes: UnsafeRawBufferPointer, maxBytes: Int, maxDepth: Int = maxNesting) -> Violation? {
        if bytes.count > maxBytes {
            return Violation(reason: "is \(bytes.count) bytes, more than the \(maxBytes) allowed")
        }
        var depth = 0, inString = false, escaped = false
        for b in bytes {
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false }
                continue
            }
            switch b {
            case 0x22: inString = true
            case 0x5B, 0x7B:
                depth += 1
                if depth > maxDepth { return Violation(reason: "nests arrays and objects more than \(maxDepth) levels deep") }
            case 0x5D, 0x7D: depth -= 1
            default: break
            }
        }
        return nil
    }

    /// `checkJSON` over `Data`.
    public static func checkJSON(_ data: Data, maxBytes: Int, maxDepth: Int = maxNesting) -> Violation? {
        data.withUnsafeBytes { checkJSON($0, maxBytes: maxBytes, maxDepth: maxDepth) }
    }

    /// Checks YAML text: its size, an upper bound of its nesting (open indentation levels plus
    /// `- `/`? ` indicators that start a line, plus open flow `[`/`{` outside quotes and comments),
    /// and the number of aliases. The bound may overcount odd layouts; it never undercounts the
    /// nesting a YAML parser builds.
    public static func checkYAML(_ text: String, maxBytes: Int, maxDepth: Int = maxNesting,
                                 maxAliases: Int = maxYAMLAliases) -> Violation? {
        let utf8 = Array(text.utf8)
        if utf8.count > maxBytes {
            return Violation(reason: "is \(utf8.count) bytes, more than the \(maxBytes) allowed")
        }
        var indents = [Int]()
        var flow = 0, aliases = 0
        var quote: UInt8 = 0  // 0, `'` or `"`; quoted scalars may span lines
        var i = 0
        let n = utf8.count
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        while i < n {
            // One line: [i, end).
            var end = i
            while end < n, utf8[end] != 0x0A { end += 1 }
            var j = i
            var block = 0
            if quote == 0 && flow == 0 {
                while j < end, utf8[j] == 0x20 { j += 1 }
                let blank = j == end || utf8[j] == 0x23 || utf8[j] == 0x0D
                if !blank {
                    let indent = j - i
                    while let top = indents.last, top >= indent { indents.removeLast() }
                    indents.append(indent)
                    // Compact collections: `- - - x` or `? - x` nest without new indentation.
                    while j + 1 < end, utf8[j] == 0x2D || utf8[j] == 0x3F, isSpace(utf8[j + 1]) {
                        block += 1
                        j += 2
                        while j < end, isSpace(utf8[j]) { j += 1 }
                    }
                }
            }
            if indents.count + block + flow > maxDepth {
                return Violation(reason: "nests more than \(maxDepth) levels deep")
            }
            var prev: UInt8 = 0x20
            while j < end {
                let b = utf8[j]
                if quote == 0x22 {
                    if b == 0x5C { j += 2; prev = 0x61; continue }
                    if b == 0x22 { quote = 0 }
                } else if quote == 0x27 {
                    if b == 0x27 { quote = 0 }
                } else {
                    let tokenStart = isSpace(prev) || prev == 0x5B || prev == 0x7B || prev == 0x2C
                    if b == 0x23 && isSpace(prev) { break }  // comment
                    if (b == 0x22 || b == 0x27) && tokenStart { quote = b }
                    if b == 0x2A && tokenStart {
                        aliases += 1
                        if aliases > maxAliases { return Violation(reason: "uses more than \(maxAliases) YAML aliases (*name)") }
                    }
                    // Outside a flow collection `[` opens one only where a value starts (`a[1]` is a plain scalar).
                    if (b == 0x5B || b == 0x7B) && (flow > 0 || tokenStart) {
                        flow += 1
                        if indents.count + block + flow > maxDepth {
                            return Violation(reason: "nests more than \(maxDepth) levels deep")
                        }
                    }
                    if (b == 0x5D || b == 0x7D) && flow > 0 { flow -= 1 }
                }
                prev = b
                j += 1
            }
            i = end + 1
        }
        return nil
    }
}
