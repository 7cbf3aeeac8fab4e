/// Writing systems, by Unicode block ranges (enough to tell languages' scripts apart).
public enum Script: String, Sendable, Codable, CaseIterable, Comparable {
    case latin, cyrillic, greek, armenian, georgian, hebrew, arabic, syriac, thaana, devanagari, bengali,
         gurmukhi, gujarati, oriya, tamil, telugu, kannada, malayalam, sinhala, thai, lao, tibetan, myanmar,
         khmer, ethiopic, hangul, hiragana, katakana, han, other

    public static func < (a: Script, b: Script) -> Bool { a.rawValue < b.rawValue }

    /// The script of a letter-like scalar; nil for digits, punctuation, symbols, spaces and
    /// combining marks that belong to no particular script.
    public static func of(_ v: UInt32) -> Script? {
        if v < 0x80 {
            return (v >= 65 && v <= 90) || (v >= 97 && v <= 122) ? .latin : nil
        }
        switch v {
        case 0x00C0...0x024F where v != 0xD7 && v != 0xF7: return .latin
        case 0x0250...0x02AF, 0x1D00...0x1DBF, 0x1E00...0x1EFF, 0x2C60...0x2C7F, 0xA720...0xA7FF,
             0xAB30...0xAB6F, 0xFF21...0xFF3A, 0xFF41...0xFF5A: return .latin
        case 0x0370...0x03FF where v != 0x37E && v != 0x387, 0x1F00...0x1FFF: return .greek
        case 0x0400...0x052F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: return .cyrillic
        case 0x0531...0x058F: return .armenian
        case 0x0591...0x05FF, 0xFB1D...0xFB4F: return .hebrew
        case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF:
            // Arabic punctuation and digits are not letters.
            if (0x0660...0x066D).contains(v) || v == 0x060C || v == 0x061B || v == 0x061F || (0x06F0...0x06F9).contains(v) { return nil }
            return .arabic
        case 0x0700...0x074F: return .syriac
        case 0x0780...0x07BF: return .thaana
        case 0x0900...0x097F, 0xA8E0...0xA8FF:
            if v == 0x0964 || v == 0x0965 || (0x0966...0x096F).contains(v) { return nil }  // dandas, digits
            return .devanagari
        case 0x0980...0x09FF: return (0x09E6...0x09EF).contains(v) ? nil : .bengali
        case 0x0A00...0x0A7F: return .gurmukhi
        case 0x0A80...0x0AFF: return .gujarati
        case 0x0B00...0x0B7F: return .oriya
        case 0x0B80...0x0BFF: return .tamil
        case 0x0C00...0x0C7F: return .telugu
        case 0x0C80...0x0CFF: return .kannada
        case 0x0D00...0x0D7F: return .malayalam
        case 0x0D80...0x0DFF: return .sinhala
        case 0x0E00...0x0E7F: return (0x0E50...0x0E59).contains(v) ? nil : .thai
        case 0x0E80...0x0EFF: return .lao
        case 0x0F00...0x0FFF: return .tibetan
        case 0x1000...0x109F: return .myanmar
        case 0x10A0...0x10FF, 0x1C90...0x1CBF: return .georgian
        case 0x1100...0x11FF, 0x3130...0x318F, 0xAC00...0xD7AF: return .hangul
        case 0x1200...0x139F, 0x2D80...0x2DDF: return .ethiopic
        case 0x1780...0x17FF: return .khmer
        case 0x3041...0x309F: return .hiragana
        case 0x30A1...0x30FA, 0x30FC...0x30FF, 0x31F0...0x31FF, 0xFF66...0xFF9F: return .katakana
        case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x3134F, 0x3005, 0x3007: return .han
        case 0x0300...0x036F, 0x1AB0...0x1AFF, 0x20D0...0x20FF: return nil  // combining marks: inherit
        default:
            guard let scalar = Unicode.Scalar(v) else { return nil }
            return scalar.properties.isAlphabetic ? .other : nil
        }
    }
}

/// Counts letters per script in a text.
public struct ScriptCounts: Sendable, Equatable {
    /// Letters per script.
    public var counts: [Script: Int] = [:]

    public init() {}

    /// Counts the letters of `text`.
    public init(_ text: String) { add(text) }

    /// Adds the letters of `text`.
    public mutating func add(_ text: String) {
        // A fixed array avoids a dictionary update per letter.
        var local = [Int](repeating: 0, count: Script.allCases.count)
        var last: Script? = nil
        var lastIndex = 0
        for s in text.unicodeScalars {
            guard let script = Script.of(s.value) else { continue }
            if script != last {
                last = script
                lastIndex = Script.allCases.firstIndex(of: script) ?? 0
            }
            local[lastIndex] += 1
        }
        for (k, n) in local.enumerated() where n > 0 { counts[Script.allCases[k], default: 0] += n }
    }

    /// Adds another tally.
    public mutating func add(_ other: ScriptCounts) {
        for (s, n) in other.counts { counts[s, default: 0] += n }
    }

    /// Total letters counted.
    public var letters: Int { counts.values.reduce(0, +) }

    /// Fraction of letters in `scripts` (1 when there are no letters: nothing contradicts them).
    public func fraction(in scripts: Set<Script>) -> Double {
        let total = letters
        guard total > 0 else { return 1 }
        return Double(counts.filter { scripts.contains($0.key) }.values.reduce(0, +)) / Double(total)
    }

    /// Scripts with their share of letters, largest first.
    public var shares: [(script: Script, fraction: Double)] {
        let total = Double(max(letters, 1))
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { ($0.key, Double($0.value) / total) }
    }
}

/// The scripts a language is written in, for sanity checks on a corpus ("is this document
/// mostly in the expected language's script?"). Script-level only: it cannot tell English
/// from German, but it does catch Latin-script project pages in a Japanese dump.
public struct ScriptProfile: Sendable, Equatable {
    /// ISO 639-1 (or -3) code.
    public var language: String
    /// Scripts counted as "expected" for the language.
    public var scripts: Set<Script>

    public init(language: String, scripts: Set<Script>) {
        self.language = language
        self.scripts = scripts
    }

    /// The profile for a language code (`en`, `vi`, `ja`, `zh-hans`…); throws for unknown codes.
    public init(language code: String) throws {
        let base = code.lowercased().split(separator: "-").first.map(String.init) ?? ""
        guard let scripts = Self.table[base] else { throw CorpusError.unknownLanguage(code: code) }
        self.init(language: base, scripts: scripts)
    }

    /// Fraction of the letters of `text` in this language's scripts (1 if it has no letters).
    public func fraction(of text: String) -> Double {
        ScriptCounts(text).fraction(in: scripts)
    }

    /// Whether `text` is mostly (≥ `threshold` of its letters) in the expected scripts.
    public func matches(_ text: String, threshold: Double = 0.5) -> Bool {
        fraction(of: text) >= threshold
    }

    static let latinLanguages = """
    en de fr es it pt nl vi sw tr ro pl cs sk sl hr bs sq hu fi et lv lt da sv no nb nn is ga cy eu ca gl \
    id ms tl jv su ha yo ig zu xh af so uz az tk ku mt eo la lb fo br oc co sc wa fy qu ay gn mg ny sn st tn \
    ts ss ve rw rn lg om ceb war haw mi sm to fj
    """
    static let table: [String: Set<Script>] = {
        var t: [String: Set<Script>] = [:]
        for code in latinLanguages.split(separator: " ") { t[String(code)] = [.latin] }
        for code in ["ru", "uk", "be", "bg", "mk", "sr", "kk", "ky", "tg", "mn", "ba", "tt", "cv", "ce", "os"] { t[code] = [.cyrillic] }
        for code in ["ar", "fa", "ur", "ps", "sd", "ug", "ckb", "arz"] { t[code] = [.arabic] }
        for code in ["hi", "mr", "ne", "sa", "bh", "mai", "new"] { t[code] = [.devanagari] }
        for code in ["bn", "as"] { t[code] = [.bengali] }
        t["el"] = [.greek]
        t["he"] = [.hebrew]; t["yi"] = [.hebrew]
        t["hy"] = [.armenian]
        t["ka"] = [.georgian]
        t["th"] = [.thai]
        t["lo"] = [.lao]
        t["km"] = [.khmer]
        t["my"] = [.myanmar]
        t["bo"] = [.tibetan]; t["dz"] = [.tibetan]
        t["am"] = [.ethiopic]; t["ti"] = [.ethiopic]
        t["si"] = [.sinhala]
        t["ta"] = [.tamil]
        t["te"] = [.telugu]
        t["kn"] = [.kannada]
        t["ml"] = [.malayalam]
        t["gu"] = [.gujarati]
        t["pa"] = [.gurmukhi]
        t["or"] = [.oriya]
        t["dv"] = [.thaana]
        t["zh"] = [.han]; t["yue"] = [.han]; t["wuu"] = [.han]
        t["ja"] = [.han, .hiragana, .katakana]
        t["ko"] = [.hangul, .han]
        return t
    }()

    /// Language codes with a profile.
    public static var supportedLanguages: [String] { table.keys.sorted() }
}
