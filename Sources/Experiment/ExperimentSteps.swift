import Foundation
import ModelIO

/// `OUTPUT/steps.json`: the settings each finished (or started) step was made with, so that a
/// rerun reuses a step only if it would redo it the same way.
public struct ExperimentSteps {
    public let url: URL
    public private(set) var settings: [String: [String]]
    /// Where warnings go (a step without a record is reused with one).
    public var warn: (String) -> Void = { _ in }

    public init(url: URL) throws {
        self.url = url
        if let data = FileManager.default.contents(atPath: url.path) {
            guard let obj = try? JSONSerialization.jsonObject(with: data) as? [String: [String]] else {
                throw ExperimentError.badFile(path: url.path, reason: "not a step record (JSON object of string lists). Delete it to rerun every step.")
            }
            settings = obj
        } else {
            settings = [:]
        }
    }

    /// Settings with the run directory written as `OUTPUT`, so a moved run directory still matches.
    func portable(_ given: [String]) -> [String] {
        let dir = url.deletingLastPathComponent().path
        return given.map { $0.replacingOccurrences(of: dir, with: "OUTPUT") }
    }

    /// Whether the existing output of `step` may be reused: yes if it was made with `settings`;
    /// an error if it was made with others (the user decides what to delete); with no record
    /// (a run from an older version) it is reused with a warning.
    public mutating func reuse(_ step: String, settings given: [String], exists: Bool) throws -> Bool {
        guard exists else { return false }
        let now = portable(given)
        guard let before = settings[step] else {
            warn("warning: \(url.deletingLastPathComponent().path)/\(step) has no record of its settings; reusing it as it is")
            try record(step, settings: given)
            return true
        }
        guard before == now else {
            let changed = Set(now).symmetricDifference(Set(before)).sorted().joined(separator: "; ")
            throw ExperimentError.stepChanged(path: url.deletingLastPathComponent().path, step: step, differences: changed)
        }
        return true
    }

    /// False on the ranks of an mpirun job other than 0: they keep the record in memory only.
    public var writes = true

    public mutating func record(_ step: String, settings given: [String]) throws {
        settings[step] = portable(given)
        guard writes else { return }
        let data = try JSONSerialization.data(withJSONObject: settings, options: [.prettyPrinted, .sortedKeys])
        try AtomicFileWriter.write(data, to: url)
    }
}
