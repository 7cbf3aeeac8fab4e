import ArgumentParser
import Corpus
import Foundation

/// `langneuron corpus …`: turn Wikipedia dumps and other corpora into clean documents.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Extract, inspect, sample and benchmark text corpora (Wikipedia dumps, JSON lines, plain text).",
        subcommands: [CorpusExtract.self, CorpusStatsCommand.self, CorpusSample.self, CorpusBench.self]
    )
}

extension SourceFormat: ExpressibleByArgument {}

func reportJSON(_ r: ReadReport) -> [String: Any] {
    var skipped: [String: Int] = [:]
    for (reason, n) in r.skipped { skipped[reason.rawValue] = n }
    var out: [String: Any] = [
        "format": r.format.rawValue, "compression": r.compression.rawValue, "pages": r.pages, "articles": r.articles,
        "documents": r.documents, "skipped": skipped, "truncated": r.truncated, "warnings": r.warnings,
        "compressed_bytes": r.compressedBytes, "decoded_bytes": r.decodedBytes,
    ]
    if let d = r.truncationDetail { out["truncation"] = d }
    return out
}

func describe(_ r: ReadReport) -> String {
    var lines = ["format \(r.format.rawValue) (\(r.compression.rawValue)), \(r.decodedBytes) bytes decoded",
                 "pages \(r.pages), articles \(r.articles), documents \(r.documents)"]
    if !r.skipped.isEmpty {
        lines.append("skipped: " + r.skipped.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))
    }
    if r.truncated { lines.append("TRUNCATED: \(r.truncationDetail ?? "source cut short")") }
    for w in r.warnings { lines.append("warning: \(w)") }
    return lines.joined(separator: "\n")
}

func standardError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

struct CorpusExtract: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "extract",
        abstract: "Write the clean documents of a dump (or JSON lines / text corpus) as JSON lines (.jsonl or .jsonl.zst)."
    )

    @Argument(help: "Source: pages-articles XML (.xml, .bz2, .zst), .jsonl[.zst], or .txt.")
    var source: String

    @Option(name: .long, help: "Output file; .zst compresses with zstd.")
    var out: String

    @Option(name: .long, help: "Skip documents shorter than this many characters.")
    var minChars: Int = 0

    @Option(name: .long, help: "Force the source format (xml, jsonl, text).")
    var format: SourceFormat?

    @Option(name: .long, help: "Stop after this many documents.")
    var limit: Int?

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() throws {
        let reader = try DocumentReader(path: source, options: .init(format: format, minChars: minChars))
        let writer = try DocumentWriter(path: out)
        let start = Date()
        while limit.map({ writer.count < $0 }) ?? true, let doc = try reader.next() {
            try writer.write(doc)
        }
        try writer.finish()
        let seconds = Date().timeIntervalSince(start)
        let r = reader.report
        if json {
            var obj = reportJSON(r)
            obj["output"] = out
            obj["written"] = writer.count
            obj["seconds"] = seconds
            try printJSON(obj)
        } else {
            print(describe(r))
            print("wrote \(writer.count) documents to \(out) in \(String(format: "%.2f", seconds)) s")
        }
    }
}

struct CorpusStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count documents, their lengths and script mix in a corpus file."
    )

    @Argument(help: "Any corpus file the tool reads (extract output, dump, JSON lines, text).")
    var file: String

    @Option(name: .long, help: "Expected language (ISO 639-1), to report the share of its script(s).")
    var language: String?

    @Option(name: .long, help: "A document is off-script when less than this fraction of its letters is in the expected script(s).")
    var threshold: Double = 0.5

    @Option(name: .long, help: "Force the source format (xml, jsonl, text).")
    var format: SourceFormat?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let profile = try language.map { try ScriptProfile(language: $0) }
        let reader = try DocumentReader(path: file, options: .init(format: format))
        var stats = CorpusStats(profile: profile, threshold: threshold)
        while let doc = try reader.next() { stats.add(doc) }
        let quantiles: [(String, Double)] = [("min", 0), ("p10", 0.1), ("p50", 0.5), ("p90", 0.9), ("max", 1)]
        if json {
            var obj: [String: Any] = [
                "documents": stats.documents, "characters": stats.characters, "bytes": stats.bytes,
                "mean_chars": stats.meanLength, "report": reportJSON(reader.report),
                "length_chars": Dictionary(uniqueKeysWithValues: quantiles.map { ($0.0, stats.lengthQuantile($0.1)) }),
                "scripts": Dictionary(uniqueKeysWithValues: stats.scripts.shares.map { ($0.script.rawValue, $0.fraction) }),
            ]
            if let profile, let f = stats.expectedScriptFraction {
                obj["language"] = profile.language
                obj["expected_script_fraction"] = f
                obj["off_script_documents"] = stats.offScriptDocuments
                obj["off_script_examples"] = stats.offScriptExamples
            }
            try printJSON(obj)
            return
        }
        print(describe(reader.report))
        print("documents \(stats.documents), characters \(stats.characters), bytes \(stats.bytes), mean \(String(format: "%.0f", stats.meanLength)) chars")
        print("length (chars): " + quantiles.map { "\($0.0) \(stats.lengthQuantile($0.1))" }.joined(separator: ", "))
        print("scripts: " + stats.scripts.shares.filter { $0.fraction >= 0.0005 }.prefix(8).map { "\($0.script.rawValue) \(String(format: "%.1f%%", $0.fraction * 100))" }.joined(separator: ", "))
        if let profile, let f = stats.expectedScriptFraction {
            print("\(profile.language) script share: \(String(format: "%.1f%%", f * 100)); off-script documents: \(stats.offScriptDocuments)")
            if stats.offScriptDocuments > 0 {
                standardError("warning: \(stats.offScriptDocuments) documents are mostly not in the \(profile.language) script, e.g. "
                              + stats.offScriptExamples.prefix(5).map { "'\($0)'" }.joined(separator: ", "))
            }
        }
    }
}

struct CorpusSample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Deterministically sample train and held-out documents (exact duplicates removed)."
    )

    @Argument(help: "Source corpus files (dump or its shards, JSON lines, text); sampled as one source.")
    var sources: [String]

    @Option(name: .long, help: "Training documents.")
    var documents: Int

    @Option(name: .long, help: "Held-out documents (disjoint from training).")
    var heldout: Int = 0

    @Option(name: .long, help: "Sampling seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Minimum document length in characters.")
    var minChars: Int = 0

    @Option(name: .long, help: "Expected language: documents mostly in another script are excluded.")
    var language: String?

    @Option(name: .long, help: "Training output (.jsonl or .jsonl.zst).")
    var outTrain: String

    @Option(name: .long, help: "Held-out output (.jsonl or .jsonl.zst).")
    var outHeldout: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let profile = try language.map { try ScriptProfile(language: $0) }
        let sampler = try DocumentSampler(documents: documents, heldout: heldout, seed: seed, minChars: minChars, profile: profile)
        let split = try sampler.split(paths: sources)
        let trainWriter = try DocumentWriter(path: outTrain)
        for d in split.train { try trainWriter.write(d) }
        try trainWriter.finish()
        if let outHeldout {
            let w = try DocumentWriter(path: outHeldout)
            for d in split.heldout { try w.write(d) }
            try w.finish()
        } else if !split.heldout.isEmpty {
            standardError("warning: \(split.heldout.count) held-out documents were sampled but --out-heldout was not given")
        }
        if json {
            var obj: [String: Any] = ["train": split.train.count, "heldout": split.heldout.count, "eligible": split.eligible,
                                      "duplicates_removed": split.duplicatesRemoved, "off_script": split.offScript,
                                      "warnings": split.warnings]
            obj["reports"] = split.reports.map(reportJSON)
            try printJSON(obj)
        } else {
            for r in split.reports { print(describe(r)) }
            print("train \(split.train.count) → \(outTrain); held-out \(split.heldout.count)\(outHeldout.map { " → \($0)" } ?? "")")
            for w in split.warnings { standardError("warning: \(w)") }
        }
    }
}

struct CorpusBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure MB/s of dump processing (decompress + parse + clean, one core)."
    )

    @Argument(help: "A pages-articles dump (.xml, .bz2, .zst).")
    var dump: String

    @Option(name: .customLong("repeat"), help: "Also time a dump built by repeating the pages N times (zstd-compressed in memory).")
    var repeat_: Int = 0

    @Option(name: .long, help: "Write the repeated, uncompressed XML here too (for comparisons with other tools).")
    var writeRepeated: String?

    @Option(name: .long, help: "Timed runs per input; the best is reported.")
    var runs: Int = 3

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        guard runs >= 1 else { throw CorpusError.invalidArgument(name: "--runs", value: String(runs), hint: "must be at least 1") }
        guard repeat_ >= 0 else { throw CorpusError.invalidArgument(name: "--repeat", value: String(repeat_), hint: "must be 0 or more") }
        var results: [[String: Any]] = []
        let file = try CorpusBenchmark.time(runs: runs) { try DocumentReader(path: dump) }
        results.append(file.json(label: dump))
        if repeat_ > 0 {
            let built = try CorpusBenchmark.repeatedDump(path: dump, times: repeat_)
            if let writeRepeated {
                try Data(built.xml).write(to: URL(fileURLWithPath: writeRepeated), options: .atomic)
            }
            let xmlOnly = try CorpusBenchmark.time(runs: runs) { try DocumentReader(bytes: built.xml, name: "repeated.xml") }
            results.append(xmlOnly.json(label: "\(dump) ×\(repeat_) (uncompressed, in memory)"))
            let zst = try CorpusBenchmark.time(runs: runs) { try DocumentReader(bytes: built.zstd, name: "repeated.xml.zst") }
            results.append(zst.json(label: "\(dump) ×\(repeat_) (zstd, in memory)"))
        }
        if json {
            try printJSON(["results": results])
        } else {
            for r in results {
                let label = r["input"] as? String ?? ""
                let mb = (r["xml_mb"] as? Double) ?? 0
                let docs = (r["documents"] as? Int) ?? 0
                let cpu = (r["cpu_seconds"] as? Double) ?? 0
                let wall = (r["wall_seconds"] as? Double) ?? 0
                let rate = (r["mb_per_s"] as? Double) ?? 0
                print("\(label): \(String(format: "%.1f", mb)) MB of XML, \(docs) documents, "
                      + "\(String(format: "%.3f", cpu)) s CPU (\(String(format: "%.3f", wall)) s wall) → \(String(format: "%.1f", rate)) MB/s per core")
            }
        }
    }
}
