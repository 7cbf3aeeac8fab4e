import Foundation
import Models
import Neurons
import XCTest

final class NeuronPlotTests: XCTestCase {
    /// One bar segment per non-empty (layer, structure) cell, plus the legend's five swatches and
    /// the background; tooltips carry the exact counts.
    func testFigure3HasOneSegmentPerCell() {
        let set = NeuronSet(language: "vi", layers: [0: LayerMask(attnQ: [1, 2], ffn: [3]), 2: LayerMask(attnV: [4, 5, 6])])
        let svg = set.countsSVG()
        XCTAssertEqual(svg.components(separatedBy: "<rect").count - 1, 3 + 5 + 1)
        XCTAssertTrue(svg.contains("<title>layer 2 attn_v: 3</title>"))
        XCTAssertTrue(svg.contains("<title>layer 0 attn_q: 2</title>"))
        XCTAssertFalse(svg.contains("layer 1 "), "an empty layer draws nothing")
        XCTAssertTrue(svg.contains("ffn (1)"))
    }
}
