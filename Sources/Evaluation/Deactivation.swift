import Foundation
import Models
import Tokenizers

/// A range of layers and structures in which neurons are zeroed (method §5).
public enum DeactivationStage: String, CaseIterable, Codable, Sendable {
    /// The first N layers, all structures.
    case understanding
    /// The middle layers (after the first N, before the last M), attention structures q/k/v/o only.
    case solveAttention = "solve-attn"
    /// The middle layers, FFN units only.
    case solveFFN = "solve-ffn"
    /// The last M layers, all structures.
    case generation
    /// Every layer, all structures.
    case all

    /// Whether q/k/v/o neurons are zeroed in this stage.
    public var includesAttention: Bool { self != .solveFFN }
    /// Whether FFN neurons are zeroed in this stage.
    public var includesFFN: Bool { self != .solveAttention }

    /// The layers of this stage under `layout`.
    public func layers(_ layout: StageLayout) -> Range<Int> {
        switch self {
        case .understanding: return 0..<layout.understandingLayers
        case .solveAttention, .solveFFN: return layout.understandingLayers..<(layout.layers - layout.generationLayers)
        case .generation: return (layout.layers - layout.generationLayers)..<layout.layers
        case .all: return 0..<layout.layers
        }
    }

    /// Parses a comma-separated list such as `understanding,solve-attn,all`.
    public static func parseList(_ text: String) throws -> [DeactivationStage] {
        var out = [DeactivationStage]()
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let s = DeactivationStage(rawValue: name) else {
                let known = DeactivationStage.allCases.map(\.rawValue).joined(separator: ", ")
                throw EvaluationError.invalidOption(name: "stages", reason: "unknown stage '\(name)'; use one or more of \(known)")
            }
            if !out.contains(s) { out.append(s) }
        }
        guard !out.isEmpty else { throw EvaluationError.invalidOption(name: "stages", reason: "no stage given") }
        return out
    }
}

/// How a model's layers split into understanding (first N), task-solving (middle) and
/// generation (last M) layers.
public struct StageLayout: Codable, Equatable, Sendable {
    public let layers: Int
    public let understandingLayers: Int
    public let generationLayers: Int

    /// Checks `0 ≤ N`, `0 ≤ M` and `N + M ≤ layers`.
    public init(layers: Int, understandingLayers: Int, generationLayers: Int) throws {
        guard understandingLayers >= 0, generationLayers >= 0 else {
            throw EvaluationError.invalidOption(name: "understanding-layers/generation-layers", reason: "must not be negative")
        }
        guard understandingLayers + generationLayers <= layers else {
            throw EvaluationError.invalidOption(
                name: "understanding-layers/generation-layers",
                reason: "\(understandingLayers) + \(generationLayers) exceeds the model's \(layers) layers; choose N + M ≤ \(layers)")
        }
        self.init(unchecked: layers, understandingLayers, generationLayers)
    }

    private init(unchecked layers: Int, _ understandingLayers: Int, _ generationLayers: Int) {
        self.layers = layers
        self.understandingLayers = understandingLayers
        self.generationLayers = generationLayers
    }

    /// The paper's split (N = 8, M = 4 of 32 layers) scaled to `layers` and rounded:
    /// N = round(layers / 4), M = round(layers / 8).
    public static func paperScaled(layers: Int) -> StageLayout {
        let n = Int((Double(layers) / 4).rounded()), m = Int((Double(layers) / 8).rounded())
        // n + m ≤ 3/8·layers + 1 ≤ layers for layers ≥ 2; clamp for degenerate models.
        let nn = max(0, min(n, layers)), mm = max(0, min(m, layers - nn))
        return StageLayout(unchecked: layers, nn, mm)
    }

    enum CodingKeys: String, CodingKey {
        case layers, understandingLayers = "understanding_layers", generationLayers = "generation_layers"
    }
}

/// Perplexity of one language before and after zeroing neurons.
public struct LanguageChange: Codable, Equatable {
    public let language: String
    public let before: PerplexityResult
    public let after: PerplexityResult
    /// Relative perplexity increase in percent: `100 · (after.ppl / before.ppl − 1)`.
    public let change: Double
}

/// The summary of method §5 over per-language changes (all in percent of relative perplexity increase).
public struct DeltaSummary: Codable, Equatable {
    /// English's change (`nil` when English is not among the languages).
    public let deltaEnglish: Double?
    /// Mean change over the non-English languages (`nil` when there are none).
    public let deltaNonEnglish: Double?
    /// `ΔEng − Δn-Eng` (`nil` when either is missing).
    public let delta: Double?

    /// Computes the summary from `(language, change)` pairs; `english` names the English code.
    public init(changes: [(language: String, change: Double)], english: String = "en") {
        let eng = changes.first { $0.language == english }?.change
        let others = changes.filter { $0.language != english }.map(\.change)
        let nonEng = others.isEmpty ? nil : others.reduce(0, +) / Double(others.count)
        deltaEnglish = eng
        deltaNonEnglish = nonEng
        if let e = eng, let n = nonEng { delta = e - n } else { delta = nil }
    }

    enum CodingKeys: String, CodingKey {
        case deltaEnglish = "delta_eng", deltaNonEnglish = "delta_non_eng", delta
    }
}

/// One stage with one neuron set (the language-specific set or its random control).
public struct DeactivationArm: Codable, Equatable {
    /// `"language"` for the given set, `"random"` for the control.
    public let kind: String
    /// Neurons zeroed in this stage.
    public let neurons: Int
    public let languages: [LanguageChange]
    public let summary: DeltaSummary
}

/// One stage: its layers and the two arms.
public struct DeactivationStageResult: Codable, Equatable {
    public let stage: DeactivationStage
    /// First and one-past-last layer of the stage.
    public let layerStart: Int
    public let layerEnd: Int
    public let structures: [String]
    public let arms: [DeactivationArm]

    enum CodingKeys: String, CodingKey {
        case stage, layerStart = "layer_start", layerEnd = "layer_end", structures, arms
    }
}

/// Everything `Deactivation.run` measured.
public struct DeactivationReport: Codable, Equatable {
    public let layout: StageLayout
    /// The English language code used for ΔEng.
    public let english: String
    public let maxTokens: Int
    /// The unmodified model's perplexity per language, in the order given.
    public let baseline: [String: PerplexityResult]
    public let languages: [String]
    public let stages: [DeactivationStageResult]
    /// How "change" is defined, written into every report.
    public static let changeDefinition = "change = relative perplexity increase in percent, 100·(ppl_after/ppl_before − 1); ΔEng = English's change, Δn-Eng = mean change over the other languages, Δ = ΔEng − Δn-Eng"
    public var changeDefinition: String { DeactivationReport.changeDefinition }

    enum CodingKeys: String, CodingKey {
        case layout, english, maxTokens = "max_tokens", baseline, languages, stages, changeDefinition = "change_definition"
    }

    public init(layout: StageLayout, english: String, maxTokens: Int, baseline: [String: PerplexityResult],
                languages: [String], stages: [DeactivationStageResult]) {
        self.layout = layout; self.english = english; self.maxTokens = maxTokens
        self.baseline = baseline; self.languages = languages; self.stages = stages
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layout = try c.decode(StageLayout.self, forKey: .layout)
        english = try c.decode(String.self, forKey: .english)
        maxTokens = try c.decode(Int.self, forKey: .maxTokens)
        baseline = try c.decode([String: PerplexityResult].self, forKey: .baseline)
        languages = try c.decode([String].self, forKey: .languages)
        stages = try c.decode([DeactivationStageResult].self, forKey: .stages)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layout, forKey: .layout)
        try c.encode(english, forKey: .english)
        try c.encode(maxTokens, forKey: .maxTokens)
        try c.encode(baseline, forKey: .baseline)
        try c.encode(languages, forKey: .languages)
        try c.encode(stages, forKey: .stages)
        try c.encode(changeDefinition, forKey: .changeDefinition)
    }
}

/// Deactivation experiments (method §5): zero a neuron set, restricted to a stage's layers and
/// structures, and measure each language's perplexity against the unmodified model, next to a
/// random control of the same size.
public enum Deactivation {
    /// `masks` restricted to the layers and structures of `stage` (empty layers dropped).
    public static func restrict(_ masks: [Int: LayerMask], to stage: DeactivationStage, layout: StageLayout) -> [Int: LayerMask] {
        let range = stage.layers(layout)
        var out = [Int: LayerMask]()
        for (l, m) in masks where range.contains(l) {
            var r = LayerMask()
            if stage.includesAttention { r.attnQ = m.attnQ; r.attnK = m.attnK; r.attnV = m.attnV; r.attnOutput = m.attnOutput }
            if stage.includesFFN { r.ffn = m.ffn }
            if !r.isEmpty { out[l] = r }
        }
        return out
    }

    /// Number of neurons in `masks`.
    public static func count(_ masks: [Int: LayerMask]) -> Int {
        masks.values.reduce(0) { $0 + $1.attnQ.count + $1.attnK.count + $1.attnV.count + $1.attnOutput.count + $1.ffn.count }
    }

    /// Relative perplexity increase in percent.
    public static func change(before: Double, after: Double) -> Double { 100 * (after / before - 1) }

    /// Runs every stage for `masks` (the language-specific set) and, when given, `randomMasks`
    /// (the control, already matched in size per layer and structure). `documents` lists each
    /// language with its held-out texts, in report order. `progress(line)` receives status text.
    public static func run(model: Transformer, tokenizer: Tokenizer, documents: [(language: String, texts: [String])],
                           masks: [Int: LayerMask], randomMasks: [Int: LayerMask]?, stages: [DeactivationStage],
                           layout: StageLayout, english: String = "en", maxTokens: Int = 256, seed: UInt64 = 1,
                           progress: (String) -> Void = { _ in }) throws -> DeactivationReport {
        guard layout.layers == model.config.layers else {
            throw EvaluationError.invalidOption(name: "layout", reason: "the layout has \(layout.layers) layers, the model \(model.config.layers)")
        }
        func evaluate(_ label: String, _ lang: String, _ texts: [String], _ hooks: ForwardHooks?) throws -> PerplexityResult {
            let r = try Perplexity.evaluate(model: model, tokenizer: tokenizer, documents: texts, maxTokens: maxTokens,
                                            seed: seed, hooks: hooks) { d, n in progress("\(label) \(lang): \(d)/\(n) documents") }
            guard r.tokens > 0 else {
                throw EvaluationError.noTokens(language: lang, reason: "none of its \(texts.count) documents has two or more tokens")
            }
            return r
        }
        var baseline = [String: PerplexityResult]()
        for (lang, texts) in documents { baseline[lang] = try evaluate("baseline", lang, texts, nil) }
        var results = [DeactivationStageResult]()
        for stage in stages {
            var arms = [DeactivationArm]()
            var sets: [(String, [Int: LayerMask])] = [("language", masks)]
            if let r = randomMasks { sets.append(("random", r)) }
            for (kind, set) in sets {
                let restricted = restrict(set, to: stage, layout: layout)
                let hooks = ForwardHooks(masks: restricted)
                var changes = [LanguageChange]()
                for (lang, texts) in documents {
                    guard let before = baseline[lang] else { continue }
                    let after = try evaluate("\(stage.rawValue) \(kind)", lang, texts, hooks)
                    changes.append(LanguageChange(language: lang, before: before, after: after,
                                                  change: change(before: before.ppl, after: after.ppl)))
                }
                arms.append(DeactivationArm(kind: kind, neurons: count(restricted), languages: changes,
                                            summary: DeltaSummary(changes: changes.map { ($0.language, $0.change) }, english: english)))
            }
            let range = stage.layers(layout)
            var structures = [String]()
            if stage.includesAttention { structures += ["attn_q", "attn_k", "attn_v", "attn_output"] }
            if stage.includesFFN { structures.append("ffn") }
            results.append(DeactivationStageResult(stage: stage, layerStart: range.lowerBound, layerEnd: range.upperBound,
                                                   structures: structures, arms: arms))
        }
        return DeactivationReport(layout: layout, english: english, maxTokens: maxTokens, baseline: baseline,
                                  languages: documents.map(\.language), stages: results)
    }
}

extension DeactivationReport {
    /// A Markdown table: one row per stage, arm and language, then the Δ rows.
    public func markdown(title: String? = nil) -> String {
        var s = ""
        if let t = title { s += "# \(t)\n\n" }
        s += "Layers: \(layout.layers); understanding = first \(layout.understandingLayers), generation = last \(layout.generationLayers), "
        s += "task-solving = layers \(layout.understandingLayers)–\(layout.layers - layout.generationLayers - 1). Tokens per document ≤ \(maxTokens).\n\n"
        s += "\(DeactivationReport.changeDefinition).\n\n"
        s += "| stage | neurons | zeroed | language | ppl before | ppl after | change |\n"
        s += "| --- | --- | ---: | --- | ---: | ---: | ---: |\n"
        for st in stages {
            for arm in st.arms {
                for c in arm.languages {
                    s += "| \(st.stage.rawValue) | \(arm.kind) | \(arm.neurons) | \(c.language) | "
                    s += "\(Self.ppl(c.before.ppl)) | \(Self.ppl(c.after.ppl)) | \(Self.fmt(c.change)) |\n"
                }
                s += "| \(st.stage.rawValue) | \(arm.kind) | \(arm.neurons) | **ΔEng / Δn-Eng / Δ** | | | "
                s += "\(Self.fmt(arm.summary.deltaEnglish)) / \(Self.fmt(arm.summary.deltaNonEnglish)) / \(Self.fmt(arm.summary.delta)) |\n"
            }
        }
        return s
    }

    /// A plain-text table for the terminal.
    public func table() -> String {
        func pad(_ t: String, _ n: Int, left: Bool = false) -> String {
            let p = String(repeating: " ", count: max(0, n - t.count))
            return left ? t + p : p + t
        }
        var s = pad("stage", 13, left: true) + pad("neurons", 9, left: true) + pad("zeroed", 7) + "  " + pad("lang", 5, left: true)
        s += pad("ppl before", 12) + pad("ppl after", 12) + pad("change", 14) + "\n"
        for st in stages {
            for arm in st.arms {
                for c in arm.languages {
                    s += pad(st.stage.rawValue, 13, left: true) + pad(arm.kind, 9, left: true) + pad(String(arm.neurons), 7) + "  "
                    s += pad(c.language, 5, left: true) + pad(Self.ppl(c.before.ppl), 12)
                    s += pad(Self.ppl(c.after.ppl), 12) + pad(Self.fmt(c.change), 14) + "\n"
                }
                s += pad("", 29) + "  ΔEng \(Self.fmt(arm.summary.deltaEnglish))  Δn-Eng \(Self.fmt(arm.summary.deltaNonEnglish))  Δ \(Self.fmt(arm.summary.delta))\n"
            }
        }
        return s
    }

    /// A change in percent; scientific notation past ±10⁶ % so columns stay aligned.
    static func fmt(_ x: Double?) -> String {
        guard let v = x else { return "n/a" }
        return abs(v) < 1e6 ? String(format: "%+.2f%%", v) : String(format: "%+.3e%%", v)
    }

    /// A perplexity; scientific notation past 10⁶.
    static func ppl(_ x: Double) -> String { abs(x) < 1e6 ? String(format: "%.3f", x) : String(format: "%.3e", x) }
}


