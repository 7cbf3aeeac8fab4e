import Foundation
import ModelIO
import Models
import Tokenizers

/// Progress of a detection run.
public struct DetectionProgress: Sendable {
    public var documentsDone: Int
    public var documentsTotal: Int
    public var tokens: Int
    public var seconds: Double
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
    /// Estimated seconds left, from the mean time per document so far.
    public var eta: Double { documentsDone > 0 ? seconds / Double(documentsDone) * Double(documentsTotal - documentsDone) : .nan }
}

/// Summary of a detection run.
public struct DetectionSummary: Sendable {
    public var documents: Int
    /// Documents left out because they tokenise to fewer than 2 tokens.
    public var skipped: Int
    public var tokens: Int
    public var seconds: Double
    /// SHA-256 over the documents used (each as an 8-byte little-endian length and its UTF-8 bytes).
    public var corpusSHA256: String
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
}

/// Runs PLND over a corpus of one language and accumulates per-neuron statistics (method §4).
public final class Detector {
    public let transformer: Transformer
    public let tokenizer: Tokenizer
    public let fingerprint: String
    public let maxTokens: Int
    public let plnd: PLND

    /// - Parameters:
    ///   - maxTokens: documents are truncated to this many tokens (BOS included when the model adds one).
    ///   - threads: worker threads for the query/key importance.
    public init(transformer: Transformer, tokenizer: Tokenizer, fingerprint: String, maxTokens: Int = 512,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard maxTokens >= 2 else { throw NeuronsError.invalidOption(name: "--max-tokens", reason: "must be at least 2, got \(maxTokens)") }
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.fingerprint = fingerprint
        self.maxTokens = maxTokens
        plnd = PLND(transformer: transformer, threads: threads)
    }

    public convenience init(model: LoadedModel, maxTokens: Int = 512, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        try self.init(transformer: model.transformer, tokenizer: model.tokenizer, fingerprint: model.fingerprint,
                      maxTokens: maxTokens, threads: threads)
    }

    /// The token ids PLND sees for a document: the model's own encoding, truncated to `maxTokens`.
    public func tokens(of document: String) -> [Int32] {
        Array(tokenizer.encode(document, addSpecialTokens: true).prefix(maxTokens))
    }

    /// Runs every document once, adding its importances to `accumulator`; when `dump` is given,
    /// also writes each document's vectors as `doc{i}.layer{l}.{structure}` (i counts used documents).
    public func run(_ documents: [String], into accumulator: PLNDAccumulator, dump: ScoreDumpWriter? = nil,
                    progress: ((DetectionProgress) -> Void)? = nil) throws -> DetectionSummary {
        guard accumulator.sizes == StructureSizes(config: transformer.config) else {
            throw NeuronsError.invalidOption(name: "accumulator", reason: "was made for a different model shape")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var hasher = SHA256Hasher()
        var used = 0, skipped = 0, tokens = 0
        for (i, doc) in documents.enumerated() {
            let ids = self.tokens(of: doc)
            if ids.count < 2 { skipped += 1; continue }
            let layers = try plnd.importance(of: ids)
            try accumulator.add(layers, tokens: ids.count)
            if let dump {
                for li in layers {
                    for st in NeuronStructure.allCases { try dump.append("doc\(used).layer\(li.layer).\(st.rawValue)", li[st]) }
                }
            }
            let bytes = Data(doc.utf8)
            var n = UInt64(bytes.count).littleEndian
            withUnsafeBytes(of: &n) { hasher.update($0) }
            hasher.update(bytes)
            used += 1
            tokens += ids.count
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            progress?(DetectionProgress(documentsDone: i + 1, documentsTotal: documents.count, tokens: tokens, seconds: secs))
        }
        guard used > 0 else {
            throw NeuronsError.emptyCorpus(path: "(documents)", reason: "all \(documents.count) documents tokenise to fewer than 2 tokens")
        }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return DetectionSummary(documents: used, skipped: skipped, tokens: tokens, seconds: secs, corpusSHA256: hasher.finalizeHex())
    }
}
