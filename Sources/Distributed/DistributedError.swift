import Foundation

/// What can go wrong between the ranks of a job.
public enum DistributedError: LocalizedError, Equatable {
    /// A collective failed: another rank died or its host was lost.
    case lostRank(call: String, what: String, mpiError: String)
    /// Ranks passed different amounts of data to one reduction (different inputs on different hosts?).
    case mismatch(what: String, detail: String)
    /// One collective would move more than 2 GiB (MPI counts are 32-bit).
    case tooLarge(what: String, bytes: Int)
    /// Ranks disagree after a step that should leave them identical.
    case diverged(what: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case let .lostRank(call, what, mpiError):
            return "\(call) failed while exchanging \(what) (\(mpiError)): another rank ended or its host was lost; "
                + "the job stops; resume from the last saved state (any number of ranks, also 1)"
        case let .mismatch(what, detail):
            return "ranks disagree on the size of \(what) (\(detail)); every rank must read the same model, data and recipe"
        case let .tooLarge(what, bytes):
            return "\(what) is \(bytes) bytes, more than one MPI message can carry (2 GiB); use fewer documents per step"
        case let .diverged(what, detail):
            return "ranks hold different \(what) (\(detail)); every rank must run the same binary on the same inputs"
        }
    }
}
