import Distributed
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
    ///
    /// With several ranks in `communicator`, documents go round-robin (document i to rank i mod N)
    /// in rounds of N; after each round every rank receives the round's importances and adds them
    /// in document order, so every rank's accumulator (and the selection made from it) has the
    /// same bits as one process's. Every rank must pass the same documents.
    public func run(_ documents: [String], into accumulator: PLNDAccumulator, dump: ScoreDumpWriter? = nil,
                    communicator: Communicator = .world,
                    progress: ((DetectionProgress) -> Void)? = nil) throws -> DetectionSummary {
        guard accumulator.sizes == StructureSizes(config: transformer.config) else {
            throw NeuronsError.invalidOption(name: "accumulator", reason: "was made for a different model shape")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var hasher = SHA256Hasher()
        var used = 0, skipped = 0, tokens = 0
        let ranks = communicator.size
        var first = 0
        while first < documents.count {
            let round = first..<min(documents.count, first + ranks)
            // This rank's document of the round (if any), as [tokens, layer 0 q k v o ffn, layer 1 …].
            var mine = [Double]()
            let i = first + communicator.rank
            if i < round.upperBound {
                let ids = self.tokens(of: documents[i])
                if ids.count >= 2 { mine = Self.flatten(try plnd.importance(of: ids), tokens: ids.count) }
            }
            let results = ranks > 1 ? try communicator.allgather(doubles: mine, what: "the importances of documents \(round.lowerBound + 1)-\(round.upperBound)")
                                    : [mine]
            for (k, flat) in results.enumerated() where first + k < round.upperBound {
                let doc = documents[first + k]
                if flat.isEmpty { skipped += 1; continue }
                let (layers, n) = try unflatten(flat)
                try accumulator.add(layers, tokens: n)
                if let dump {
                    for li in layers {
                        for st in NeuronStructure.allCases { try dump.append("doc\(used).layer\(li.layer).\(st.rawValue)", li[st]) }
                    }
                }
                let bytes = Data(doc.utf8)
                var len = UInt64(bytes.count).littleEndian
                withUnsafeBytes(of: &len) { hasher.update($0) }
                hasher.update(bytes)
                used += 1
                tokens += n
            }
            first = round.upperBound
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            progress?(DetectionProgress(documentsDone: first, documentsTotal: documents.count, tokens: tokens, seconds: secs))
        }
        guard used > 0 else {
            throw NeuronsError.emptyCorpus(path: "(documents)", reason: "all \(documents.count) documents tokenise to fewer than 2 tokens")
        }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return DetectionSummary(documents: used, skipped: skipped, tokens: tokens, seconds: secs, corpusSHA256: hasher.finalizeHex())
    }

    /// One document's importances as one vector (what travels between ranks).
    static func flatten(_ layers: [LayerImportance], tokens: Int) -> [Double] {
        var out = [Double(tokens)]
        for li in layers { for st in NeuronStructure.allCases { out += li[st] } }
        return out
    }

    func unflatten(_ flat: [Double]) throws -> ([LayerImportance], Int) {
        let sizes = StructureSizes(config: transformer.config)
        let perLayer = NeuronStructure.allCases.reduce(0) { $0 + sizes.count($1) }
        guard flat.count == 1 + sizes.layers * perLayer else {
            throw NeuronsError.invalidOption(name: "importances", reason: "another rank sent \(flat.count) values, expected \(1 + sizes.layers * perLayer)")
        }
        var o = 1
        func take(_ st: NeuronStructure) -> [Double] {
            defer { o += sizes.count(st) }
            return Array(flat[o..<(o + sizes.count(st))])
        }
        let layers = (0..<sizes.layers).map { l in
            LayerImportance(layer: l, attnQ: take(.attnQ), attnK: take(.attnK), attnV: take(.attnV), attnOutput: take(.attnOutput), ffn: take(.ffn))
        }
        return (layers, Int(flat[0]))
    }
}
