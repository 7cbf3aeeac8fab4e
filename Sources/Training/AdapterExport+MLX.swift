import Foundation
import ModelIO
import Models

/// mlx-lm LoRA adapters: `adapters.safetensors` + `adapter_config.json`.
///
/// mlx-lm's `LoRALinear` computes y + scale · (x · lora_a) · lora_b with `lora_a` `[in, r]` and
/// `lora_b` `[r, out]` (the transposes of PEFT's A and B) and one rank for every module, so the
/// factors must all be padded to one rank. Keys are `<module>.lora_a` / `.lora_b` with Hugging
/// Face module names. The config has `fine_tune_type` lora, `num_layers` = all layers and
/// `lora_parameters` {rank, scale 1.0, dropout 0.0, keys = the trained module kinds}. Modules of
/// those kinds that the delta does not train get no tensors: mlx-lm starts `lora_b` at zero.
public enum MLXAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapters.safetensors"

    /// Writes the adapter into directory `dir`. `factors` must be in Hugging Face layout and share one rank.
    public static func write(factors: [LoRAFactors], config c: ModelConfig, baseModelID: String,
                             metadata: [String: String], to dir: URL) throws {
        guard let rank = factors.first?.rank, factors.allSatisfy({ $0.rank == rank }) else {
            throw TrainingError.adapterExport(path: dir.path, reason: "mlx-lm adapters need one rank for every module; pad the factors to one rank")
        }
        try AdapterExport.makeDirectory(dir)
        var tensors = [SafetensorsWriter.Tensor]()
        var keys = Set<String>()
        let layerPrefix = "model.layers."
        for f in factors {
            let module = AdapterExport.huggingFaceModule(layer: f.layer, f.tensor, architecture: c.architecture)
            // "model.layers.3.self_attn.q_proj" → "self_attn.q_proj", the name inside a layer.
            let inLayer = module.dropFirst(layerPrefix.count).drop(while: { $0 != "." }).dropFirst()
            keys.insert(String(inLayer))
            tensors.append(.init(name: module + ".lora_a", shape: [f.inDim, rank], floats: AdapterExport.transpose(f.a, rows: rank, cols: f.inDim)))
            tensors.append(.init(name: module + ".lora_b", shape: [rank, f.outDim], floats: AdapterExport.transpose(f.b, rows: f.outDim, cols: rank)))
        }
        let config: [String: Any] = [
            "fine_tune_type": "lora",
            "model": baseModelID,
            "num_layers": c.layers,
            "lora_parameters": ["rank": rank, "scale": 1.0, "dropout": 0.0, "keys": keys.sorted()] as [String: Any],
        ]
        var meta = metadata
        meta["format"] = "mlx"
        try SafetensorsWriter.write(tensors: tensors, metadata: meta, to: dir.appendingPathComponent(weightsFile))
        try AdapterExport.writeJSON(config, to: dir.appendingPathComponent(configFile))
    }
}
