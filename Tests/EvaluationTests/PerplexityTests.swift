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

    /// The paired interval resamples the same documents for both models, so a change every document
    /// shares is certain however much the documents differ, and a change half of them reverse is not.
    func testPairedChangeOfPerplexity() throws {
        let counts = [10, 30, 20, 40]
        let base = Perplexity.summarize(sums: [10, 90, 20, 160], counts: counts, bootstrap: 100, seed: 1)
        // Every document 0.1 nats per token better: exp(−0.1) − 1 on every resample (tolerance 1e-9).
        let better = Perplexity.summarize(sums: zip(base.documentNLL, counts).map { $0 - 0.1 * Double($1) }, counts: counts, bootstrap: 100, seed: 1)
        let c = try XCTUnwrap(Perplexity.pairedChange(better, base: base, bootstrap: 500, seed: 7))
        XCTAssertEqual(c.change, 100 * expm1(-0.1), accuracy: 1e-9)
        XCTAssertEqual(c.low, c.change, accuracy: 1e-9)
        XCTAssertEqual(c.high, c.change, accuracy: 1e-9)
        // Each model's own interval is wide: the documents' spread.
        XCTAssertGreaterThan(better.pplHigh / better.pplLow, 1.3)
        // Two documents better, two worse by as much per token: the interval spans 0.
        let mixed = Perplexity.summarize(sums: zip(base.documentNLL, counts).enumerated().map { $0.element.0 + ($0.offset % 2 == 0 ? -0.2 : 0.2) * Double($0.element.1) },
                                         counts: counts, bootstrap: 100, seed: 1)
        let m = try XCTUnwrap(Perplexity.pairedChange(mixed, base: base, bootstrap: 500, seed: 7))
        XCTAssertLessThan(m.low, 0)
        XCTAssertGreaterThan(m.high, 0)
        XCTAssertEqual(m, Perplexity.pairedChange(mixed, base: base, bootstrap: 500, seed: 7), "deterministic")
        // The same model: exactly no change.
        XCTAssertEqual(Perplexity.pairedChange(base, base: base), PairedChange(change: 0, low: 0, high: 0))
        // Other documents: no paired interval.
        let other = Perplexity.summarize(sums: [10, 90, 20], counts: [10, 30, 20], bootstrap: 10, seed: 1)
        XCTAssertNil(Perplexity.pairedChange(other, base: base))
        let otherCounts = Perplexity.summarize(sums: base.documentNLL, counts: [10, 30, 20, 41], bootstrap: 10, seed: 1)
        XCTAssertNil(Perplexity.pairedChange(otherCounts, base: base))
    }
}
