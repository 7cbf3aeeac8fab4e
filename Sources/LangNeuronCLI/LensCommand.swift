import ArgumentParser
import Corpus
import Evaluation
import Foundation
import ModelIO
import Models

/// `langneuron lens`: logit lens by layer (method §7, paper Figure 1).
struct LensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "Logit lens: share of English / own-language / other tokens among the top-k of every layer.",
        discussion: """
        For each layer the residual stream entering it (and the last layer's output) goes through the final \
        norm and the output head; the top-k tokens of every position are decoded and labelled by script: \
        Latin tokens count as English for non-Latin targets; for Latin-script targets (e.g. vi) a token with \
        a non-ASCII letter counts as the target's, an ASCII word goes to whichever word list (English from \
        --english-words, the target's from its own corpus, documents disjoint from the lens documents) \
        has it more often, and tokens without letters are "other". Writes DIR/lens.json, DIR/lens.csv and \
        DIR/lens.svg (English-token ratio by layer, one line per language).
        """)

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(help: "Comma-separated language codes.")
    var languages = "en,vi"
    @Option(name: .customLong("corpus"), help: "LANG=FILE|DATASET for one language (repeatable); default wiki-LANG.")
    var corpora: [String] = []
    @Option(help: "English corpus (file or data set) for the English word list.")
    var englishWords = "plnd-en"
    @Option(help: "Documents per corpus used to build each word list.")
    var wordDocuments = 200
    @Option(help: "Documents per language.")
    var documents = 8
    @Option(help: "Tokens per document (longer ones are cut).")
    var maxTokens = 128
    @Option(help: "Top tokens per position.")
    var topK = 10
    @Option(help: "Minimum characters of a document.")
    var minChars = 200
    @Option(help: "Sampling seed.")
    var seed: UInt64 = 1
    @Option(name: [.short, .customLong("output")], help: "Output directory.")
    var output: String

    func validate() throws {
        guard documents > 0 else { throw ValidationError("--documents must be at least 1") }
        guard maxTokens >= 1 else { throw ValidationError("--max-tokens must be at least 1") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1") }
        guard wordDocuments >= 0 else { throw ValidationError("--word-documents must not be negative") }
    }

    func run() throws {
        var corpusFor = [String: String]()
        for c in corpora {
            let parts = c.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--corpus takes LANG=FILE or LANG=DATASET, got \(c)") }
            corpusFor[parts[0]] = parts[1]
        }
        let langs = languages.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !langs.isEmpty else { throw ValidationError("--languages: give at least one language code") }
        for lang in langs where (try? ScriptProfile(language: lang)) == nil {
            throw ValidationError("--languages: no script profile for '\(lang)'; use codes such as en, vi, ja, bn")
        }

        let enSource = try resolveCorpus(englishWords)
        let enSplit = try DocumentSampler(documents: wordDocuments, heldout: 0, seed: seed, minChars: minChars, language: "en")
            .split(path: enSource.path)
        let englishFreq = WordFrequencies(texts: enSplit.train.map(\.text))
        var docs = [(language: String, texts: [String])]()
        var classifiers = [String: LensTokenClassifier]()
        for lang in langs {
            let source = try resolveCorpus(corpusFor[lang] ?? "wiki-\(lang)")
            // word-list documents first, lens documents after: disjoint by construction. Only
            // Latin-script targets other than English use a word list of their own.
            let needsWords = lang != "en" && (try? ScriptProfile(language: lang))?.scripts == [.latin]
            let split = try DocumentSampler(documents: needsWords ? wordDocuments : 0, heldout: documents, seed: seed,
                                            minChars: minChars, language: lang)
                .split(path: source.path)
            guard !split.heldout.isEmpty else {
                throw ValidationError("\(lang): \(source.path) gave no documents for the lens (need more than --word-documents \(wordDocuments) of at least \(minChars) characters)")
            }
            if split.heldout.count < documents {
                printError("warning: \(lang): \(source.lastPathComponent) gave \(split.heldout.count) lens documents, fewer than \(documents)")
            }
            docs.append((lang, split.heldout.map(\.text)))
            classifiers[lang] = try LensTokenClassifier(target: lang, english: englishFreq, targetWords: WordFrequencies(texts: split.train.map(\.text)))
        }

        let m = try loadModel(model)
        let progress = ProgressLine()
        let report = try LogitLens.run(model: m.transformer, tokenizer: m.tokenizer, documents: docs, classifiers: classifiers,
                                       k: topK, maxTokens: maxTokens) { progress.update($0) }
        progress.finish()

        let dir = URL(fileURLWithPath: output)
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) } catch {
            throw ValidationError("-o \(output): cannot create the directory (\(error.localizedDescription))")
        }
        var obj = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any] ?? [:]
        obj["model_fingerprint"] = m.fingerprint
        obj["seed"] = seed
        obj["english_words"] = englishWords
        obj["word_documents"] = wordDocuments
        let json = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        for (name, data) in [("lens.json", json), ("lens.csv", Data(report.csv().utf8))] {
            let w = try AtomicFileWriter(destination: dir.appendingPathComponent(name))
            try w.write(data)
            try w.commit()
        }
        try writePlot(report.svg(title: "Logit lens (\(m.url.lastPathComponent)): English-token ratio"),
                      to: dir.appendingPathComponent("lens.svg").path)
        print("layer " + langs.map { $0.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        print("      " + langs.map { _ in "en/own/other    " }.joined())
        for l in 0...report.layers {
            var line = String(format: "%5d ", l)
            for r in report.languages where l < r.layers.count {
                let x = r.layers[l]
                line += String(format: "%.2f/%.2f/%.2f  ", x.english, x.target, x.other)
            }
            print(line)
        }
        printError("wrote \(dir.appendingPathComponent("lens.json").path), lens.csv")
    }
}
