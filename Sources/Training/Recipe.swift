import Foundation
import ModelIO
import Models
import Yams

/// A training recipe (`recipes/*.yaml`). Every block has explicit keys and defaults; unknown keys
/// are errors; any value can be overridden with `--set block.key=value`.
public struct Recipe: Codable, Equatable {
    /// Default name, GGUF path or Hugging Face directory.
    public var model: String
    /// ISO code of the target language (e.g. `vi`).
    public var language: String
    public var data: DataSettings
    /// The neurons trained; with `lora`, the neurons the rank is matched to (`rank: auto`).
    public var neurons: NeuronSource
    /// Structures trained for each selected neuron (with `lora`: the matrices adapted in every layer).
    public var trainable: [String] = ["attn_q", "attn_k", "attn_v", "ffn_up", "ffn_down"]
    /// Train a LoRA adapter on the `trainable` matrices of every layer instead of the neurons' rows/columns.
    public var lora: LoRASettings?
    public var optimizer = OptimizerSettings()
    public var schedule = ScheduleSettings()
    public var batch = BatchSettings()
    public var epochs: Int = 1
    /// Run directory.
    public var output: String
    /// Save resumable state every this many optimizer steps (0 = only at the end and on interrupt).
    public var checkpointEvery: Int = 10
    /// Memory the run may plan for: `auto` (what the machine has) or a size (`8G`, `512M`). When
    /// saving every layer's activations would not fit, each layer is recomputed in the backward
    /// pass instead (same numbers, one more forward pass of compute).
    public var memoryBudget: String = Recipe.defaultMemoryBudget
    public static let defaultMemoryBudget = "auto"

    public struct DataSettings: Codable, Equatable {
        /// A dump / JSONL / text file, or a data-set name from the data root (e.g. `wiki-vi`).
        public var train: String
        public var documents: Int = 400
        public var heldout: Int = 50
        public var seqLen: Int = 512
        public var seed: UInt64 = 1
        public var minChars: Int = 200
        /// Use at most this many tokens from the start of each document (0 = all); bounds quick runs.
        public var maxTokensPerDocument: Int = 0

        enum CodingKeys: String, CodingKey, CaseIterable {
            case train, documents, heldout, seqLen = "seq_len", seed, minChars = "min_chars"
            case maxTokensPerDocument = "max_tokens_per_document"
        }

        public init(train: String) { self.train = train }

        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "data")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            train = try c.decode(String.self, forKey: .train)
            documents = try c.decodeIfPresent(Int.self, forKey: .documents) ?? 400
            heldout = try c.decodeIfPresent(Int.self, forKey: .heldout) ?? 50
            seqLen = try c.decodeIfPresent(Int.self, forKey: .seqLen) ?? 512
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
            minChars = try c.decodeIfPresent(Int.self, forKey: .minChars) ?? 200
            maxTokensPerDocument = try c.decodeIfPresent(Int.self, forKey: .maxTokensPerDocument) ?? 0
        }
    }

    /// Where the trained neurons come from: a neuron-set file, or random neurons matching one.
    public struct NeuronSource: Codable, Equatable {
        public var file: String?
        public var random: RandomNeurons?

        public struct RandomNeurons: Codable, Equatable {
            public var match: String
            public var seed: UInt64 = 1
            enum CodingKeys: String, CodingKey, CaseIterable { case match, seed }
            public init(match: String, seed: UInt64) { self.match = match; self.seed = seed }
            public init(from decoder: Decoder) throws {
                try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "neurons.random")
                let c = try decoder.container(keyedBy: CodingKeys.self)
                match = try c.decode(String.self, forKey: .match)
                seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
            }
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case file, random }
        public init(file: String? = nil, random: RandomNeurons? = nil) { self.file = file; self.random = random }
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "neurons")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            file = try c.decodeIfPresent(String.self, forKey: .file)
            random = try c.decodeIfPresent(RandomNeurons.self, forKey: .random)
        }
    }

    public struct ScheduleSettings: Codable, Equatable {
        /// Fraction of steps with linear warm-up from 0.
        public var warmupRatio: Double = 0.05
        /// `cosine` (to 0 at the last step) or `constant`.
        public var decay: String = "cosine"
        enum CodingKeys: String, CodingKey, CaseIterable { case warmupRatio = "warmup_ratio", decay }
        public init() {}
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "schedule")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            warmupRatio = try c.decodeIfPresent(Double.self, forKey: .warmupRatio) ?? 0.05
            decay = try c.decodeIfPresent(String.self, forKey: .decay) ?? "cosine"
        }
    }

    public struct BatchSettings: Codable, Equatable {
        /// Sequences per micro-batch.
        public var size: Int = 8
        /// Micro-batches per optimizer step.
        public var accumulation: Int = 4
        enum CodingKeys: String, CodingKey, CaseIterable { case size, accumulation }
        public init() {}
        public init(from decoder: Decoder) throws {
            try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "batch")
            let c = try decoder.container(keyedBy: CodingKeys.self)
            size = try c.decodeIfPresent(Int.self, forKey: .size) ?? 8
            accumulation = try c.decodeIfPresent(Int.self, forKey: .accumulation) ?? 4
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, language, data, neurons, trainable, lora, optimizer, schedule, batch, epochs, output
        case checkpointEvery = "checkpoint_every", memoryBudget = "memory_budget"
    }

    public init(model: String, language: String, data: DataSettings, neurons: NeuronSource, output: String) {
        self.model = model; self.language = language; self.data = data; self.neurons = neurons; self.output = output
    }

    public init(from decoder: Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.allCases.map(\.rawValue), block: "recipe")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        language = try c.decode(String.self, forKey: .language)
        data = try c.decode(DataSettings.self, forKey: .data)
        neurons = try c.decodeIfPresent(NeuronSource.self, forKey: .neurons) ?? NeuronSource()
        trainable = try c.decodeIfPresent([String].self, forKey: .trainable) ?? ["attn_q", "attn_k", "attn_v", "ffn_up", "ffn_down"]
        try c.update(&lora, .lora)
        optimizer = try c.decodeIfPresent(OptimizerSettings.self, forKey: .optimizer) ?? OptimizerSettings()
        schedule = try c.decodeIfPresent(ScheduleSettings.self, forKey: .schedule) ?? ScheduleSettings()
        batch = try c.decodeIfPresent(BatchSettings.self, forKey: .batch) ?? BatchSettings()
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs) ?? 1
        output = try c.decode(String.self, forKey: .output)
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? 10
        memoryBudget = try c.decodeIfPresent(String.self, forKey: .memoryBudget) ?? Recipe.defaultMemoryBudget
    }

    /// The trained tensors, parsed.
    public func trainableTensors(path: String) throws -> [TrainableTensor] {
        try trainable.map { name in
            guard let t = TrainableTensor(rawValue: name) else {
                throw TrainingError.invalidRecipe(path: path, field: "trainable",
                                                  reason: "lists '\(name)' (allowed: \(TrainableTensor.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return t
        }
    }

    /// Checks values that decoding cannot.
    public func validate(path: String) throws {
        func bad(_ f: String, _ r: String) -> TrainingError { .invalidRecipe(path: path, field: f, reason: r) }
        let sources = (neurons.file != nil ? 1 : 0) + (neurons.random != nil ? 1 : 0)
        let needsNeurons = lora.map { $0.rank == .auto } ?? true
        if sources > 1 || (sources == 0 && needsNeurons) {
            throw bad("neurons", lora == nil ? "must have exactly one of 'file' or 'random'"
                                             : "must have exactly one of 'file' or 'random' (the neurons lora.rank auto is matched to), or none with a fixed lora.rank")
        }
        if let p = lora?.problem() { throw bad(p.field, p.reason) }
        if data.documents < 1 { throw bad("data.documents", "must be at least 1") }
        if data.heldout < 0 { throw bad("data.heldout", "must be 0 or more") }
        if data.seqLen < 2 { throw bad("data.seq_len", "must be at least 2") }
        if data.maxTokensPerDocument < 0 { throw bad("data.max_tokens_per_document", "must be 0 (all) or more") }
        if batch.size < 1 || batch.accumulation < 1 { throw bad("batch", "size and accumulation must be at least 1") }
        if epochs < 1 { throw bad("epochs", "must be at least 1") }
        if optimizer.betas.count != 2 || !optimizer.betas.allSatisfy({ (0..<1).contains($0) }) {
            throw bad("optimizer.betas", "must be two numbers in [0, 1)")
        }
        if optimizer.lr <= 0 { throw bad("optimizer.lr", "must be positive") }
        if !(0...1).contains(schedule.warmupRatio) { throw bad("schedule.warmup_ratio", "must be between 0 and 1") }
        if !["cosine", "constant"].contains(schedule.decay) { throw bad("schedule.decay", "must be cosine or constant") }
        if checkpointEvery < 0 { throw bad("checkpoint_every", "must be 0 or more") }
        if MemoryPlan.parseBudget(memoryBudget) == nil { throw bad("memory_budget", "must be auto or a size such as 8G or 512M, got '\(memoryBudget)'") }
        _ = try trainableTensors(path: path)
    }

    /// Parses YAML text, applying `overrides` (`block.key=value`, value in YAML syntax) first.
    public static func parse(yaml: String, path: String, overrides: [String] = []) throws -> Recipe {
        if let p = YAMLInput.problem(in: yaml, maxBytes: maxBytes) {
            throw TrainingError.invalidRecipe(path: path, field: "(file)", reason: p)
        }
        let tree: Any?
        do { tree = try Yams.load(yaml: yaml) } catch {
            throw TrainingError.invalidRecipe(path: path, field: "(file)", reason: "is not valid YAML: \(TextLimits.firstLine("\(error)"))")
        }
        guard var root = tree as? [String: Any] else {
            throw TrainingError.invalidRecipe(path: path, field: "(file)", reason: "must be a YAML mapping")
        }
        for o in overrides { try apply(override: o, to: &root, path: path) }
        let text = try Yams.dump(object: root)
        let recipe: Recipe
        // Unknown-key errors come from the blocks' decoders, which do not know the file.
        func located(_ e: TrainingError) -> TrainingError {
            if case let .unknownRecipeKey(block, key, allowed) = e {
                return .invalidRecipe(path: path, field: block == "recipe" ? "(top level)" : block,
                                      reason: "has unknown key '\(TextLimits.shown(key))' (allowed: \(allowed.joined(separator: ", ")))")
            }
            return e
        }
        do { recipe = try YAMLDecoder().decode(Recipe.self, from: text) } catch let e as TrainingError {
            throw located(e)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw TrainingError.invalidRecipe(path: path, field: (ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."), reason: "is required")
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw TrainingError.invalidRecipe(path: path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "must be of type \(type)")
        } catch let DecodingError.dataCorrupted(ctx) {
            // Yams wraps errors thrown by our own decoders (unknown keys) in a generic one.
            if let inner = ctx.underlyingError as? TrainingError { throw located(inner) }
            throw TrainingError.invalidRecipe(path: path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: TextLimits.firstLine(ctx.debugDescription))
        } catch let DecodingError.valueNotFound(type, ctx) {
            throw TrainingError.invalidRecipe(path: path, field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "must be a \(type), not empty")
        } catch {
            throw TrainingError.invalidRecipe(path: path, field: "(file)", reason: TextLimits.firstLine(error.localizedDescription))
        }
        try recipe.validate(path: path)
        return recipe
    }

    /// Largest recipe file accepted (the project's are under 2 kB).
    public static let maxBytes = 1 << 20

    public static func load(url: URL, overrides: [String] = []) throws -> Recipe {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw TrainingError.invalidRecipe(path: url.path, field: "(file)", reason: "cannot be read as UTF-8 text")
        }
        return try parse(yaml: text, path: url.path, overrides: overrides)
    }

    static func apply(override: String, to root: inout [String: Any], path file: String) throws {
        guard let eq = override.firstIndex(of: "=") else { throw TrainingError.badOverride(override, reason: "missing '='") }
        let path = override[..<eq].split(separator: ".").map(String.init)
        let raw = String(override[override.index(after: eq)...])
        guard !path.isEmpty else { throw TrainingError.badOverride(override, reason: "empty key") }
        if let p = YAMLInput.problem(in: raw, maxBytes: maxBytes) { throw TrainingError.badOverride(override, reason: "the value \(p)") }
        let value: Any = (try? Yams.load(yaml: raw)).flatMap { $0 } ?? raw
        func set(_ dict: inout [String: Any], _ keys: ArraySlice<String>) throws {
            let k = keys.first!
            if keys.count == 1 { dict[k] = value; return }
            var child = (dict[k] as? [String: Any]) ?? [:]
            if dict[k] != nil && !(dict[k] is [String: Any]) {
                throw TrainingError.badOverride(override, reason: "'\(k)' is not a block in \(file)")
            }
            try set(&child, keys.dropFirst())
            dict[k] = child
        }
        try set(&root, path[...])
    }

    /// The recipe as YAML (recorded in deltas and run directories).
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }
}
