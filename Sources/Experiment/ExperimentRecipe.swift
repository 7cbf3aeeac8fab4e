import Foundation
import ModelIO
import Training
import Yams

/// One way of training (or not) that the experiment compares.
public enum Arm: String, CaseIterable, Codable, Sendable {
    /// No training: the model as it is.
    case base
    /// The detected language-specific neurons (paper §4).
    case language
    /// As many random neurons per layer and structure, `random_draws` times.
    case random
    /// A low-rank update of the same matrices.
    case lora
    /// Every row/column of the same matrices.
    case full
}

/// An enhancement experiment (paper §4): what to detect, which arms to train on the same data
/// and schedule, what to measure. Every block declares each key and its default once (the
/// property); unknown keys are errors.
public struct ExperimentRecipe: Decodable {
    public var model: String
    public var language: String
    /// Run directory: neuron sets, the training runs, the report.
    public var output: String
    public var detect: Detect
    /// A training recipe (`langneuron train` format); the experiment sets its model, language,
    /// neurons and output.
    public var train: String
    /// Extra `--set` overrides for every trained arm.
    public var trainOverrides: [String] = []
    /// The arms to compare; `base` is always evaluated (every change is against it).
    public var arms: [Arm] = [.language, .random]
    /// Random neuron sets drawn (seeds `random_seed`, `random_seed`+1, …).
    public var randomDraws: Int = 3
    /// Seed of the first random draw.
    public var randomSeed: UInt64 = 1
    /// The `lora` arm's adapter: rank (`auto`: the rank whose trainable parameters are closest to
    /// the language arm's on the same matrices), alpha (the update is alpha/rank · B·A, as in PEFT),
    /// seed of A's initialisation.
    public var lora = LoRASettings()
    public var evaluate = Evaluate()

    public struct Detect: Decodable {
        public var corpus: String
        public var documents = 16
        public var maxTokens = 256
        public var topKAttn: Int?
        public var topKFfn: Int?
        public var epsilon: Double?
        public var consistency = 1.0
        public var cap: Int?
        /// English neurons to subtract (the authors remove them from every other language's set).
        public var excludeEnglish: English?

        public struct English: Decodable {
            public var corpus = "plnd-en"
            public var documents = 16
            enum CodingKeys: String, CodingKey, CaseIterable { case corpus, documents }
            public init(from decoder: Decoder) throws {
                try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "detect.exclude_english")
                let c = try decoder.container(keyedBy: CodingKeys.self)
                try c.update(&corpus, .corpus)
                try c.update(&documents, .documents)
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case corpus, documents, maxTokens = "max_tokens", topKAttn = "top_k_attn", topKFfn = "top_k_ffn", epsilon, consistency, cap
            case excludeEnglish = "exclude_english"
        }
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "detect")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            corpus = try c.decode(String.self, forKey: .corpus)
            try c.update(&documents, .documents)
            try c.update(&maxTokens, .maxTokens)
            try c.update(&topKAttn, .topKAttn)
            try c.update(&topKFfn, .topKFfn)
            try c.update(&epsilon, .epsilon)
            try c.update(&consistency, .consistency)
            try c.update(&cap, .cap)
            try c.update(&excludeEnglish, .excludeEnglish)
        }
    }

    public struct Evaluate: Decodable {
        public var languages = ["en"]
        public var tasks = ["ppl"]
        public var documents = 12
        public var maxTokens = 256
        public var limit = 10
        /// Languages for xquad/mgsm when they differ from `languages` (not every language has every benchmark).
        public var benchmarkLanguages: [String]?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case languages, tasks, documents, maxTokens = "max_tokens", limit, benchmarkLanguages = "benchmark_languages"
        }
        public init() {}
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "evaluate")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            try c.update(&languages, .languages)
            try c.update(&tasks, .tasks)
            try c.update(&documents, .documents)
            try c.update(&maxTokens, .maxTokens)
            try c.update(&limit, .limit)
            try c.update(&benchmarkLanguages, .benchmarkLanguages)
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, language, output, detect, train, trainOverrides = "train_overrides", arms
        case randomDraws = "random_draws", randomSeed = "random_seed", lora, evaluate
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "experiment")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        language = try c.decode(String.self, forKey: .language)
        output = try c.decode(String.self, forKey: .output)
        detect = try c.decode(Detect.self, forKey: .detect)
        train = try c.decode(String.self, forKey: .train)
        try c.update(&trainOverrides, .trainOverrides)
        if let names = try c.decodeIfPresent([String].self, forKey: .arms) {
            arms = try names.map { name in
                guard let a = Arm(rawValue: name) else {
                    throw ExperimentError.invalidRecipe(path: "", field: "arms",
                                                        reason: "lists '\(name)' (arms: \(Arm.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return a
            }
        }
        try c.update(&randomDraws, .randomDraws)
        try c.update(&randomSeed, .randomSeed)
        try c.update(&lora, .lora)
        try c.update(&evaluate, .evaluate)
    }

    /// The arms that are trained, in the order they run (the most memory-hungry last).
    public var trainedArms: [Arm] { Arm.allCases.filter { $0 != .base && arms.contains($0) } }

    /// Seeds of the random draws.
    public var randomSeeds: [UInt64] { (0..<UInt64(max(0, randomDraws))).map { randomSeed &+ $0 } }

    /// Checks values that decoding cannot.
    public func validate(path: String) throws {
        func bad(_ f: String, _ r: String) -> ExperimentError { .invalidRecipe(path: path, field: f, reason: r) }
        if Set(arms).count != arms.count { throw bad("arms", "lists an arm twice") }
        if trainedArms.isEmpty { throw bad("arms", "must list at least one trained arm (language, random, lora, full)") }
        if arms.contains(.random) && randomDraws < 1 { throw bad("random_draws", "must be at least 1 when the random arm is run") }
        if let p = lora.problem() { throw bad(p.field, p.reason) }
        if detect.documents < 1 { throw bad("detect.documents", "must be at least 1") }
        if evaluate.documents < 1 { throw bad("evaluate.documents", "must be at least 1") }
    }

    /// Reads and validates a recipe file; errors name the file and the field.
    public static func load(_ path: String) throws -> ExperimentRecipe {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError.invalidRecipe(path: path, field: "(file)", reason: "cannot be read as UTF-8 text")
        }
        return try parse(yaml: text, path: path)
    }

    public static func parse(yaml text: String, path: String) throws -> ExperimentRecipe {
        // Limits before the YAML parser (nesting, aliases, size, plain keys): hostile input must not crash it.
        if let p = YAMLInput.problem(in: text, maxBytes: Recipe.maxBytes) {
            throw ExperimentError.invalidRecipe(path: path, field: "(file)", reason: p)
        }
        let r: ExperimentRecipe
        do { r = try YAMLDecoder().decode(ExperimentRecipe.self, from: text) } catch let DecodingError.dataCorrupted(ctx) {
            if let inner = ctx.underlyingError as? ExperimentError, case let .invalidRecipe(_, f, reason) = inner {
                throw ExperimentError.invalidRecipe(path: path, field: f, reason: reason)
            }
            // YAML syntax errors span lines; messages stay on one.
            if let inner = ctx.underlyingError {
                throw ExperimentError.invalidRecipe(path: path, field: "(file)", reason: TextLimits.firstLine(inner.localizedDescription, limit: 400))
            }
            throw ExperimentError.invalidRecipe(path: path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."),
                                                reason: TextLimits.firstLine(ctx.debugDescription, limit: 400))
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ExperimentError.invalidRecipe(path: path, field: (ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."), reason: "is required")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ExperimentError.invalidRecipe(path: path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "must be of type \(type)")
        } catch let e as ExperimentError {
            if case let .invalidRecipe(_, f, reason) = e { throw ExperimentError.invalidRecipe(path: path, field: f, reason: reason) }
            throw e
        } catch {
            throw ExperimentError.invalidRecipe(path: path, field: "(file)", reason: "is not a valid experiment recipe: \(TextLimits.firstLine("\(error)", limit: 400))")
        }
        try r.validate(path: path)
        return r
    }
}
