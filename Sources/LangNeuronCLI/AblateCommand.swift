import ArgumentParser
import Corpus
import Evaluation
import Foundation
import ModelIO
import Models
import Neurons

/// `langneuron ablate`: deactivation experiments (method §5).
struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Zero a neuron set by stage and compare per-language perplexity with a random control of the same size.",
        discussion: """
        Stages: understanding = first N layers (all structures); solve-attn = middle layers, q/k/v/o only; \
        solve-ffn = middle layers, FFN only; generation = last M layers (all); all = every layer. The control \
        is a random set with the same count per layer and structure (seed --random-seed), restricted the same \
        way. "change" is the relative perplexity increase in percent, 100·(ppl_after/ppl_before − 1); \
        ΔEng is English's change, Δn-Eng the mean change of the other languages, Δ = ΔEng − Δn-Eng. \
        Each language reads --corpus LANG=FILE, else the data set wiki-LANG, and uses the sampler's held-out documents.
        """)

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(help: "Neuron-set file (from `langneuron detect`).")
    var neurons: String
    @Option(help: "Comma-separated stages: understanding, solve-attn, solve-ffn, generation, all.")
    var stages = "understanding,solve-attn,solve-ffn,generation,all"
    @Option(help: "N: layers counted as understanding (default: the paper's 8 of 32, scaled and rounded).")
    var understandingLayers: Int?
    @Option(help: "M: layers counted as generation (default: the paper's 4 of 32, scaled and rounded).")
    var generationLayers: Int?
    @Option(help: "Comma-separated language codes.")
    var languages = "en,vi"
    @Option(help: "The language code treated as English for ΔEng.")
    var english = "en"
    @Option(name: .customLong("corpus"), help: "LANG=FILE: the corpus for one language (repeatable).")
    var corpora: [String] = []
    @Option(help: "Held-out documents per language.")
    var documents = 20
    @Option(help: "Tokens per document (longer ones are cut).")
    var maxTokens = 256
    @Option(help: "Minimum characters of a document.")
    var minChars = 200
    @Option(help: "Document sampling seed.")
    var seed: UInt64 = 1
    @Option(help: "Seed of the random control set.")
    var randomSeed: UInt64 = 1
    @Flag(help: "Skip the random control.")
    var noRandom = false
    @Option(help: "Also write the table as Markdown to this file.")
    var markdown: String?
    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard documents > 0 else { throw ValidationError("--documents must be at least 1") }
        guard maxTokens >= 2 else { throw ValidationError("--max-tokens must be at least 2 (one prediction)") }
        if let n = understandingLayers, n < 0 { throw ValidationError("--understanding-layers must not be negative") }
        if let m = generationLayers, m < 0 { throw ValidationError("--generation-layers must not be negative") }
    }

    func run() throws {
        let stageList = try DeactivationStage.parseList(stages)
        var corpusFor = [String: String]()
        for c in corpora {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--corpus takes LANG=FILE, got \(c)") }
            corpusFor[parts[0]] = parts[1]
        }
        let langs = languages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !langs.isEmpty else { throw ValidationError("--languages: give at least one language code") }

        let set = try NeuronSet.load(url: URL(fileURLWithPath: neurons))
        let m = try loadModel(model, quiet: json)
        try set.validate(against: m.config, fingerprint: m.fingerprint)
        let layers = m.config.layers
        let scaled = StageLayout.paperScaled(layers: layers)
        let layout = try StageLayout(layers: layers, understandingLayers: understandingLayers ?? scaled.understandingLayers,
                                     generationLayers: generationLayers ?? scaled.generationLayers)
        if layout.understandingLayers + layout.generationLayers == layers,
           stageList.contains(.solveAttention) || stageList.contains(.solveFFN) {
            printError("warning: N + M = \(layers) leaves no middle layers; solve-attn and solve-ffn zero nothing")
        }

        var docs = [(language: String, texts: [String])]()
        for lang in langs {
            let source = try resolveCorpus(corpusFor[lang] ?? "wiki-\(lang)")
            let sampler = try DocumentSampler(documents: 0, heldout: documents, seed: seed, minChars: minChars, language: lang)
            let split = try sampler.split(path: source.path)
            if split.heldout.isEmpty {
                throw ValidationError("\(lang): \(source.path) gave no documents of at least \(minChars) characters; pass --corpus \(lang)=FILE or lower --min-chars")
            }
            if split.heldout.count < documents {
                printError("warning: \(lang): \(source.lastPathComponent) gave \(split.heldout.count) documents, fewer than \(documents)")
            }
            docs.append((lang, split.heldout.map(\.text)))
        }

        let masks = set.toLayerMasks()
        let random = noRandom ? nil : try NeuronSet.randomMatching(set, config: m.config, seed: randomSeed).toLayerMasks()
        if !json {
            printError("neuron set: \(set.totalCount) neurons; layers \(layers): understanding 0–\(layout.understandingLayers - 1), "
                       + "generation \(layers - layout.generationLayers)–\(layers - 1)")
        }
        let progress = ProgressLine()
        let report = try Deactivation.run(model: m.transformer, tokenizer: m.tokenizer, documents: docs, masks: masks,
                                          randomMasks: random, stages: stageList, layout: layout, english: english,
                                          maxTokens: maxTokens, seed: seed) { line in if !json { progress.update(line) } }
        progress.finish()

        if let path = markdown {
            let title = "Deactivation: \(URL(fileURLWithPath: neurons).lastPathComponent) on \(model)"
            let writer = try AtomicFileWriter(destination: URL(fileURLWithPath: path))
            try writer.write(Data(report.markdown(title: title).utf8))
            try writer.commit()
            if !json { printError("wrote \(path)") }
        }
        if json {
            // an overflowing perplexity (mean NLL > 709) is written as the string "inf", not an encoding error
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            var obj = try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any] ?? [:]
            obj["model_fingerprint"] = m.fingerprint
            obj["neurons"] = neurons
            obj["neuron_count"] = set.totalCount
            if !noRandom { obj["random_seed"] = randomSeed }
            obj["seed"] = seed
            try printJSON(obj)
        } else {
            print(DeactivationReport.changeDefinition)
            print(report.table(), terminator: "")
        }
    }
}
