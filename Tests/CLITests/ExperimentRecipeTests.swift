import Foundation
@testable import LangNeuronCLI
import XCTest

final class ExperimentRecipeTests: XCTestCase {
    func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("exp-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testShippedRecipesParse() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let quick = try ExperimentRecipe.load(root.appendingPathComponent("recipes/quick.yaml").path)
        XCTAssertEqual(quick.language, "vi")
        XCTAssertEqual(quick.detect.excludeEnglish?.corpus, "plnd-en")
        XCTAssertEqual(quick.evaluate.languages, ["vi", "en"])
        let paper = try ExperimentRecipe.load(root.appendingPathComponent("recipes/vi-enhance.yaml").path)
        XCTAssertEqual(paper.evaluate.benchmarkLanguages, ["vi", "en"], "XQuAD has no Japanese")
        XCTAssertEqual(paper.trainOverrides, ["data.documents=220", "data.heldout=50", "data.max_tokens_per_document=1024"])
    }

    func testUnknownKeysAndMissingFieldsAreErrors() throws {
        let base = "model: m\nlanguage: vi\noutput: o\ntrain: t.yaml\nevaluate: {languages: [en]}\n"
        let typo = try write(base + "detect: {corpus: c, topk: 3}\n")
        XCTAssertThrowsError(try ExperimentRecipe.load(typo)) { e in
            XCTAssertTrue(e.localizedDescription.contains("'topk'"), e.localizedDescription)
            XCTAssertTrue(e.localizedDescription.contains(typo), "names the file: \(e.localizedDescription)")
        }
        XCTAssertThrowsError(try ExperimentRecipe.load(write(base + "detect: {corpus: c\n"))) { e in
            XCTAssertFalse(e.localizedDescription.contains("\n"), "one line: \(e.localizedDescription)")
        }
        XCTAssertThrowsError(try ExperimentRecipe.load(write(base + "? [a]\n: 1\n"))) { e in
            XCTAssertTrue(e.localizedDescription.contains("plain names"), e.localizedDescription)
        }
        XCTAssertThrowsError(try ExperimentRecipe.load(write(base))) { e in
            XCTAssertTrue(e.localizedDescription.contains("detect"), e.localizedDescription)
        }
        let ok = try ExperimentRecipe.load(write(base + "detect: {corpus: c}\n"))
        XCTAssertEqual(ok.detect.documents, 16)
        XCTAssertNil(ok.detect.excludeEnglish)
    }

    func testMarkdownTableComparesArmsWithBase() {
        let cols: [(String, EvalCommand.ArmMetrics)] = [
            ("base", ["vi": ["ppl": 20], "en": ["ppl": 10]]),
            ("language", ["vi": ["ppl": 18], "en": ["ppl": 10]]),
        ]
        let md = ExperimentReport.markdown(columns: cols, languages: ["vi", "en"])
        XCTAssertTrue(md.contains("| vi | perplexity | 20.000 | 18.000 | -10.00% |"), md)
        XCTAssertTrue(md.contains("| en | perplexity | 10.000 | 10.000 | +0.00% |"), md)
        let svg = ExperimentReport.deltaSVG(columns: cols, languages: ["vi", "en"])
        XCTAssertTrue(svg.contains("-10.0"))
    }

    /// A rerun reuses a step only if it was made with the same settings; other settings are an
    /// error that names the step and the differences; a moved run directory still matches.
    func testStepsAreReusedOnlyWithTheirSettings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("steps-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
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
        // Moved: the record says OUTPUT, not the old path.
        let moved = FileManager.default.temporaryDirectory.appendingPathComponent("steps-moved-\(UUID().uuidString)")
        try FileManager.default.moveItem(at: dir, to: moved)
        var there = try ExperimentSteps(url: moved.appendingPathComponent("steps.json"))
        XCTAssertTrue(try there.reuse("language", settings: ["recipe.yaml", "--set", "output=\(moved.path)/language", "lr 1"], exists: true))
        // No record (an older run): reused, and recorded from now on.
        XCTAssertTrue(try there.reuse("random", settings: ["x"], exists: true))
        var reread = try ExperimentSteps(url: moved.appendingPathComponent("steps.json"))
        XCTAssertThrowsError(try reread.reuse("random", settings: ["y"], exists: true))
        try "[1]".write(to: moved.appendingPathComponent("steps.json"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentSteps(url: moved.appendingPathComponent("steps.json")))
    }

    /// Evaluation inputs are checked before anything is loaded (the experiment does this before
    /// training): unknown tasks, benchmark languages outside the languages, missing benchmark files.
    func testEvaluationInputsAreCheckedUpFront() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "../shared/data/xquad"), "needs the data root")
        XCTAssertNoThrow(try EvalCommand.parse(["m", "--tasks", "xquad", "--languages", "vi,en"]).checkInputs())
        XCTAssertThrowsError(try EvalCommand.parse(["m", "--tasks", "ppl,bleu"]).checkInputs()) { e in
            XCTAssertTrue("\(e)".contains("bleu"), "\(e)")
        }
        XCTAssertThrowsError(try EvalCommand.parse(["m", "--tasks", "xquad", "--languages", "vi,ja"]).checkInputs()) { e in
            XCTAssertTrue(e.localizedDescription.contains("xquad has no file for 'ja'"), e.localizedDescription)
            XCTAssertTrue(e.localizedDescription.contains("--benchmark-languages"), e.localizedDescription)
        }
        XCTAssertNoThrow(try EvalCommand.parse(["m", "--tasks", "xquad", "--languages", "vi,ja", "--benchmark-languages", "vi"]).checkInputs())
        XCTAssertThrowsError(try EvalCommand.parse(["m", "--tasks", "xquad", "--languages", "vi", "--benchmark-languages", "en"]).checkInputs())
        // A corpus another step will write is not looked for; one that should exist is.
        let args = ["m", "--tasks", "ppl", "--languages", "vi", "--corpus", "vi=/nonexistent/heldout.jsonl.zst"]
        XCTAssertNoThrow(try EvalCommand.parse(args).checkInputs(notYetWritten: ["vi"]))
        XCTAssertThrowsError(try EvalCommand.parse(args).checkInputs())
    }

    func testSignedChangesNeverReadMinusZero() {
        XCTAssertEqual(signed(-0.004, decimals: 1), "+0.0")
        XCTAssertEqual(signed(-0.04, decimals: 2), "-0.04")
        XCTAssertEqual(signed(3.58, decimals: 2), "+3.58")
        XCTAssertEqual(signed(-3.58, decimals: 1), "-3.6")
    }
}
