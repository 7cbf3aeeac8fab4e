import Evaluation
import Foundation
import XCTest

final class PerplexityTests: XCTestCase {
    func testPoolsTokensNotDocuments() {
        // doc A: 10 tokens at NLL 1 each; doc B: 30 tokens at NLL 2 each → mean (10 + 60) / 40 = 1.75
        let r = Perplexity.summarize(sums: [10, 60], counts: [10, 30], bootstrap: 200, seed: 3)
        XCTAssertEqual(r.meanNLL, 1.75, accuracy: 1e-12)
        XCTAssertEqual(r.ppl, exp(1.75), accuracy: 1e-9)
        XCTAssertEqual(r.tokens, 40)
        // the interval spans the per-document extremes' range and contains the estimate
        XCTAssertLessThanOrEqual(r.pplLow, r.ppl)
        XCTAssertGreaterThanOrEqual(r.pplHigh, r.ppl)
        XCTAssertGreaterThanOrEqual(r.pplLow, exp(1.0) - 1e-9)
        XCTAssertLessThanOrEqual(r.pplHigh, exp(2.0) + 1e-9)
        XCTAssertEqual(r, Perplexity.summarize(sums: [10, 60], counts: [10, 30], bootstrap: 200, seed: 3), "deterministic")
    }
}
