import Corpus
import Foundation
import Kernels
import Models
import Tokenizers

/// The top tokens of the logit lens at one position: ids by descending logit, and their logits.
public struct LensTopK: Equatable {
    public let ids: [Int32]
    public let logits: [Float]
    /// Top-1 minus top-2 logit (infinity when k = 1).
    public var margin: Float { logits.count >= 2 ? logits[0] - logits[1] : .infinity }
}

/// Logit lens (method §7): the final norm and the output head applied to the residual stream
/// entering each layer (index `layers`: the last layer's output).
public enum LogitLens {
    /// Top-`k` tokens for every layer `0...layers` and every position of `ids`: `[layer][position]`.
    /// `headRows` rows of logits are computed at a time (a 262k vocabulary needs no `[T, V]` buffer).
    public static func topK(model: Transformer, ids: [Int32], k: Int, headRows: Int = 32) throws -> [[LensTopK]] {
        let c = model.config
        guard !ids.isEmpty else { return Array(repeating: [], count: c.layers + 1) }
        let kk = max(1, min(k, c.vocabularySize))
        let T = ids.count, H = c.hidden, V = c.vocabularySize
        var residuals = [[Float]](repeating: [], count: c.layers + 1)
        let hooks = ForwardHooks(residual: { l, x, rows in
            residuals[l] = Array(UnsafeBufferPointer(start: x, count: rows * H))
        })
        try model.forward(ids, cache: model.makeCache(capacity: T), hooks: hooks)
        let normed = FloatBuffer(count: T * H)
        let logits = FloatBuffer(count: min(headRows, T) * V)
        var out = [[LensTopK]]()
        out.reserveCapacity(c.layers + 1)
        for l in 0...c.layers {
            residuals[l].withUnsafeBufferPointer { x in
                guard let base = x.baseAddress else { return }
                RMSNorm.forward(y: normed.pointer, rstd: nil, x: base, weight: model.weights.outputNorm.pointer,
                                rows: T, dim: H, eps: c.rmsEpsilon)
            }
            var layer = [LensTopK]()
            layer.reserveCapacity(T)
            var r = 0
            while r < T {
                let n = min(headRows, T - r)
                model.logits(logits.pointer, hidden: normed.pointer + r * H, rows: n)
                for i in 0..<n { layer.append(select(logits.pointer + i * V, count: V, k: kk)) }
                r += n
            }
            out.append(layer)
        }
        return out
    }

    /// The `k` largest values of `p[0..<count]` with their indices, descending; ties go to the lower index.
    static func select(_ p: UnsafePointer<Float>, count: Int, k: Int) -> LensTopK {
        var ids = [Int32](), vals = [Float]()
        ids.reserveCapacity(k + 1); vals.reserveCapacity(k + 1)
        for j in 0..<count {
            let v = p[j]
            if vals.count == k, let last = vals.last, !(v > last) { continue }
            var pos = vals.count
            while pos > 0 && v > vals[pos - 1] { pos -= 1 }
            vals.insert(v, at: pos); ids.insert(Int32(j), at: pos)
            if vals.count > k { vals.removeLast(); ids.removeLast() }
        }
        return LensTopK(ids: ids, logits: vals)
    }

    /// Runs the lens over each language's documents (cut to `maxTokens` tokens, BOS added as the
    /// model does) and counts, per layer, how many of the top-`k` tokens of every position are
    /// English, the language's own, or other, using `classifiers[language]`.
    public static func run(model: Transformer, tokenizer: Tokenizer, documents: [(language: String, texts: [String])],
                           classifiers: [String: LensTokenClassifier], k: Int, maxTokens: Int,
                           progress: (String) -> Void = { _ in }) throws -> LensReport {
        var results = [LensLanguageResult]()
        for (lang, texts) in documents {
            guard let classifier = classifiers[lang] else {
                throw EvaluationError.invalidOption(name: "languages", reason: "no token classifier for \(lang)")
            }
            var counts = [[Int]](repeating: [Int](repeating: 0, count: LensClass.allCases.count), count: model.config.layers + 1)
            var cache = [Int32: LensClass]()
            var docs = 0, positions = 0
            for (d, text) in texts.enumerated() {
                let ids = Array(tokenizer.encode(text, addSpecialTokens: true).prefix(maxTokens))
                guard !ids.isEmpty else { continue }
                let top = try topK(model: model, ids: ids, k: k)
                for (l, layer) in top.enumerated() {
                    for t in layer {
                        for id in t.ids {
                            let cls: LensClass
                            if let c = cache[id] { cls = c } else { cls = classifier.classify(tokenizer.decodedPiece(id)); cache[id] = cls }
                            counts[l][cls.index] += 1
                        }
                    }
                }
                docs += 1; positions += ids.count
                progress("lens \(lang): \(d + 1)/\(texts.count) documents")
            }
            let layers = counts.enumerated().map { l, c -> LensLayerRatios in
                let total = Double(max(1, c.reduce(0, +)))
                func share(_ k: LensClass) -> Double { Double(c[k.index]) / total }
                return LensLayerRatios(layer: l, english: share(.english), target: share(.target), noLetters: share(.noLetters),
                                       otherScript: share(.otherScript), unknownWord: share(.unknownWord), tokens: c.reduce(0, +))
            }
            results.append(LensLanguageResult(language: lang, documents: docs, positions: positions, layers: layers))
        }
        return LensReport(topK: k, maxTokens: maxTokens, layers: model.config.layers, languages: results)
    }
}

/// What a lens token is taken to be. The last three together are "other".
public enum LensClass: String, Codable, Sendable, CaseIterable {
    case english, target
    /// No letters: spaces, digits, punctuation, symbols, partial UTF-8 bytes.
    case noLetters = "no_letters"
    /// Letters of a script that is neither Latin (English) nor the target's.
    case otherScript = "other_script"
    /// A Latin word that neither word list has (Latin-script targets only).
    case unknownWord = "unknown_word"

    /// Whether this counts as "other".
    public var isOther: Bool { self != .english && self != .target }
    var index: Int { LensClass.allCases.firstIndex(of: self) ?? 0 }
}

/// Word counts of a corpus: maximal runs of letters (any script, plus combining marks), lowercased.
public struct WordFrequencies: Equatable, Sendable {
    public private(set) var counts: [String: Int] = [:]
    public private(set) var total = 0

    /// Counts the words of `texts`.
    public init(texts: [String]) {
        for t in texts { for w in WordFrequencies.words(t) { counts[w, default: 0] += 1; total += 1 } }
    }

    /// Relative frequency of `word` (lowercased), 0 when absent.
    public func frequency(_ word: String) -> Double {
        total == 0 ? 0 : Double(counts[word.lowercased()] ?? 0) / Double(total)
    }

    /// The lowercased letter runs of `text`.
    public static func words(_ text: String) -> [String] {
        var out = [String](), cur = String.UnicodeScalarView()
        for s in text.lowercased().unicodeScalars {
            if Script.of(s.value) != nil || (0x0300...0x036F).contains(s.value) {
                cur.append(s)
            } else if !cur.isEmpty {
                out.append(String(cur)); cur = String.UnicodeScalarView()
            }
        }
        if !cur.isEmpty { out.append(String(cur)) }
        return out
    }
}

/// Labels a decoded token as English, the target language, or other, by script and word lists:
/// - no letters (spaces, digits, punctuation, byte fragments) → other (`noLetters`);
/// - target written in a non-Latin script (ja, bn, ru…): at least half the letters in the target's scripts
///   → target, all letters Latin → English, anything else → other (`otherScript`);
/// - Latin-script target (vi, fr…): letters not all Latin → `otherScript`; any non-ASCII Latin letter
///   (a diacritic) → target; an ASCII word → whichever word list gives it the higher relative frequency
///   (English on ties), `unknownWord` when neither has it;
/// - target English: all letters Latin → English, else `otherScript`.
public struct LensTokenClassifier: Sendable {
    public let target: String
    let profile: ScriptProfile
    let english: WordFrequencies
    let targetWords: WordFrequencies

    /// `english`: word counts of an English corpus; `targetWords`: of the target's corpus (only used
    /// for Latin-script targets). Throws for language codes without a script profile.
    public init(target: String, english: WordFrequencies, targetWords: WordFrequencies) throws {
        self.target = target
        do { profile = try ScriptProfile(language: target) } catch {
            throw EvaluationError.invalidOption(name: "languages", reason: "no script profile for '\(target)'; use codes such as en, vi, ja, bn")
        }
        self.english = english
        self.targetWords = targetWords
    }

    var isEnglish: Bool { profile.language == "en" }
    var isLatinTarget: Bool { profile.scripts == [.latin] }

    /// The class of one decoded token.
    public func classify(_ piece: String) -> LensClass {
        var latin = 0, inTarget = 0, letters = 0, nonASCIILatin = 0
        for s in piece.unicodeScalars {
            guard let sc = Script.of(s.value) else { continue }
            letters += 1
            if sc == .latin { latin += 1; if s.value >= 0x80 { nonASCIILatin += 1 } }
            if profile.scripts.contains(sc) { inTarget += 1 }
        }
        guard letters > 0 else { return .noLetters }
        if isEnglish { return latin == letters ? .english : .otherScript }
        if !isLatinTarget {
            if 2 * inTarget >= letters && inTarget > 0 { return .target }
            return latin == letters ? .english : .otherScript
        }
        guard latin == letters else { return .otherScript }
        if nonASCIILatin > 0 { return .target }
        let word = WordFrequencies.words(piece).joined()
        let fe = english.frequency(word), ft = targetWords.frequency(word)
        if fe == 0 && ft == 0 { return .unknownWord }
        return ft > fe ? .target : .english
    }
}

/// One layer's share of the lens tokens.
public struct LensLayerRatios: Codable, Equatable {
    public let layer: Int
    public let english: Double
    public let target: Double
    /// `noLetters + otherScript + unknownWord`.
    public let other: Double
    public let noLetters: Double
    public let otherScript: Double
    public let unknownWord: Double
    /// Tokens counted (positions × k).
    public let tokens: Int

    public init(layer: Int, english: Double, target: Double, noLetters: Double, otherScript: Double, unknownWord: Double, tokens: Int) {
        self.layer = layer; self.english = english; self.target = target
        self.noLetters = noLetters; self.otherScript = otherScript; self.unknownWord = unknownWord
        self.other = noLetters + otherScript + unknownWord
        self.tokens = tokens
    }

    enum CodingKeys: String, CodingKey {
        case layer, english, target, other, noLetters = "no_letters", otherScript = "other_script", unknownWord = "unknown_word", tokens
    }
}

/// One language's lens ratios by layer.
public struct LensLanguageResult: Codable, Equatable {
    public let language: String
    public let documents: Int
    public let positions: Int
    public let layers: [LensLayerRatios]

    public init(language: String, documents: Int, positions: Int, layers: [LensLayerRatios]) {
        self.language = language; self.documents = documents; self.positions = positions; self.layers = layers
    }
}

/// The lens over all languages.
public struct LensReport: Codable, Equatable {
    public let topK: Int
    public let maxTokens: Int
    /// The model's layer count; ratios cover layers `0...layers` (`layers` = the last layer's output).
    public let layers: Int
    public let languages: [LensLanguageResult]

    enum CodingKeys: String, CodingKey { case topK = "top_k", maxTokens = "max_tokens", layers, languages }

    public init(topK: Int, maxTokens: Int, layers: Int, languages: [LensLanguageResult]) {
        self.topK = topK; self.maxTokens = maxTokens; self.layers = layers; self.languages = languages
    }

    /// `language,layer,english,target,other,no_letters,other_script,unknown_word,tokens` rows.
    public func csv() -> String {
        var s = "language,layer,english,target,other,no_letters,other_script,unknown_word,tokens\n"
        for r in languages {
            for l in r.layers {
                s += "\(r.language),\(l.layer),"
                s += String(format: "%.6f,%.6f,%.6f,%.6f,%.6f,%.6f", l.english, l.target, l.other, l.noLetters, l.otherScript, l.unknownWord)
                s += ",\(l.tokens)\n"
            }
        }
        return s
    }

    /// A line plot of the English-token ratio by layer, one line per language.
    public func svg(title: String = "Logit lens: English-token ratio by layer") -> String {
        let w = 640.0, h = 400.0, left = 60.0, right = 120.0, top = 40.0, bottom = 50.0
        let pw = w - left - right, ph = h - top - bottom
        let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
        func x(_ l: Int) -> Double { left + (layers == 0 ? 0 : Double(l) / Double(layers) * pw) }
        func y(_ v: Double) -> Double { top + (1 - v) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        s += "<text x=\"\(f(w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">\(esc(title))</text>\n"
        for i in 0...4 {
            let v = Double(i) / 4
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(v)))\" x2=\"\(f(left + pw))\" y2=\"\(f(y(v)))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(String(format: "%.2f", v))</text>\n"
        }
        let step = max(1, layers / 9)
        for l in stride(from: 0, through: layers, by: step) {
            s += "<text x=\"\(f(x(l)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(l)</text>\n"
        }
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(h - 10))\" text-anchor=\"middle\">layer (residual stream entering it; \(layers) = output)</text>\n"
        s += "<text x=\"16\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + ph / 2)))\">English-token ratio (top \(topK))</text>\n"
        for (i, r) in languages.enumerated() {
            let color = colors[i % colors.count]
            let pts = r.layers.map { "\(f(x($0.layer))),\(f(y($0.english)))" }.joined(separator: " ")
            s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(pts)\"/>\n"
            let ly = top + 10 + Double(i) * 18
            s += "<line x1=\"\(f(left + pw + 12))\" y1=\"\(f(ly))\" x2=\"\(f(left + pw + 36))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            s += "<text x=\"\(f(left + pw + 42))\" y=\"\(f(ly + 4))\">\(esc(r.language))</text>\n"
        }
        s += "</svg>\n"
        return s
    }
}
