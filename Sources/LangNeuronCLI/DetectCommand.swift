import ArgumentParser
import Distributed
import Foundation
import Models
import Neurons

/// `langneuron detect`: language-specific neurons of a model from a corpus of one language (PLND).
struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find the language-specific neurons of a model with PLND over a corpus of one language.",
        discussion: """
        Each document (truncated to --max-tokens, BOS included as the model adds it) is run once; \
        every neuron's importance is computed (method §3). A neuron is selected when it is important \
        in at least ⌈p·n⌉ documents (--consistency p): in its matrix's per-document top-k \
        (--top-k-attn for q/k/v/o, --top-k-ffn for the feed-forward units) and/or at least --epsilon. \
        Then --exclude removes another set's neurons and --cap keeps the highest mean importance per matrix.
        """)

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.") var model: String
    @Option(name: .customLong("delta"), help: "Merge a delta in memory first (path or path:scale; repeatable).") var deltas: [String] = []
    @Option(help: "Corpus: a Wikipedia dump (.xml, .bz2, .zst), JSON lines, plain text (one document per line), or a data-set name (wiki-vi, plnd-en, …). Documents under 200 characters are skipped.") var corpus: String
    @Option(help: "Language code recorded in the set (e.g. vi).") var language: String
    @Option(help: "Number of documents to use (the first N non-blank lines).") var documents: Int
    @Option(help: "Tokens per document (longer documents are truncated).") var maxTokens = 512
    @Option(name: .customLong("top-k-attn"), help: "Per-document top-k of each attention matrix (q, k, v, o).") var topKAttn: Int?
    @Option(name: .customLong("top-k-ffn"), help: "Per-document top-k of each feed-forward matrix.") var topKFFN: Int?
    @Option(help: "Importance threshold ε (with a top-k, both must hold).") var epsilon: Double?
    @Option(help: "Fraction of documents a neuron must be important in.") var consistency = 1.0
    @Option(help: "At most N neurons per layer and structure (highest mean importance).") var cap: Int?
    @Option(help: "A neuron set to subtract (e.g. the English set).") var exclude: String?
    @Option(help: "Also write every document's importance vectors (float32 safetensors: doc{i}.layer{l}.{structure}).") var dumpScores: String?
    @Option(help: "Worker threads for the query/key importance (default: all processors).") var threads: Int?
    @Option(name: [.customShort("o"), .long], help: "Output neuron-set file.") var output: String
    @Flag(help: "Print a JSON summary on standard output.") var json = false

    func validate() throws {
        if documents <= 0 { throw ValidationError("--documents must be positive") }
        if maxTokens < 2 { throw ValidationError("--max-tokens must be at least 2") }
        if let t = threads, t <= 0 { throw ValidationError("--threads must be positive") }
    }

    func run() throws {
        let options = SelectionOptions(topKAttention: topKAttn, topKFFN: topKFFN, epsilon: epsilon, consistency: consistency, cap: cap)
        try options.validate()
        let docs = try loadDocuments(path: try resolveCorpus(corpus).path, count: documents, minChars: 200)
        if docs.count < documents { printError("note: \(corpus) has only \(docs.count) documents; using all of them") }
        let m = try loadModel(model, deltas: deltas, quiet: false)
        let excluded = try exclude.map { path -> NeuronSet in
            let s = try NeuronSet.load(url: URL(fileURLWithPath: path))
            try s.validate(against: m.config, fingerprint: m.fingerprint)
            return s
        }
        let outURL = try outputURL(output)
        let sizes = StructureSizes(config: m.config)
        let detector = try Detector(model: m, maxTokens: maxTokens, threads: threads ?? MPISetup.workerThreads)
        let acc = PLNDAccumulator(sizes: sizes, options: options)
        // Under mpirun the ranks split the documents; every rank ends with the same sums, rank 0 writes.
        let writes = Communicator.world.isRoot
        let dump = writes ? try dumpScores.map { try ScoreDumpWriter(url: outputURL($0)) } : nil
        let tty = isatty(2) != 0
        let summary = try detector.run(docs, into: acc, dump: dump) { p in
            guard writes else { return }
            let eta = p.eta.isFinite ? formatDuration(p.eta) : "?"
            let line = String(format: "docs %d/%d  %d tokens  %.0f tokens/s  ETA %@", p.documentsDone, p.documentsTotal, p.tokens,
                              p.tokensPerSecond, eta)
            FileHandle.standardError.write(Data((tty ? "\r" + line + "  " : line + "\n").utf8))
        }
        if tty && writes { FileHandle.standardError.write(Data("\n".utf8)) }
        var set = try acc.select(options, exclude: excluded)
        set.fingerprint = m.fingerprint
        set.language = language
        set.modelExtra["architecture"] = .string(m.config.architecture.rawValue)
        set.extra["corpus"] = .object([
            "file": .string(URL(fileURLWithPath: corpus).lastPathComponent), "documents": .int(summary.documents),
            "skipped": .int(summary.skipped), "tokens": .int(summary.tokens), "max_tokens": .int(maxTokens),
            "sha256": .string(summary.corpusSHA256),
        ])
        guard writes else { return }
        try set.write(to: outURL)
        if let dump {
            try dump.finish(metadata: ["format": "langneuron.plnd-scores/1", "model_fingerprint": m.fingerprint, "language": language,
                                       "documents": String(summary.documents), "max_tokens": String(maxTokens),
                                       "corpus_sha256": summary.corpusSHA256])
        }
        if json {
            try printJSON(["output": output, "documents": summary.documents, "skipped": summary.skipped, "tokens": summary.tokens,
                           "seconds": summary.seconds, "tokens_per_s": summary.tokensPerSecond, "corpus_sha256": summary.corpusSHA256,
                           "neurons": set.totalCount,
                           "by_structure": Dictionary(uniqueKeysWithValues: NeuronStructure.allCases.map { ($0.rawValue, set.count(structure: $0)) })])
        } else {
            print(String(format: "%d documents (%d skipped), %d tokens in %.1f s: %.0f tokens/s", summary.documents, summary.skipped,
                         summary.tokens, summary.seconds, summary.tokensPerSecond))
            print("wrote \(output): \(set.totalCount) neurons (\(language))")
            print(countsTable(set))
        }
    }
}
