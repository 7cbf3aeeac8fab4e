import Experiment
import Foundation
@testable import LangNeuronCLI
import Models
import Neurons
import TestSupport
import Training
import XCTest

/// Records the steps the runner asks for and answers with made-up but consistent results, so the
/// orchestration, the statistics and the report can be checked without a model.
final class FakeBackend: ExperimentBackend {
    var detected = [String]()
    var trained = [TrainRequest]()
    var evaluated = [EvaluationRequest]()
    /// Perplexity of each column by language.
    var ppl: [String: [String: Double]] = [:]

    func checkEvaluation(_ request: EvaluationRequest, notYetWritten: Set<String>) throws {}

    func detect(_ request: DetectRequest) throws {
        detected.append(request.language)
        let sizes = StructureSizes(layers: 2, perLayer: [.attnQ: 4, .attnK: 2, .attnV: 2, .attnOutput: 4, .ffn: 8])
        var m = LayerMask()
        m[.ffn] = request.language == "en" ? [0] : [1, 5]
        m[.attnQ] = [2]
        let set = NeuronSet(fingerprint: "f00d", language: request.language, sizes: sizes, layers: [0: m, 1: m])
        try set.write(to: URL(fileURLWithPath: request.output))
    }

    func train(_ request: TrainRequest) throws -> TrainOutcome {
        trained.append(request)
        let dir = URL(fileURLWithPath: request.output)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let full = request.overrides.contains { $0.hasSuffix("neurons-all.json") }
        var lines = ""
        for s in 1...3 {
            lines += "{\"epoch\":1,\"grad_norm\":1,\"loss\":\(4.0 - Double(s) * (full ? 0.3 : 0.2)),\"lr\":0.001,\"seconds\":1,\"step\":\(s),\"tokens\":10,\"tokens_per_s\":10}\n"
        }
        try lines.write(to: dir.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        if request.overrides.contains(where: { $0.hasPrefix("lora.rank=") }) {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("adapter"), withIntermediateDirectories: true)
            try Data("adapter".utf8).write(to: dir.appendingPathComponent("adapter/adapter_model.safetensors"))
            return TrainOutcome(trainableParameters: 120, seconds: 3, peakMemoryMB: 500, finalLoss: 3.4, steps: 3, loraRank: 2)
        }
        try Data("delta".utf8).write(to: dir.appendingPathComponent("delta.safetensors"))
        return TrainOutcome(trainableParameters: full ? 1000 : 100, seconds: 3, peakMemoryMB: full ? 900 : 500,
                            finalLoss: full ? 3.1 : 3.4, steps: 3)
    }

    func evaluate(_ request: EvaluationRequest) throws -> (columns: [(String, ArmMetrics)], fingerprint: String) {
        evaluated.append(request)
        let names = ["base"] + request.arms.map(\.name)
        return (names.map { n in
            (n, Dictionary(uniqueKeysWithValues: request.languages.map { l in
                let p = ppl[n]?[l] ?? 10
                return (l, ["ppl": p, "ppl_low": p - 0.5, "ppl_high": p + 0.5, "tokens": 100])
            }))
        }, "f00d")
    }

    func log(_ line: String) {}
}

final class ExperimentTests: XCTestCase {
    var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func temp(_ name: String) throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    func testShippedRecipesParse() throws {
        let quick = try ExperimentRecipe.load(root.appendingPathComponent("recipes/quick.yaml").path)
        XCTAssertEqual(quick.language, "vi")
        XCTAssertEqual(quick.detect.excludeEnglish?.corpus, "plnd-en")
        XCTAssertEqual(quick.evaluate.languages, ["vi", "en"])
        XCTAssertEqual(quick.trainedArms, [.language, .random, .lora, .full])
        XCTAssertEqual(quick.lora.rank, .auto)
        XCTAssertEqual(quick.randomSeeds, [1, 2, 3])
        let paper = try ExperimentRecipe.load(root.appendingPathComponent("recipes/vi-enhance.yaml").path)
        XCTAssertEqual(paper.evaluate.languages, ["vi", "en", "ja"])
        XCTAssertEqual(paper.evaluate.tasks, ["ppl"])
        XCTAssertEqual(paper.trainOverrides, ["data.documents=150", "data.heldout=50", "data.max_tokens_per_document=512"])
        XCTAssertEqual(paper.trainedArms, [.language, .random, .lora, .full])
    }

    func testDefaultsUnknownKeysAndArms() throws {
        let base = "model: m\nlanguage: vi\noutput: o\ntrain: t.yaml\n"
        func parse(_ s: String) throws -> ExperimentRecipe { try ExperimentRecipe.parse(yaml: s, path: "x.yaml") }
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c, topk: 3}\n")) { e in
            XCTAssertTrue(e.localizedDescription.contains("'topk'"), e.localizedDescription)
        }
        XCTAssertThrowsError(try parse(base)) { e in XCTAssertTrue(e.localizedDescription.contains("detect"), e.localizedDescription) }
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c}\narms: [language, lucky]\n")) { e in
            let m = e.localizedDescription
            XCTAssertTrue(m.contains("x.yaml") && m.contains("'lucky'") && m.contains("full"), m)
        }
        XCTAssertEqual(try parse(base + "detect: {corpus: c}\narms: [language, lora]\n").trainedArms, [.language, .lora])
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c}\nlora: {rank: 0}\n")) { e in
            XCTAssertTrue(e.localizedDescription.contains("lora.rank"), e.localizedDescription)
        }
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c}\nlora: {alpha: -1}\n")) { e in
            XCTAssertTrue(e.localizedDescription.contains("lora.alpha"), e.localizedDescription)
        }
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c}\nlora: {rank: 4, dropout: 0.1}\n")) { e in
            XCTAssertTrue(e.localizedDescription.contains("'dropout'"), e.localizedDescription)
        }
        XCTAssertThrowsError(try parse(base + "detect: {corpus: c}\nrandom_draws: 0\n")) { e in
            XCTAssertTrue(e.localizedDescription.contains("random_draws"), e.localizedDescription)
        }
        let ok = try parse(base + "detect: {corpus: c, exclude_english: {documents: 4}}\nlora: {rank: 8}\n")
        XCTAssertEqual(ok.detect.documents, 16)
        XCTAssertEqual(ok.detect.excludeEnglish?.corpus, "plnd-en")
        XCTAssertEqual(ok.detect.excludeEnglish?.documents, 4)
        XCTAssertEqual(ok.arms, [.language, .random])
        XCTAssertEqual(ok.randomDraws, 3)
        XCTAssertEqual(ok.lora.rank, .fixed(8))
        XCTAssertEqual(ok.lora.alpha, 16, "default alpha")
        XCTAssertEqual(ok.evaluate.documents, 12)
    }

    func testSpreadIsSampleStandardDeviation() {
        let s = Spread([1, 2, 3, 4])
        XCTAssertEqual(s.mean, 2.5, accuracy: 1e-12)
        XCTAssertEqual(s.std!, 1.2909944487358056, accuracy: 1e-12) // sqrt(5/3)
        XCTAssertNil(Spread([7]).std, "one draw has no spread")
    }

    /// Each arm's peak is its own: after a reset the peak no longer counts memory freed before it.
    func testPeakMemoryResets() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/clear_refs"), "Linux only")
        let mb = 300
        do {
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: mb << 20)
            p.initialize(repeating: 1, count: mb << 20) // touched, so resident
            defer { p.deallocate() }
        }
        let before = PeakMemory.megabytes()
        XCTAssertTrue(PeakMemory.reset())
        let after = PeakMemory.megabytes()
        XCTAssertLessThan(after, before - Double(mb) / 2, "peak \(before) MB, after reset \(after) MB")
    }

    func testStepsAreReusedOnlyWithTheirSettings() throws {
        let dir = try temp("steps")
        let file = dir.appendingPathComponent("steps.json")
        var steps = try ExperimentSteps(url: file)
        XCTAssertFalse(try steps.reuse("language", settings: ["a"], exists: false), "nothing to reuse")
        try steps.record("language", settings: ["recipe.yaml", "--set", "output=\(dir.path)/language", "lr 1"])
        var again = try ExperimentSteps(url: file)
        XCTAssertTrue(try again.reuse("language", settings: ["recipe.yaml", "--set", "output=\(dir.path)/language", "lr 1"], exists: true))
        XCTAssertThrowsError(try again.reuse("language", settings: ["recipe.yaml", "--set", "output=\(dir.path)/language", "lr 2"], exists: true)) { e in
            let m = e.localizedDescription
            XCTAssertTrue(m.contains("language") && m.contains("lr 1") && m.contains("lr 2") && m.contains("Delete it"), m)
        }
        let moved = FileManager.default.temporaryDirectory.appendingPathComponent("steps-moved-\(UUID().uuidString)")
        try FileManager.default.moveItem(at: dir, to: moved)
        var there = try ExperimentSteps(url: moved.appendingPathComponent("steps.json"))
        XCTAssertTrue(try there.reuse("language", settings: ["recipe.yaml", "--set", "output=\(moved.path)/language", "lr 1"], exists: true))
        XCTAssertTrue(try there.reuse("random", settings: ["x"], exists: true), "no record (an older run): reused")
        var reread = try ExperimentSteps(url: moved.appendingPathComponent("steps.json"))
        XCTAssertThrowsError(try reread.reuse("random", settings: ["y"], exists: true))
        try "[1]".write(to: moved.appendingPathComponent("steps.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentSteps(url: moved.appendingPathComponent("steps.json")))
    }

    /// Writes a recipe into `dir` and runs it with `backend`.
    func runFake(_ dir: URL, _ backend: FakeBackend, draws: Int = 3) throws -> ExperimentResults {
        let train = dir.appendingPathComponent("train.yaml")
        try "model: m\n".write(to: train, atomically: true, encoding: .utf8)
        let recipePath = dir.appendingPathComponent("exp.yaml").path
        try """
        model: m
        language: vi
        output: \(dir.appendingPathComponent("out").path)
        detect: {corpus: c, exclude_english: {corpus: e}}
        train: \(train.path)
        arms: [base, language, random, lora, full]
        random_draws: \(draws)
        evaluate: {languages: [vi, en, ja]}
        """.write(toFile: recipePath, atomically: true, encoding: .utf8)
        let r = try ExperimentRecipe.load(recipePath)
        return try ExperimentRunner(recipe: r, recipePath: recipePath, backend: backend).run()
    }

    func fakeResults() -> FakeBackend {
        let b = FakeBackend()
        b.ppl = ["base": ["vi": 20, "en": 10, "ja": 30], "language": ["vi": 18, "en": 10, "ja": 30.3],
                 "random-1": ["vi": 19.8, "en": 10.1, "ja": 30], "random-2": ["vi": 19.6, "en": 10, "ja": 30],
                 "random-3": ["vi": 19.4, "en": 9.9, "ja": 30], "lora": ["vi": 18.5, "en": 10, "ja": 30],
                 "full": ["vi": 17, "en": 11, "ja": 33]]
        return b
    }

    /// Every arm is trained on the same recipe with its own neurons; the report has the mean and
    /// spread of the random draws, each draw, the trainable parameters, the other-language summary.
    func testRunnerTrainsEveryArmAndReportsSpread() throws {
        let dir = try temp("exp")
        let b = fakeResults()
        let results = try runFake(dir, b)
        XCTAssertEqual(b.detected, ["en", "vi"])
        XCTAssertEqual(b.trained.map { URL(fileURLWithPath: $0.output).lastPathComponent }, ["language", "random-1", "random-2", "random-3", "lora", "full"])
        XCTAssertTrue(b.trained.allSatisfy { $0.overrides.contains("model=m") && $0.overrides.contains("language=vi") })
        XCTAssertTrue(b.trained[2].overrides.contains("neurons.random.seed=2"))
        // lora: the language set (what rank auto is matched to), the recipe's rank and alpha.
        XCTAssertTrue(b.trained[4].overrides.contains("neurons.file=\(dir.appendingPathComponent("out/neurons-vi.json").path)"))
        XCTAssertTrue(b.trained[4].overrides.contains("lora.rank=auto") && b.trained[4].overrides.contains("lora.alpha=16.0"), "\(b.trained[4].overrides)")
        XCTAssertEqual(b.evaluated.first?.arms.first { $0.name == "lora" }?.delta, dir.appendingPathComponent("out/lora/adapter").path)
        XCTAssertEqual(b.evaluated.first?.languages, ["vi", "en", "ja"])
        XCTAssertEqual(b.evaluated.first?.corpora["vi"], dir.appendingPathComponent("out/language/heldout.jsonl.zst").path)

        // The full arm's set: every neuron of every structure.
        let all = try NeuronSet.load(url: dir.appendingPathComponent("out/neurons-all.json"))
        XCTAssertEqual(all.totalCount, 2 * (4 + 2 + 2 + 4 + 8))

        let ppl = MetricKind.all[0]
        let vi = try XCTUnwrap(results.change(.random, "vi", ppl))
        XCTAssertEqual(vi.values.count, 3)
        XCTAssertEqual(vi.mean, -2.0, accuracy: 1e-9) // (-1 - 2 - 3) / 3 %
        XCTAssertEqual(vi.std!, 1.0, accuracy: 1e-9)
        XCTAssertEqual(results.change(.language, "vi", ppl)!.mean, -10, accuracy: 1e-9)
        // Other languages: language arm (0 + 1) / 2 = +0.5%; full (10 + 10) / 2 = +10%; random per draw 0.5, 0, -0.5.
        XCTAssertEqual(results.otherLanguagesChange(.language, ppl)!.mean, 0.5, accuracy: 1e-9)
        XCTAssertEqual(results.otherLanguagesChange(.full, ppl)!.mean, 10, accuracy: 1e-9)
        XCTAssertEqual(results.otherLanguagesChange(.random, ppl)!.mean, 0, accuracy: 1e-9)
        XCTAssertEqual(results.otherLanguagesChange(.random, ppl)!.std!, 0.5, accuracy: 1e-9)

        let out = dir.appendingPathComponent("out")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        let arms = try XCTUnwrap(json["arms"] as? [String: [String: [String: Double]]])
        XCTAssertEqual(Set(arms.keys), ["base", "language", "random", "lora", "full"])
        XCTAssertEqual(arms["random"]?["vi"]?["ppl"] ?? 0, 19.6, accuracy: 1e-9)
        XCTAssertEqual(arms["random"]?["vi"]?["ppl_std"] ?? 0, 0.2, accuracy: 1e-9)
        XCTAssertEqual((json["random_draws"] as? [[String: Any]])?.compactMap { $0["seed"] as? Int }, [1, 2, 3])
        let params = try XCTUnwrap(json["trainable_parameters"] as? [String: Int])
        XCTAssertEqual(params, ["base": 0, "language": 100, "random": 100, "lora": 120, "full": 1000])
        let other = try XCTUnwrap((json["other_languages"] as? [String: Any])?["mean_change"] as? [String: [String: Double]])
        XCTAssertEqual(other["full"]?["ppl"] ?? 0, 10, accuracy: 1e-9)

        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| vi | perplexity | 20.000 | 18.000 | 19.600 ± 0.200 | 18.500 | 17.000 | -10.00% | -2.00% ± 1.00 | -7.50% | -15.00% |"), md)
        XCTAssertTrue(md.contains("| other languages (en, ja) | perplexity, mean Δ |"), md)
        XCTAssertTrue(md.contains("| full | 1000 | 3s | 900 MB | 3.1000 |"), md)
        XCTAssertTrue(md.contains("| lora (rank 2) | 120 | 3s | 500 MB | 3.4000 |"), md)
        for step in ["detect en", "detect vi", "train language", "train random-3", "train lora", "train full", "evaluate 7 models", "whole run"] {
            XCTAssertTrue(md.contains("| \(step) | "), "wall time of \(step): \(md)")
        }
        let stepSeconds = try XCTUnwrap(json["step_seconds"] as? [[String: Any]])
        XCTAssertEqual(stepSeconds.compactMap { $0["step"] as? String },
                       ["detect en", "detect vi", "train language", "train random-1", "train random-2", "train random-3", "train lora", "train full", "evaluate 7 models"])

        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
        // Self-contained: the only URLs are SVG namespaces.
        let urls = html.components(separatedBy: "http").count - 1
        XCTAssertEqual(urls, html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1, "no external resources")
        XCTAssertFalse(html.contains("src=") || html.contains("<link") || html.contains("@import"))
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3, "loss, change, neurons")
        XCTAssertTrue(html.contains("random-3") && html.contains("f00d"), "loss curve of every draw; fingerprint")
        XCTAssertTrue(html.contains("lora/adapter/adapter_model.safetensors"), "the adapter's fingerprint")
        XCTAssertTrue(html.contains("<h2>Wall time of the steps this run did</h2>") && html.contains("<td>train random-2</td>"), "step times")

        // A rerun reuses every step.
        let again = fakeResults()
        _ = try runFake(dir, again)
        XCTAssertEqual(again.detected, [])
        XCTAssertEqual(again.trained.count, 0)
        XCTAssertEqual(again.evaluated.count, 1)
    }

    /// The page renders in a real browser (headless Chromium) without errors; the PNG is kept
    /// next to the page for a look. Skipped without Chromium unless LANGNEURON_REQUIRE_BROWSER=1.
    func testReportRendersInChromium() throws {
        let script = root.appendingPathComponent("scripts/render-html.sh").path
        let hasBrowser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].contains { FileManager.default.isExecutableFile(atPath: $0) }
        if ProcessInfo.processInfo.environment["LANGNEURON_REQUIRE_BROWSER"] != "1" {
            try XCTSkipUnless(hasBrowser, "no chromium (Debian package `chromium`)")
        }
        let dir = try temp("exp-html")
        _ = try runFake(dir, fakeResults())
        let page = dir.appendingPathComponent("out/report.html")
        let png = dir.appendingPathComponent("out/report.png")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, page.path, png.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, log)
        let bytes = try Data(contentsOf: png)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG")
        XCTAssertGreaterThan(bytes.count, 20_000, "a rendered page, not a blank one")
        print("rendered \(png.path)")
    }

    /// The whole experiment through the tool's own commands (`CommandBackend`: detect, train, eval)
    /// on the tiny Llama checkpoint with the Vietnamese sample: the language and lora arms on the
    /// same documents and schedule (rank auto: the parameters closest to the language arm's), the
    /// evaluation with the adapter merged in memory, the report; a rerun reuses every step.
    func testLoRAArmEndToEndOnATinyModel() throws {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        let dir = try temp("exp-lora")
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = dir.appendingPathComponent("train.yaml"), recipePath = dir.appendingPathComponent("exp.yaml").path
        try """
        model: x
        language: vi
        data: {train: wiki-vi, documents: 6, heldout: 3, seq_len: 32, seed: 1, min_chars: 200, max_tokens_per_document: 64}
        neurons: {file: x}
        optimizer: {lr: 1.0e-2}
        schedule: {warmup_ratio: 0, decay: cosine}
        batch: {size: 2, accumulation: 1}
        output: x
        checkpoint_every: 2
        """.write(to: train, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("out")
        try """
        model: \(SharedData.url("reference/tiny/llama/model").path)
        language: vi
        output: \(out.path)
        detect: {corpus: wiki-vi, documents: 2, max_tokens: 64, top_k_attn: 8, top_k_ffn: 32}
        train: \(train.path)
        arms: [base, language, lora]
        lora: {rank: auto, alpha: 8}
        evaluate: {languages: [vi, en], tasks: [ppl], documents: 3, max_tokens: 64}
        """.write(toFile: recipePath, atomically: true, encoding: .utf8)
        let run = { try ExperimentRunner(recipe: try ExperimentRecipe.load(recipePath), recipePath: recipePath, backend: CommandBackend()).run() }
        let results = try run()
        XCTAssertEqual(results.arms, [.language, .lora])
        let language = try XCTUnwrap(results.runs(of: .language).first), lora = try XCTUnwrap(results.runs(of: .lora).first)
        let langParams = try XCTUnwrap(results.trainableParameters(.language)), loraParams = try XCTUnwrap(results.trainableParameters(.lora))
        let rank = try XCTUnwrap(lora.training?.loraRank)
        XCTAssertGreaterThan(rank, 1, "enough neurons that auto is not the minimum")
        XCTAssertEqual(loraParams % rank, 0)
        let perRank = loraParams / rank
        for other in [rank - 1, rank + 1] where other >= 1 {
            XCTAssertLessThanOrEqual(abs(loraParams - langParams), abs(other * perRank - langParams), "rank \(rank) is the closest")
        }
        // Same documents and schedule; both start from the base model (delta zero, B zero).
        XCTAssertEqual(lora.history.map(\.tokens), language.history.map(\.tokens))
        XCTAssertEqual(lora.history.map(\.lr), language.history.map(\.lr))
        XCTAssertEqual(try XCTUnwrap(lora.history.first?.loss), try XCTUnwrap(language.history.first?.loss), accuracy: 1e-6)
        XCTAssertLessThan(try XCTUnwrap(lora.training?.finalLoss), try XCTUnwrap(lora.history.first?.loss))

        // The adapter, and its evaluation merged in memory.
        let adapter = out.appendingPathComponent("lora/adapter")
        let cfg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: adapter.appendingPathComponent("adapter_config.json"))) as? [String: Any])
        XCTAssertEqual(cfg["r"] as? Int, rank)
        XCTAssertEqual(cfg["lora_alpha"] as? Int, 8)
        let ppl = MetricKind.all[0]
        let change = try XCTUnwrap(results.change(.lora, "vi", ppl)).mean
        XCTAssertNotEqual(change, 0, "the evaluation used the adapter")
        // The paired interval of the change: around the table's change (to its two decimals' rounding, 1e-9).
        let vi = try XCTUnwrap(lora.metrics["vi"])
        let paired = try XCTUnwrap(vi["ppl_change"]), low = try XCTUnwrap(vi["ppl_change_low"]), high = try XCTUnwrap(vi["ppl_change_high"])
        XCTAssertEqual(paired, change, accuracy: 1e-9)
        XCTAssertTrue(low <= paired && paired <= high && low < high, "\(low) \(paired) \(high)")

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as? [String: Any])
        XCTAssertNotNil((json["arms"] as? [String: Any])?["lora"])
        XCTAssertEqual((json["trainable_parameters"] as? [String: Int])?["lora"], loraParams)
        XCTAssertEqual(((json["training"] as? [String: Any])?["lora"] as? [String: Any])?["lora_rank"] as? Int, rank)
        let md = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(md.contains("| lora (rank \(rank)) | \(loraParams) |"), md)
        XCTAssertTrue(md.contains("the lora arm trains a rank \(rank) (auto"), md)
        XCTAssertTrue(md.contains("## Perplexity change against the base, paired 95% bootstrap intervals"), md)
        XCTAssertTrue(md.contains(ExperimentReport.signed(paired, decimals: 2) + "% [" + ExperimentReport.signed(low, decimals: 2) + ", "), md)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("lora/adapter/adapter_model.safetensors"), "the adapter's fingerprint")
        XCTAssertTrue(try String(contentsOf: out.appendingPathComponent("loss.svg"), encoding: .utf8).contains(">lora (left axis)<"), "a loss curve for lora")

        // A rerun trains nothing again.
        let weights = adapter.appendingPathComponent("adapter_model.safetensors")
        let made = try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date
        let again = try run()
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: weights.path)[.modificationDate] as? Date, made)
        XCTAssertEqual(again.runs(of: .lora).first?.training?.loraRank, rank)
        XCTAssertEqual(again.change(.lora, "vi", ppl)?.mean, change)
    }
}
