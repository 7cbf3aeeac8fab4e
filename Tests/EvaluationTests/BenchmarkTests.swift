@testable import Evaluation
import Foundation
import Models
import TestSupport
import XCTest

final class BenchmarkTests: XCTestCase {
    func testLoadersReadTheSharedFiles() throws {
        try XCTSkipUnless(SharedData.isAvailable)
        let vi = try Benchmarks.loadXQuAD(url: SharedData.url("data/xquad/xquad.vi.json"))
        XCTAssertEqual(vi.count, 1190, "XQuAD has 1190 questions per language")
        let zh = try Benchmarks.loadMGSM(url: SharedData.url("data/mgsm/mgsm_zh.tsv"))
        XCTAssertEqual(zh.count, 250)
        XCTAssertEqual(zh[0].answer, 18)
        XCTAssertEqual(zh[2].answer, 70000)
    }

    func testPromptsUseTargetLanguageAndNeverTheScoredItem() {
        let items = (0..<4).map { QAItem(context: "C\($0)", question: "Q\($0)", answers: ["A\($0)"]) }
        let p = Benchmarks.xquadPrompt(items[3], exemplars: Array(items.prefix(2)), language: "vi")
        XCTAssertTrue(p.hasPrefix("Ngữ cảnh: C0\nCâu hỏi: Q0\nTrả lời: A0\n\n"))
        XCTAssertTrue(p.hasSuffix("Ngữ cảnh: C3\nCâu hỏi: Q3\nTrả lời:"))
        XCTAssertFalse(p.contains("A3"))
        let m = Benchmarks.mgsmPrompt("2+2?", exemplars: [("1+1?", 2), ("half of 3?", 1.5)], language: "en")
        XCTAssertEqual(m, "Question: 1+1?\nAnswer: 2\n\nQuestion: half of 3?\nAnswer: 1.5\n\nQuestion: 2+2?\nAnswer:")
    }

    func testMultipleChoiceLogLikelihoodIsTheOptionsNLL() throws {
        try XCTSkipUnless(SharedData.isAvailable)
        let m = try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model"))
        let prompt = "The capital of France is", option = " Paris"
        let ll = try MultipleChoice.logLikelihood(model: m.transformer, tokenizer: m.tokenizer, prompt: prompt, option: option)
        let p = m.tokenizer.encode(prompt, addSpecialTokens: true), all = m.tokenizer.encode(prompt + option, addSpecialTokens: true)
        XCTAssertEqual(Array(all.prefix(p.count)), p)
        let s = try m.transformer.score(all)
        let expected = -s.nll[(p.count - 1)...].reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(ll.sum, expected, accuracy: 1e-9)
        XCTAssertEqual(ll.mean, expected / Double(all.count - p.count), accuracy: 1e-9)
        let options = [" Paris", " Berlin", " a"]
        let sums = try options.map { try MultipleChoice.logLikelihood(model: m.transformer, tokenizer: m.tokenizer, prompt: prompt, option: $0).sum }
        XCTAssertEqual(try MultipleChoice.choose(model: m.transformer, tokenizer: m.tokenizer, prompt: prompt, options: options),
                       sums.indices.max { sums[$0] < sums[$1] })
    }

    /// The batched harness (exemplars and paragraphs run once, questions decoded together) gives
    /// the same answers as generating each full prompt alone, on a real tokenizer.
    func testBatchedAnswersEqualOneByOneGeneration() throws {
        try XCTSkipUnless(SharedData.isAvailable)
        let m = try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model"))
        let items = [QAItem(context: "Hanoi is the capital of Vietnam.", question: "What is the capital?", answers: ["Hanoi"]),
                     QAItem(context: "Hanoi is the capital of Vietnam.", question: "Of which country?", answers: ["Vietnam"]),
                     QAItem(context: "The Mekong flows south.", question: "Which way?", answers: ["south"]),
                     QAItem(context: "Hanoi is the capital of Vietnam.", question: "Is it a capital?", answers: ["yes"]),
                     QAItem(context: "Pho is a soup.", question: "What is pho?", answers: ["a soup"])]
        let exemplars = [QAItem(context: "Paris is in France.", question: "Where is Paris?", answers: ["France"])]
        let block = Benchmarks.xquadExemplars(exemplars, language: "en")
        let prompts = items.map { (block + Benchmarks.xquadParagraph($0, language: "en"), Benchmarks.xquadPrompt($0, exemplars: exemplars, language: "en")) }
        var reported = [Int]()
        let batched = try Benchmarks.answerAll(model: m.transformer, tokenizer: m.tokenizer, exemplars: block, prompts: prompts,
                                               maxTokens: 12, batchSize: 3) { done, _ in reported.append(done) }
        XCTAssertEqual(reported, [3, 5])
        XCTAssertEqual(Set(batched).count, batched.count, "distinct answers, so that a mix-up would show: \(batched)")
        for (i, p) in prompts.enumerated() {
            let ids = m.tokenizer.encode(p.1, addSpecialTokens: true)
            var out = [Int32]()
            _ = try m.transformer.generate(prompt: ids, maxTokens: 12, stopTokens: Set([m.tokenizer.eosTokenID].compactMap { $0 })) { id in
                out.append(id)
                return !m.tokenizer.decode(out, skipSpecialTokens: true).contains("\n")
            }
            let text = m.tokenizer.decode(out, skipSpecialTokens: true)
            let expected = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
            XCTAssertEqual(batched[i], expected, "question \(i)")
        }
    }
}
