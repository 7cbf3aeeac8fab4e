import Evaluation
import XCTest

/// Hand-checked cases of the SQuAD metrics and MGSM number extraction.
final class AnswerMetricsTests: XCTestCase {
    func testNormalization() {
        XCTAssertEqual(AnswerMetrics.normalize("The  Panthers!"), "panthers")
        XCTAssertEqual(AnswerMetrics.normalize("an apple, a day"), "apple day")
        XCTAssertEqual(AnswerMetrics.normalize("Đội thủ của Panthers."), "đội thủ của panthers")
    }

    func testExactMatchAndF1() {
        XCTAssertEqual(AnswerMetrics.exactMatch("the Denver Broncos", ["Denver Broncos"]), 1)
        XCTAssertEqual(AnswerMetrics.exactMatch("Broncos", ["Denver Broncos"]), 0)
        // prediction "Denver" vs gold "Denver Broncos": precision 1, recall 1/2 → F1 2/3
        XCTAssertEqual(AnswerMetrics.f1("Denver", ["Denver Broncos"], language: "en"), 2.0 / 3.0, accuracy: 1e-12)
        // best over golds
        XCTAssertEqual(AnswerMetrics.f1("Denver", ["Carolina", "Denver"], language: "en"), 1)
        XCTAssertEqual(AnswerMetrics.f1("nothing here", ["Denver"], language: "en"), 0)
        // repeated tokens count once each: "a b b" vs "b c": common 1 → P 1/3, R 1/2 → 0.4
        XCTAssertEqual(AnswerMetrics.f1("x y y", ["y z"], language: "en"), 0.4, accuracy: 1e-12)
    }

    func testCharacterLevelForChinese() {
        // 3 of 4 characters right: P 3/3, R 3/4 → F1 6/7
        XCTAssertEqual(AnswerMetrics.f1("丹佛野", ["丹佛野马"], language: "zh"), 6.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(AnswerMetrics.f1("丹佛野", ["丹佛野马"], language: "en"), 0, "as one token it is simply wrong")
    }

    func testFirstNumber() {
        XCTAssertEqual(AnswerMetrics.firstNumber("She makes 18 dollars."), 18)
        XCTAssertEqual(AnswerMetrics.firstNumber("70,000 profit"), 70000)
        XCTAssertEqual(AnswerMetrics.firstNumber("答案是 3.5 匹"), 3.5)
        XCTAssertEqual(AnswerMetrics.firstNumber("-4 degrees"), -4)
        XCTAssertNil(AnswerMetrics.firstNumber("no idea"))
        XCTAssertEqual(AnswerMetrics.firstNumber("It is 12."), 12)
    }
}
