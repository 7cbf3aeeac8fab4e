import ArgumentParser
import Foundation
import ModelIO
import Models
import Store
import Training

extension AdapterFormat: ExpressibleByArgument {}

/// `langneuron export`: a delta as a LoRA adapter for PEFT/vLLM, llama.cpp or mlx-lm.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a delta as an exact LoRA adapter for PEFT (and vLLM), llama.cpp or mlx-lm.",
        discussion: """
        Trained rows R of a weight W give B = one-hot columns and A = ΔW[R], trained columns the \
        transpose; each module's rank is its number of trained rows/columns and every scale is 1, so \
        the adapter adds exactly the delta. peft and mlx write a directory, gguf-lora a file. \
        --pad-rank zero-pads every module to one rank (vLLM needs one of 8, 16, 32, 64, 128, 256, 320, 512; \
        mlx-lm always uses one rank, by default the largest trained count).
        """)

    @Argument(help: "The delta (delta.safetensors).")
    var delta: String
    @Option(help: "Adapter format: \(AdapterFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: AdapterFormat
    @Option(help: "The base model the delta was trained on: a default name, a GGUF file or a Hugging Face directory.")
    var base: String
    @Option(name: .shortAndLong, help: "Output: a directory (peft, mlx) or a .gguf file (gguf-lora).")
    var output: String
    @Option(help: "Base model id written into the adapter (default: the Hugging Face directory's name or the GGUF's general.name).")
    var baseModelID: String?
    @Option(help: "Zero-pad every module to this rank.")
    var padRank: Int?

    func run() throws {
        guard FileManager.default.fileExists(atPath: delta) else {
            throw CLIError.badInput("\(delta): no such delta file. Pass the delta.safetensors of a training run.")
        }
        let resolved = try ModelLocator(progress: { printError($0) }).resolve(base)
        let fingerprint = try resolved.knownSHA256 ?? ModelFingerprint.of(url: resolved.url)
        let config: ModelConfig
        var ggufArchitecture: String?
        switch resolved.kind {
        case .gguf:
            let gguf = try GGUFFile(url: resolved.url)
            config = try ModelConfig(gguf: gguf)
            ggufArchitecture = gguf.metadata["general.architecture"]?.string
        case .huggingFaceDirectory:
            let dir = try HuggingFaceModelDirectory(url: resolved.url)
            let modelType = dir.config["model_type"] as? String ?? ""
            let tied = (dir.config["tie_word_embeddings"] as? Bool) ?? modelType.hasPrefix("gemma")
            config = try ModelConfig(huggingFaceConfig: dir.config, path: resolved.url.path, hasLMHead: !tied)
        }
        let defaultID = try adapterBaseModelID(of: resolved)
        let file = try DeltaFile.read(url: URL(fileURLWithPath: delta), config: config, fingerprint: fingerprint)
        let summary = try AdapterExport.export(delta: file, deltaPath: delta, config: config, format: format,
                                               baseModelID: baseModelID ?? defaultID, ggufArchitecture: ggufArchitecture,
                                               padRank: padRank, to: URL(fileURLWithPath: output))
        print("wrote \(summary.files.map(\.path).joined(separator: ", ")): \(summary.modules) modules, rank ≤ \(summary.rank), \(summary.bytes) bytes")
    }
}

/// The base model id an adapter records (`base_model_name_or_path`): a GGUF file's
/// `general.name` (else its file name), a Hugging Face directory's name.
func adapterBaseModelID(of resolved: ResolvedModel) throws -> String {
    switch resolved.kind {
    case .gguf:
        return try GGUFFile(url: resolved.url).metadata["general.name"]?.string ?? resolved.url.deletingPathExtension().lastPathComponent
    case .huggingFaceDirectory:
        return resolved.url.standardizedFileURL.lastPathComponent
    }
}

/// Same for a model spec (default name, GGUF path or Hugging Face directory).
func adapterBaseModelID(of spec: String) throws -> String {
    try adapterBaseModelID(of: ModelLocator(progress: { _ in }).resolve(spec))
}
