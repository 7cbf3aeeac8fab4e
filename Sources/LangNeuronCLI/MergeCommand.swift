import ArgumentParser
import Foundation
import ModelIO
import Models
import Store
import Training

/// `langneuron merge`: write a base model with deltas added, in the base's own format.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add sparse deltas to a base model and write the result (GGUF in → GGUF out, safetensors in → safetensors out).",
        discussion: """
        Merged tensors are written as float32; all others are copied unchanged. Several deltas add up; \
        DELTA:0.5 scales one; --subtract reverts them.
        """)

    @Argument(help: "Base model: a default name, a GGUF file or a Hugging Face directory.")
    var base: String
    @Argument(help: "Delta files (delta.safetensors), optionally with :scale.")
    var deltas: [String]
    @Option(name: .shortAndLong, help: "Output: a .gguf file, or a directory for a Hugging Face base.")
    var output: String
    @Flag(help: "Subtract the deltas instead of adding them.")
    var subtract = false

    func run() throws {
        guard !deltas.isEmpty else { throw ValidationError("give at least one delta") }
        let resolved = try ModelLocator(progress: { printError($0) }).resolve(base)
        let fingerprint = try resolved.knownSHA256 ?? ModelFingerprint.of(url: resolved.url)
        let scaled = try deltas.map(ScaledDelta.init(spec:))
        let out = URL(fileURLWithPath: output)
        switch resolved.kind {
        case .gguf:
            let gguf = try GGUFFile(url: resolved.url)
            let config = try ModelConfig(gguf: gguf)
            let merged = try DeltaMerge.mergedTensors(scaled, source: gguf, config: config, fingerprint: fingerprint, subtract: subtract)
            try GGUFWriter.write(copying: gguf, replacing: merged, to: out)
            print("wrote \(out.path): \(merged.count) tensors merged (float32), \(gguf.tensors.count - merged.count) copied")
        case .huggingFaceDirectory:
            let dir = try HuggingFaceModelDirectory(url: resolved.url)
            let modelType = dir.config["model_type"] as? String ?? ""
            let tied = (dir.config["tie_word_embeddings"] as? Bool) ?? modelType.hasPrefix("gemma")
            let config = try ModelConfig(huggingFaceConfig: dir.config, path: resolved.url.path, hasLMHead: !tied)
            let merged = try DeltaMerge.mergedTensors(scaled, source: dir.weights, config: config, fingerprint: fingerprint, subtract: subtract)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            var tensors = [SafetensorsWriter.Tensor]()
            for name in dir.weights.tensorNames {
                if let values = merged[name] {
                    tensors.append(.init(name: name, shape: dir.weights.shape(of: name) ?? [], floats: values))
                } else if let (file, info) = dir.weights.locate(name) {
                    tensors.append(.init(name: name, dtype: info.dtype, shape: info.shape, bytes: file.rawBytes(info)))
                }
            }
            try SafetensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: out.appendingPathComponent("model.safetensors"))
            // Everything but the weights (config, tokenizer files) is copied as is.
            for item in try FileManager.default.contentsOfDirectory(atPath: resolved.url.path)
            where !item.hasSuffix(".safetensors") && item != "model.safetensors.index.json" {
                let dst = out.appendingPathComponent(item)
                try? FileManager.default.removeItem(at: dst)
                try FileManager.default.copyItem(at: resolved.url.appendingPathComponent(item), to: dst)
            }
            print("wrote \(out.path)/model.safetensors: \(merged.count) tensors merged (float32), \(tensors.count - merged.count) copied")
        }
    }
}
