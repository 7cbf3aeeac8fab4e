import Corpus
import Foundation
import Models
import Tokenizers

/// One training sequence: `tokens[0..<n-1]` are inputs, `tokens[1..<n]` the targets.
public struct TrainingSequence: Equatable {
    public let tokens: [Int32]
    public let document: Int
    public var inputs: [Int32] { Array(tokens.dropLast()) }
    public var targets: [Int32] { Array(tokens.dropFirst()) }
    public var predicted: Int { tokens.count - 1 }
}

/// Documents tokenised and cut into windows.
public enum TrainingData {
    /// Tokenises each document as the model's tokenizer encodes text (BOS where the model adds
    /// one) and splits it into windows of `seqLen` inputs. Consecutive windows share one token
    /// so that every token after the first is predicted exactly once; a document never shares a
    /// window with another (no attention across documents, no padding needed: sequences are
    /// processed one at a time).
    /// `maxTokensPerDocument` > 0 keeps only the start of each document.
    public static func sequences(documents: [String], tokenizer: Tokenizer, seqLen: Int, maxTokensPerDocument: Int = 0) -> [TrainingSequence] {
        var out = [TrainingSequence]()
        for (d, text) in documents.enumerated() {
            var ids = tokenizer.encode(text, addSpecialTokens: true)
            if maxTokensPerDocument > 0 && ids.count > maxTokensPerDocument { ids = Array(ids.prefix(maxTokensPerDocument)) }
            var start = 0
            while start + 1 < ids.count {
                let end = min(ids.count, start + seqLen + 1)
                out.append(TrainingSequence(tokens: Array(ids[start..<end]), document: d))
                start = end - 1
            }
        }
        return out
    }

    /// The order of sequences in `epoch` (0-based): a Fisher–Yates shuffle seeded by (seed, epoch).
    public static func order(count: Int, seed: UInt64, epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        var idx = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                idx.swapAt(i, j)
            }
        }
        return idx
    }
}

/// Learning rate at each optimizer step: linear warm-up from 0, then cosine decay to 0 or constant
/// (the schedule of Hugging Face's `get_cosine_schedule_with_warmup`, which the paper's authors used).
public struct LearningRateSchedule {
    public let peak: Double
    public let totalSteps: Int
    public let warmupSteps: Int
    public let cosine: Bool

    public init(peak: Double, totalSteps: Int, warmupRatio: Double, cosine: Bool) {
        self.peak = peak
        self.totalSteps = max(1, totalSteps)
        warmupSteps = Int((warmupRatio * Double(totalSteps)).rounded(.up))
        self.cosine = cosine
    }

    /// Rate for step `step` (1-based).
    public func rate(step: Int) -> Double {
        let i = step - 1
        if i < warmupSteps { return peak * Double(i) / Double(max(1, warmupSteps)) }
        guard cosine else { return peak }
        let progress = Double(i - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
        return peak * 0.5 * (1 + Foundation.cos(Double.pi * progress))
    }
}
