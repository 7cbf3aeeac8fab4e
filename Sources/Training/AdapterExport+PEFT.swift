import Foundation
import ModelIO
import Models

/// Hugging Face PEFT LoRA adapters: `adapter_config.json` + `adapter_model.safetensors`.
///
/// Keys are `base_model.model.<module>.lora_A.weight` `[r, in]` and `….lora_B.weight` `[out, r]`
/// (F32), modules named as in the Hugging Face checkpoint with q/k rows in its layout. PEFT scales
/// each module by lora_alpha / r; per-module ranks go in `rank_pattern` and `alpha_pattern`
/// (PEFT ≥ 0.6), both set to the module's r so that every scale is exactly 1. vLLM ignores those
/// patterns and uses the global r and lora_alpha: with `padRank` every module is zero-padded to
/// that rank and lora_alpha = r, so there are no patterns.
public enum PEFTAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"

    /// The safetensors key prefix of a module (`base_model.model.` + its module name).
    public static func key(module: String) -> String { "base_model.model.\(module)" }

    /// Writes the adapter into directory `dir`. `factors` must be in Hugging Face layout.
    public static func write(factors: [LoRAFactors], config c: ModelConfig, baseModelID: String, padded: Bool,
                             metadata: [String: String], to dir: URL) throws {
        try AdapterExport.makeDirectory(dir)
        var tensors = [SafetensorsWriter.Tensor]()
        var ranks = [String: Int]()
        for f in factors {
            let module = AdapterExport.huggingFaceModule(layer: f.layer, f.tensor, architecture: c.architecture)
            tensors.append(.init(name: key(module: module) + ".lora_A.weight", shape: [f.rank, f.inDim], floats: f.a))
            tensors.append(.init(name: key(module: module) + ".lora_B.weight", shape: [f.outDim, f.rank], floats: f.b))
            ranks[module] = f.rank
        }
        let modules = ranks.keys.sorted()
        let globalRank = ranks.values.max() ?? 1
        let patterns: [String: Int] = padded ? [:] : ranks
        let config: [String: Any] = [
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": baseModelID,
            "r": globalRank,
            "lora_alpha": globalRank,
            "rank_pattern": patterns,
            "alpha_pattern": patterns,
            "target_modules": modules,
            "lora_dropout": 0.0,
            "fan_in_fan_out": false,
            "bias": "none",
            "use_rslora": false,
            "use_dora": false,
            "init_lora_weights": true,
            "inference_mode": true,
            "modules_to_save": NSNull(),
            "layers_to_transform": NSNull(),
            "layers_pattern": NSNull(),
            "revision": NSNull(),
        ]
        var meta = metadata
        meta["format"] = "pt"
        try SafetensorsWriter.write(tensors: tensors, metadata: meta, to: dir.appendingPathComponent(weightsFile))
        try AdapterExport.writeJSON(config, to: dir.appendingPathComponent(configFile))
    }
}
