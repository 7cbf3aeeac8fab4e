import Foundation
@testable import LangNeuronCLI
import XCTest

final class EvalInputTests: XCTestCase {
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
