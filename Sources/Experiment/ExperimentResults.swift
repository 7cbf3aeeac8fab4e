import Foundation
import Training

/// One arm's metrics: language → metric name (`ppl`, `ppl_low`, `ppl_high`, `tokens`, `xquad_f1`,
/// `xquad_em`, `mgsm_acc`, …) → value.
public typealias ArmMetrics = [String: [String: Double]]

/// What training one arm cost and reached.
public struct TrainOutcome: Codable, Equatable, Sendable {
    public var trainableParameters: Int?
    /// Wall time of the optimizer steps.
    public var seconds: Double?
    /// Peak resident memory while the arm trained (model loading included), MB.
    public var peakMemoryMB: Double?
    /// Mean NLL of the last step's batch, before its update.
    public var finalLoss: Double?
    public var steps: Int?
    /// The rank the `lora` arm trained (resolved from `auto`).
    public var loraRank: Int?

    enum CodingKeys: String, CodingKey {
        case trainableParameters = "trainable_parameters", seconds, peakMemoryMB = "peak_memory_mb", finalLoss = "final_loss", steps
        case loraRank = "lora_rank"
    }

    public init(trainableParameters: Int? = nil, seconds: Double? = nil, peakMemoryMB: Double? = nil, finalLoss: Double? = nil, steps: Int? = nil,
                loraRank: Int? = nil) {
        self.trainableParameters = trainableParameters; self.seconds = seconds; self.peakMemoryMB = peakMemoryMB
        self.finalLoss = finalLoss; self.steps = steps; self.loraRank = loraRank
    }
}

/// A metric the report compares, and how its change against the base is expressed.
public struct MetricKind: Sendable {
    public let key: String
    public let label: String
    public let higherIsBetter: Bool
    /// Perplexity changes are relative (%), accuracies absolute (points).
    public let relative: Bool

    public static let all: [MetricKind] = [
        MetricKind(key: "ppl", label: "perplexity", higherIsBetter: false, relative: true),
        MetricKind(key: "xquad_f1", label: "XQuAD F1", higherIsBetter: true, relative: false),
        MetricKind(key: "xquad_em", label: "XQuAD EM", higherIsBetter: true, relative: false),
        MetricKind(key: "mgsm_acc", label: "MGSM accuracy", higherIsBetter: true, relative: false),
    ]

    /// Change of `x` against `base`: % for relative metrics, points (×100) for accuracies.
    public func change(_ x: Double, base b: Double) -> Double { relative ? 100 * (x - b) / b : 100 * (x - b) }
}

/// One trained model that was evaluated: an arm, or one draw of the random arm.
public struct ArmRun {
    public var arm: Arm
    /// The random draw's seed.
    public var seed: UInt64?
    public var metrics: ArmMetrics
    public var training: TrainOutcome?
    public var history: [StepMetrics]

    /// Column name: the arm, or `random-SEED` for a draw.
    public var name: String { seed.map { "\(arm.rawValue)-\($0)" } ?? arm.rawValue }

    public init(arm: Arm, seed: UInt64? = nil, metrics: ArmMetrics, training: TrainOutcome? = nil, history: [StepMetrics] = []) {
        self.arm = arm; self.seed = seed; self.metrics = metrics; self.training = training; self.history = history
    }
}

/// Mean and sample standard deviation (n − 1; nil for fewer than two values).
public struct Spread: Equatable, Sendable {
    public let mean: Double
    public let std: Double?
    public let values: [Double]

    public init(_ values: [Double]) {
        self.values = values
        mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        if values.count > 1 {
            let m = mean
            std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
        } else {
            std = nil
        }
    }
}

/// Everything the report shows: the base, every arm's runs, and their comparisons.
public struct ExperimentResults {
    public var model: String
    public var modelFingerprint: String
    /// Target language (listed first).
    public var language: String
    public var languages: [String]
    public var base: ArmMetrics
    /// Trained runs: `language`, each random draw, `lora`, `full`, in that order.
    public var runs: [ArmRun]

    public init(model: String, modelFingerprint: String, language: String, languages: [String], base: ArmMetrics, runs: [ArmRun]) {
        self.model = model; self.modelFingerprint = modelFingerprint; self.language = language
        self.languages = languages; self.base = base; self.runs = runs
    }

    /// The trained arms present, in order.
    public var arms: [Arm] { Arm.allCases.filter { a in runs.contains { $0.arm == a } } }

    public func runs(of arm: Arm) -> [ArmRun] { runs.filter { $0.arm == arm } }

    /// Metrics that the base has for some language, in report order.
    public var metricKinds: [MetricKind] {
        MetricKind.all.filter { m in languages.contains { base[$0]?[m.key] != nil } }
    }

    /// Value of a metric for an arm (spread over its runs: one run for every arm but `random`).
    public func value(_ arm: Arm, _ lang: String, _ m: MetricKind) -> Spread? {
        let v = runs(of: arm).compactMap { $0.metrics[lang]?[m.key] }
        return v.isEmpty ? nil : Spread(v)
    }

    /// Change against the base, per run, with its spread.
    public func change(_ arm: Arm, _ lang: String, _ m: MetricKind) -> Spread? {
        guard let b = base[lang]?[m.key] else { return nil }
        let v = runs(of: arm).compactMap { $0.metrics[lang]?[m.key] }.map { m.change($0, base: b) }
        return v.isEmpty ? nil : Spread(v)
    }

    /// Languages other than the target.
    public var otherLanguages: [String] { languages.filter { $0 != language } }

    /// Mean change over the non-target languages (the forgetting the method claims to avoid):
    /// the mean is taken per run, then spread over the runs.
    public func otherLanguagesChange(_ arm: Arm, _ m: MetricKind) -> Spread? {
        let langs = otherLanguages.filter { base[$0]?[m.key] != nil }
        guard !langs.isEmpty else { return nil }
        var perRun = [Double]()
        for r in runs(of: arm) {
            let c = langs.compactMap { l -> Double? in
                guard let b = base[l]?[m.key], let x = r.metrics[l]?[m.key] else { return nil }
                return m.change(x, base: b)
            }
            if c.count == langs.count { perRun.append(c.reduce(0, +) / Double(c.count)) }
        }
        return perRun.isEmpty ? nil : Spread(perRun)
    }

    /// The arm's trainable parameters (the same for every random draw).
    public func trainableParameters(_ arm: Arm) -> Int? {
        arm == .base ? 0 : runs(of: arm).compactMap { $0.training?.trainableParameters }.first
    }
}
