import Corpus
import Foundation
import ModelIO
import Models
import Neurons
import Tokenizers
@testable import Training
import XCTest

/// Seeded mutations (truncations, byte flips, huge or negative counts, deleted, duplicated and
/// nested spans) of one small valid file per format, each fed through the same front door the
/// commands use. A case passes when it returns normally or throws an error whose message names
/// the file; a trap (overflow, out-of-range index, stack overflow, allocation failure) ends the
/// test process, which fails the suite. `FUZZ_CASES` (default 150 per format) and `FUZZ_SEED`
/// (default 1) select the cases; the seed and case number of a failure are printed.
final class FuzzTests: XCTestCase {
    var dir: URL!
    static let cases = Int(ProcessInfo.processInfo.environment["FUZZ_CASES"] ?? "") ?? 150
    static let seed = UInt64(ProcessInfo.processInfo.environment["FUZZ_SEED"] ?? "") ?? 1

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    struct Outcome {
        var accepted = 0, rejected = 0
        var badMessages = [String]()
    }

    /// Runs `cases` mutations of `base`: each is written to `target`, then `body` runs.
    /// `mentions` is the name every error message must contain.
    @discardableResult
    func fuzz(_ format: String, base: Data, target: URL, text: Bool, headerBytes: Int? = nil, mentions: String? = nil,
              line: UInt = #line, _ body: () throws -> Void) throws -> Outcome {
        // The unmutated file must load: otherwise every case is rejected for the same reason.
        try base.write(to: target)
        XCTAssertNoThrow(try body(), "\(format): the unmutated fixture must load", line: line)
        var rng = SplitMix64(seed: Self.seed &* 0x100_0000 &+ UInt64(truncatingIfNeeded: format.hashValueStable))
        var out = Outcome()
        let name = mentions ?? target.lastPathComponent
        for i in 0..<Self.cases {
            let m = Mutator.mutate(Array(base), text: text, headerBytes: headerBytes ?? base.count, rng: &rng)
            try Data(m.bytes).write(to: target)
            // Printed before the case runs, so that a trap leaves the case that caused it in the log.
            if ProcessInfo.processInfo.environment["FUZZ_VERBOSE"] != nil { print("fuzz \(format) seed \(Self.seed) case \(i): \(m.description)") }
            do {
                try body()
                out.accepted += 1
            } catch {
                out.rejected += 1
                let msg = error.localizedDescription
                if !msg.contains(name) || msg.contains("\n") || msg.isEmpty {
                    out.badMessages.append("case \(i) (\(m.description)): \(msg)")
                }
            }
        }
        print("fuzz \(format): \(Self.cases) cases, \(out.accepted) accepted, \(out.rejected) rejected")
        // A mutator that never breaks the file would test nothing.
        XCTAssertGreaterThan(out.rejected, Self.cases / 10, "\(format): too few mutations were rejected", line: line)
        XCTAssertEqual(out.badMessages, [], "\(format): errors must be one line naming \(name)", line: line)
        return out
    }

    func model() throws -> LoadedModel {
        let d = dir.appendingPathComponent("hf")
        if !FileManager.default.fileExists(atPath: d.path) { try Fixtures.writeHuggingFace(to: d) }
        return try LoadedModel.load(at: d, knownFingerprint: "fuzz")
    }

    /// A loaded model must also run: tokenize, score and decode.
    func exercise(_ m: LoadedModel) throws {
        let ids = m.tokenizer.encode("hello there, hell!", addSpecialTokens: true)
        _ = m.tokenizer.decode(ids, skipSpecialTokens: false)
        if !ids.isEmpty { _ = try m.transformer.score(Array(ids.prefix(8))) }
    }

    func testGGUF() throws {
        let url = dir.appendingPathComponent("model.gguf")
        let base = Fixtures.gguf()
        // The header (metadata and tensor directory) is where counts and lengths live.
        let header = try GGUFFile(url: { try base.write(to: url); return url }()).dataOffset
        try fuzz("gguf", base: base, target: url, text: false, headerBytes: header) {
            try exercise(try LoadedModel.load(at: url, knownFingerprint: "fuzz"))
        }
    }

    func testSafetensorsModel() throws {
        let hf = dir.appendingPathComponent("hf")
        try Fixtures.writeHuggingFace(to: hf)
        let url = hf.appendingPathComponent("model.safetensors")
        let base = try Data(contentsOf: url)
        let header = 8 + Int(base.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try fuzz("safetensors", base: base, target: url, text: false, headerBytes: header, mentions: "hf") {
            try exercise(try LoadedModel.load(at: hf, knownFingerprint: "fuzz"))
        }
    }

    func testConfigJSON() throws {
        let hf = dir.appendingPathComponent("hf")
        try Fixtures.writeHuggingFace(to: hf)
        let url = hf.appendingPathComponent("config.json")
        try fuzz("config.json", base: Fixtures.configJSON(), target: url, text: true, mentions: "hf") {
            try exercise(try LoadedModel.load(at: hf, knownFingerprint: "fuzz"))
        }
    }

    func testTokenizerJSON() throws {
        let url = dir.appendingPathComponent("tokenizer.json")
        try fuzz("tokenizer.json", base: Fixtures.tokenizerJSON(), target: url, text: true) {
            let t = try TokenizerLoader.load(tokenizerJSON: url, tokenizerConfig: nil)
            let ids = t.encode("hello there, hell! Xin chào", addSpecialTokens: true)
            _ = t.decode(ids, skipSpecialTokens: true)
        }
    }

    func testNeuronSet() throws {
        let m = try model()
        let url = dir.appendingPathComponent("neurons.json")
        try fuzz("neurons", base: Fixtures.neuronSet(), target: url, text: true) {
            let s = try NeuronSet.load(url: url)
            // What `neurons show` does with any set, before it meets a model.
            _ = s.statistics
            _ = s.countsSVG()
            try s.validate(against: m.config, fingerprint: "fuzz")
            _ = NeuronSelection.slices(masks: s.toLayerMasks(), trainable: TrainableTensor.allCases, config: m.config)
            _ = s.subtracting(s)
        }
    }

    /// Numbers at the edge of Int in a neuron set: layer numbers, sizes and indices are bounded when
    /// read, so that counting, sharing and plotting (which walks layers 0...max) cannot trap.
    func testNeuronSetExtremeNumbers() throws {
        let url = dir.appendingPathComponent("edge.json")
        let cases = [
            #"{"format": "langneuron.neurons/1", "layers": {"9223372036854775807": {"ffn": [1]}}}"#,
            #"{"format": "langneuron.neurons/1", "layers": {"0": {"ffn": [9223372036854775807]}}}"#,
            #"{"format": "langneuron.neurons/1", "model": {"layers": 9223372036854775807, "sizes": {"ffn": 9223372036854775807}}, "layers": {}}"#,
            #"{"format": "langneuron.neurons/1", "model": {"layers": 4, "sizes": {"ffn": 4611686018427387904}}, "layers": {}}"#,
        ]
        for text in cases {
            try Data(text.utf8).write(to: url)
            XCTAssertThrowsError(try NeuronSet.load(url: url), text) { e in
                XCTAssertTrue(e.localizedDescription.contains("edge.json"), e.localizedDescription)
            }
        }
        // The largest accepted values still count and plot.
        try Data(#"{"format": "langneuron.neurons/1", "model": {"layers": 100000, "sizes": {"ffn": 4294967296}}, "layers": {"99999": {"ffn": [4294967295]}}}"#.utf8).write(to: url)
        let s = try NeuronSet.load(url: url)
        XCTAssertEqual(s.totalCount, 1)
        _ = s.statistics
        XCTAssertTrue(s.countsSVG().hasPrefix("<svg"))
    }

    func testRecipe() throws {
        let url = dir.appendingPathComponent("recipe.yaml")
        let base = Data(Fixtures.recipe(model: "hf", neurons: "neurons.json", output: "run", train: "docs.jsonl").utf8)
        try fuzz("recipe", base: base, target: url, text: true) {
            _ = try Recipe.load(url: url, overrides: ["optimizer.lr=2e-3"])
        }
    }

    /// Trains the fixture model for two steps so that the run directory holds a real delta and state.
    func trainedRun() throws -> (LoadedModel, URL, Recipe, TrainableSlices) {
        let m = try model()
        let run = dir.appendingPathComponent("run")
        var r = try Recipe.parse(yaml: Fixtures.recipe(model: "hf", neurons: "neurons.json", output: run.path, train: "docs.jsonl"), path: "fixture")
        r.epochs = 2
        let slices = NeuronSelection.slices(neurons: [0: ["attn_q": [1, 5], "attn_v": [2], "ffn": [0, 4, 31]]],
                                            trainable: TrainableTensor.allCases, config: m.config)
        let docs = ["hello there hell", "the hello hell there", "hell hello there the", "there the hello hell"]
        let seqs = TrainingData.sequences(documents: docs, tokenizer: m.tokenizer, seqLen: 8)
        let t = Trainer(recipe: r, model: m, slices: slices, sequences: seqs, runDirectory: run)
        // Stop after the first step so that the state file stays behind, as after Ctrl-C.
        t.onStep = { s, _ in if s.step == 1 { Interrupt.request() } }
        defer { Interrupt.reset() }
        _ = try t.run(resume: false)
        Interrupt.reset()
        _ = try Trainer(recipe: r, model: try model(), slices: slices, sequences: seqs, runDirectory: run).run(resume: true)
        return (m, run, r, slices)
    }

    func testDelta() throws {
        let (_, run, _, _) = try trainedRun()
        let base = try Data(contentsOf: run.appendingPathComponent("delta.safetensors"))
        let url = dir.appendingPathComponent("delta.safetensors")
        let header = 8 + Int(base.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try fuzz("delta", base: base, target: url, text: false, headerBytes: header) {
            let target = try model()
            let d = try DeltaFile.read(url: url, config: target.config)
            try d.apply(to: target.transformer, fingerprint: d.baseFingerprint, path: url.path)
        }
    }

    func testTrainingState() throws {
        let (m, run, _, slices) = try trainedRun()
        // Keep a copy of the state of the interrupted run (the resumed run removes it when done).
        let stateURL = run.appendingPathComponent("state.safetensors")
        let url = dir.appendingPathComponent("state.safetensors")
        let base: Data
        if FileManager.default.fileExists(atPath: stateURL.path) {
            base = try Data(contentsOf: stateURL)
        } else {
            let opt = AdamW(settings: OptimizerSettings(), parameters: SliceTraining(model: m.transformer, slices: slices).parameters)
            try RunState.write(to: url, step: 1, optimizer: opt, baseFingerprint: "fuzz", recipeDigest: "r")
            base = try Data(contentsOf: url)
        }
        let meta = try SafetensorsFile(url: { try base.write(to: url); return url }()).metadata
        let header = 8 + Int(base.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        try fuzz("state", base: base, target: url, text: false, headerBytes: header) {
            let target = SliceTraining(model: m.transformer, slices: slices)
            let opt = AdamW(settings: OptimizerSettings(), parameters: target.parameters)
            _ = try RunState.load(from: url, optimizer: opt, baseFingerprint: meta["base_fingerprint"] ?? "", recipeDigest: meta["recipe_digest"] ?? "")
            target.commit()
        }
    }

    func testJSONLinesCorpus() throws {
        let url = dir.appendingPathComponent("docs.jsonl")
        let base = Fixtures.documents()
        // The reader skips and reports bad lines instead of failing: count those as rejections.
        struct Reported: LocalizedError { let path: String; var errorDescription: String? { "\(path): lines skipped" } }
        try fuzz("jsonl", base: base, target: url, text: true) {
            let r = try DocumentReader(path: url.path)
            _ = try r.readAll()
            if !r.report.skipped.isEmpty || r.report.truncated { throw Reported(path: url.path) }
        }
    }

    /// Writes the fixtures for `scripts/fuzz.sh` into `$FUZZ_FIXTURES` (skipped without it). Paths
    /// inside are relative, for commands run from that directory.
    func testWriteFixtures() throws {
        guard let out = ProcessInfo.processInfo.environment["FUZZ_FIXTURES"], !out.isEmpty else {
            throw XCTSkip("set FUZZ_FIXTURES to a directory to write the fixtures of scripts/fuzz.sh")
        }
        let root = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Fixtures.writeHuggingFace(to: root.appendingPathComponent("hf"))
        try Fixtures.gguf().write(to: root.appendingPathComponent("model.gguf"))
        try Fixtures.neuronSet().write(to: root.appendingPathComponent("neurons.json"))
        try Data(Fixtures.recipe(model: "./hf", neurons: "./neurons.json", output: "./run", train: "./docs.jsonl").utf8)
            .write(to: root.appendingPathComponent("recipe.yaml"))
        try Fixtures.documents().write(to: root.appendingPathComponent("docs.jsonl"))
        try Data("hello there, hell! the hello".utf8).write(to: root.appendingPathComponent("text.txt"))
    }

    /// Nesting far beyond any parser's comfort must be refused before parsing, naming the limit.
    func testDeepNestingIsRefusedWithTheLimit() throws {
        let recipe = dir.appendingPathComponent("deep.yaml")
        try Data(("model: " + String(repeating: "[", count: 5000) + "\n").utf8).write(to: recipe)
        XCTAssertThrowsError(try Recipe.load(url: recipe)) { e in
            XCTAssertTrue(e.localizedDescription.contains("deep.yaml"), e.localizedDescription)
            XCTAssertTrue(e.localizedDescription.contains("\(TextLimits.maxNesting) levels"), e.localizedDescription)
        }
        let block = (0..<200).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        try Data(block.utf8).write(to: recipe)
        XCTAssertThrowsError(try Recipe.load(url: recipe)) { e in
            XCTAssertTrue(e.localizedDescription.contains("levels deep"), e.localizedDescription)
        }
        // Exponential aliases ("billion laughs").
        var laughs = "a0: &a0 [x, x, x, x, x, x, x, x]\n"
        for i in 1..<10 { laughs += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 8).joined(separator: ", ") + "]\n" }
        try Data(laughs.utf8).write(to: recipe)
        XCTAssertThrowsError(try Recipe.load(url: recipe)) { e in
            XCTAssertTrue(e.localizedDescription.contains("aliases"), e.localizedDescription)
        }
        // Keys that are lists or mappings (Yams force-unwraps keys as strings; found by seed 8).
        for text in ["? [a, b]\n: 1\n", "model: {[x]: 1}\n", "data:\n  ? {a: 1}\n  : 2\n", "[a]: 1\n"] {
            try Data(text.utf8).write(to: recipe)
            XCTAssertThrowsError(try Recipe.load(url: recipe), text) { e in
                XCTAssertTrue(e.localizedDescription.contains("deep.yaml"), e.localizedDescription)
                XCTAssertTrue(e.localizedDescription.contains("plain names"), e.localizedDescription)
            }
        }
        XCTAssertThrowsError(try Recipe.parse(yaml: "model: x\n", path: "r.yaml", overrides: ["model=" + String(repeating: "{", count: 3000)])) { e in
            XCTAssertTrue(e.localizedDescription.contains("levels deep"), e.localizedDescription)
        }
        let lines = dir.appendingPathComponent("deep.jsonl")
        try Data((#"{"text": "ok", "x": "# + String(repeating: "[", count: 100) + "\n" + #"{"text": "a document"}"# + "\n").utf8).write(to: lines)
        let reader = try DocumentReader(path: lines.path)
        XCTAssertEqual(try reader.readAll().map(\.text), ["a document"])
        XCTAssertEqual(reader.report.warnings.count, 1)
        XCTAssertTrue(reader.report.warnings.first?.contains("deep.jsonl line 1") == true, "\(reader.report.warnings)")
        XCTAssertTrue(reader.report.warnings.first?.contains("\(TextLimits.maxNesting) levels") == true, "\(reader.report.warnings)")
        let neurons = dir.appendingPathComponent("deep.json")
        try Data((#"{"format": "langneuron.neurons/1", "layers": "# + String(repeating: "[", count: 100_000)).utf8).write(to: neurons)
        XCTAssertThrowsError(try NeuronSet.load(url: neurons)) { e in
            XCTAssertTrue(e.localizedDescription.contains("deep.json"), e.localizedDescription)
            XCTAssertTrue(e.localizedDescription.contains("\(TextLimits.maxNesting) levels"), e.localizedDescription)
        }
    }

    /// The project's own recipes stay within the YAML limits (a limit that rejects them would be a bug).
    func testRealRecipesPassTheLimits() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let files = try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent("recipes"), includingPropertiesForKeys: nil)
        XCTAssertFalse(files.isEmpty)
        for f in files where f.pathExtension == "yaml" {
            XCTAssertNil(TextLimits.checkYAML(try String(contentsOf: f, encoding: .utf8), maxBytes: Recipe.maxBytes), f.lastPathComponent)
        }
        // Depth is counted, not guessed: 10 levels pass a limit of 10, 11 do not.
        let nested = (0..<10).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
        XCTAssertNil(TextLimits.checkYAML(nested, maxBytes: 1 << 20, maxDepth: 10))
        XCTAssertNotNil(TextLimits.checkYAML(nested, maxBytes: 1 << 20, maxDepth: 9))
        XCTAssertNil(TextLimits.checkYAML("a: '[[[[' # [[[[\nb: \"{{{{\"\nc: x[1]\n", maxBytes: 1 << 20, maxDepth: 2))
        XCTAssertNotNil(TextLimits.checkYAML("a: [[[1]]]\n", maxBytes: 1 << 20, maxDepth: 3))
        XCTAssertNil(TextLimits.checkJSON(Data(#"{"a": "[[[[", "b": [[1]]}"#.utf8), maxBytes: 100, maxDepth: 3))
        XCTAssertNotNil(TextLimits.checkJSON(Data(#"{"a": [[[1]]]}"#.utf8), maxBytes: 100, maxDepth: 3))
        XCTAssertNotNil(TextLimits.checkJSON(Data(#"{"a": 1}"#.utf8), maxBytes: 5))
    }

    /// Sizes in a configuration are bounded before anything is allocated per layer (4 billion
    /// layers used to reserve 4 billion attention settings), and tokenizer ids by the file size.
    func testAbsurdSizesAreRefusedBeforeAllocating() throws {
        let hf = dir.appendingPathComponent("hf")
        try Fixtures.writeHuggingFace(to: hf)
        let config = hf.appendingPathComponent("config.json")
        let good = String(decoding: Fixtures.configJSON(), as: UTF8.self)
        for (key, value) in [("num_hidden_layers", "4294967295"), ("hidden_size", "1099511627776"), ("vocab_size", "-5"),
                             ("intermediate_size", "9223372036854775807")] {
            let text = good.replacingOccurrences(of: #""\#(key)": \d+"#, with: "\"\(key)\": \(value)", options: .regularExpression)
            XCTAssertNotEqual(text, good, key)
            try Data(text.utf8).write(to: config)
            XCTAssertThrowsError(try LoadedModel.load(at: hf, knownFingerprint: "x"), key) { e in
                XCTAssertTrue(e.localizedDescription.contains(key), e.localizedDescription)
            }
        }
        try Fixtures.configJSON().write(to: config)

        // GGUF: llama.block_count is the 4th metadata value (u32); find it by its key.
        var g = [UInt8](Fixtures.gguf())
        let key = Array("llama.block_count".utf8)
        let at = (0..<(g.count - key.count)).first { Array(g[$0..<($0 + key.count)]) == key }! + key.count + 4
        for (i, b) in [UInt8](repeating: 0xFF, count: 4).enumerated() { g[at + i] = b }
        let url = dir.appendingPathComponent("layers.gguf")
        try Data(g).write(to: url)
        XCTAssertThrowsError(try LoadedModel.load(at: url, knownFingerprint: "x")) { e in
            XCTAssertTrue(e.localizedDescription.contains("llama.block_count"), e.localizedDescription)
        }

        let tok = hf.appendingPathComponent("tokenizer.json")
        let t = String(decoding: Fixtures.tokenizerJSON(), as: UTF8.self).replacingOccurrences(of: #""hell": 258"#, with: #""hell": 2000000000"#)
        XCTAssertTrue(t.contains("2000000000"))
        try Data(t.utf8).write(to: tok)
        XCTAssertThrowsError(try TokenizerLoader.load(tokenizerJSON: tok, tokenizerConfig: nil)) { e in
            XCTAssertTrue(e.localizedDescription.contains("2000000000"), e.localizedDescription)
        }
    }

    /// Specific headers that used to trap: a string length near 2^64 after a few flipped bytes.
    func testHugeGGUFStringLengthIsATruncationError() throws {
        var base = [UInt8](Fixtures.gguf())
        // The first metadata key's length is at offset 24 (magic, version, two counts).
        for (at, value) in [(24, UInt64.max), (24, UInt64(Int.max)), (24, UInt64(1) << 63)] {
            var b = base
            withUnsafeBytes(of: value.littleEndian) { for (i, x) in $0.enumerated() { b[at + i] = x } }
            let url = dir.appendingPathComponent("huge.gguf")
            try Data(b).write(to: url)
            XCTAssertThrowsError(try GGUFFile(url: url)) { e in
                guard case ModelIOError.truncated = e else { return XCTFail("\(e)") }
                XCTAssertTrue(e.localizedDescription.contains("huge.gguf"))
            }
        }
        base = []
    }
}

extension String {
    /// A hash that does not change between runs (Swift's `hashValue` is randomly seeded).
    var hashValueStable: UInt64 { utf8.reduce(14_695_981_039_346_656_037) { ($0 ^ UInt64($1)) &* 1_099_511_628_211 } }
}

/// One mutation of a file.
enum Mutator {
    struct Mutated {
        var bytes: [UInt8]
        var description: String
    }

    static let interesting64: [UInt64] = [.max, UInt64(Int.max), 1 << 63, 1 << 32, 1 << 40, 0, 1, 0xFFFF_FFFF]
    static let interesting32: [UInt32] = [.max, 1 << 31, 0x7FFF_FFFF, 0, 1, 4, 9, 13, 1 << 16]
    static let textSnippets = ["[", "]", "{", "}", "\"", "\\", ":", ",", "-", "&a ", "*a", "\n  ", "\u{0}", "\u{FF}",
                               "99999999999999999999", "-1", "1e400", "-9223372036854775808", "null", "true", "\u{1F600}"]

    static func mutate(_ base: [UInt8], text: Bool, headerBytes: Int, rng: inout SplitMix64) -> Mutated {
        var b = base
        // Most binary mutations hit the header, where lengths and offsets are.
        func offset() -> Int {
            let span = (!text && rng.below(10) < 8) ? max(1, min(headerBytes, b.count)) : max(1, b.count)
            return rng.below(span)
        }
        let kinds = text ? 9 : 5
        switch rng.below(kinds) {
        case 0:
            let n = rng.below(b.count)
            return Mutated(bytes: Array(b[..<n]), description: "truncated to \(n) bytes")
        case 1:
            let k = 1 + rng.below(4)
            var at = [Int]()
            for _ in 0..<k { let o = offset(); at.append(o); if o < b.count { b[o] = UInt8(truncatingIfNeeded: rng.next()) } }
            return Mutated(bytes: b, description: "random bytes at \(at)")
        case 2:
            let o = offset(), v = interesting64[rng.below(interesting64.count)]
            withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() where o + i < b.count { b[o + i] = x } }
            return Mutated(bytes: b, description: "u64 \(v) at \(o)")
        case 3:
            let o = offset(), v = interesting32[rng.below(interesting32.count)]
            withUnsafeBytes(of: v.littleEndian) { for (i, x) in $0.enumerated() where o + i < b.count { b[o + i] = x } }
            return Mutated(bytes: b, description: "u32 \(v) at \(o)")
        case 4:
            let o = offset(), bit = rng.below(8)
            if o < b.count { b[o] ^= UInt8(1 << bit) }
            return Mutated(bytes: b, description: "bit \(bit) flipped at \(o)")
        case 5:
            let o = rng.below(b.count), n = 1 + rng.below(min(64, b.count - o))
            b.removeSubrange(o..<(o + n))
            return Mutated(bytes: b, description: "deleted \(n) bytes at \(o)")
        case 6:
            let o = rng.below(b.count), n = 1 + rng.below(min(256, b.count - o))
            b.insert(contentsOf: b[o..<(o + n)], at: rng.below(b.count))
            return Mutated(bytes: b, description: "duplicated \(n) bytes from \(o)")
        case 7:
            let s = textSnippets[rng.below(textSnippets.count)]
            let o = rng.below(b.count + 1)
            b.insert(contentsOf: Array(s.utf8), at: o)
            return Mutated(bytes: b, description: "inserted \(s.debugDescription) at \(o)")
        default:
            let opener = ["[", "{", "- ", "[{\"a\": "][rng.below(4)]
            let n = [100, 3000, 20000][rng.below(3)]
            let o = rng.below(b.count + 1)
            b.insert(contentsOf: Array(String(repeating: opener, count: n).utf8), at: o)
            return Mutated(bytes: b, description: "inserted \(n) × \(opener.debugDescription) at \(o)")
        }
    }
}
