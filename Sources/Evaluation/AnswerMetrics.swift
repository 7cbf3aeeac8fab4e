import Foundation

/// SQuAD v1.1 answer metrics (the official evaluation script's definitions): answers are
/// normalised — lower-cased, punctuation removed (all Unicode punctuation and symbols, a superset
/// of the script's ASCII set, so that 。and ، go too), the English articles a/an/the removed, white
/// space collapsed — then compared whole (exact match) or as bags of tokens (F1), taking the best
/// over the gold answers. Languages written without spaces (zh, ja, th) are compared by characters
/// instead of white-space tokens, so that partial answers get partial credit there too.
public enum AnswerMetrics {
    /// Languages scored by characters.
    public static let characterLanguages: Set<String> = ["zh", "ja", "th"]

    public static func normalize(_ s: String) -> String {
        let lowered = s.lowercased()
        var kept = String.UnicodeScalarView()
        for u in lowered.unicodeScalars where !CharacterSet.punctuationCharacters.contains(u) && !CharacterSet.symbols.contains(u) {
            kept.append(u)
        }
        let words = String(kept).split(whereSeparator: { $0.isWhitespace }).filter { !["a", "an", "the"].contains($0) }
        return words.joined(separator: " ")
    }

    static func tokens(_ s: String, language: String) -> [String] {
        let n = normalize(s)
        if characterLanguages.contains(language) {
            return n.filter { !$0.isWhitespace }.map { String($0) }
        }
        return n.split(separator: " ").map(String.init)
    }

    public static func exactMatch(_ prediction: String, _ golds: [String]) -> Double {
        let p = normalize(prediction)
        return golds.contains { normalize($0) == p } ? 1 : 0
    }

    public static func f1(_ prediction: String, _ golds: [String], language: String) -> Double {
        let p = tokens(prediction, language: language)
        var best = 0.0
        for g in golds {
            let t = tokens(g, language: language)
            var counts = [String: Int]()
            for x in t { counts[x, default: 0] += 1 }
            var common = 0
            for x in p where (counts[x] ?? 0) > 0 { common += 1; counts[x]! -= 1 }
            guard common > 0 else { continue }
            let precision = Double(common) / Double(p.count), recall = Double(common) / Double(t.count)
            best = max(best, 2 * precision * recall / (precision + recall))
        }
        return best
    }

    /// The number an MGSM answer states: the first number in the text, with thousands separators
    /// removed (e.g. "70,000 dollars" → 70000); nil when there is none.
    public static func firstNumber(_ text: String) -> Double? {
        var current = ""
        var sawDigit = false
        for ch in text {
            if ch.isASCII && ch.isNumber { current.append(ch); sawDigit = true; continue }
            if sawDigit && (ch == "," ) { continue }
            if sawDigit && ch == "." && !current.contains(".") { current.append(ch); continue }
            if ch == "-" && current.isEmpty { current = "-"; continue }
            if sawDigit { break }
            current = ""
        }
        if current.hasSuffix(".") { current.removeLast() }
        return sawDigit ? Double(current) : nil
    }
}
