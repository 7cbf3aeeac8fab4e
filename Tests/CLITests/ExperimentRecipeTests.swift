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
        XCTAssertEqual(paper.trainOverrides, ["data.documents=220", "data.heldout=50"])
    }

    func testUnknownKeysAndMissingFieldsAreErrors() throws {
        let base = "model: m\nlanguage: vi\noutput: o\ntrain: t.yaml\nevaluate: {languages: [en]}\n"
        XCTAssertThrowsError(try ExperimentRecipe.load(write(base + "detect: {corpus: c, topk: 3}\n"))) { e in
            XCTAssertTrue(e.localizedDescription.contains("'topk'"), e.localizedDescription)
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
}
