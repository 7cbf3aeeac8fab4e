import Foundation
import ModelIO
import Models

/// Hugging Face PEFT LoRA adapters: `adapter_config.json` + `adapter_model.safetensors`.
///
/// Keys are `base_model.model.<module>.lora_A.weight` `[r, in]` and `….lora_B.weight` `[out, r]`
/// (F32), modules named as in the Hugging Face checkpoint with q/k rows in its layout. PEFT scales
/// each module by lora_alpha / r. An exported delta has per-module ranks in `rank_pattern` and
/// `alpha_pattern` (PEFT ≥ 0.6), both set to the module's r so that every scale is exactly 1. vLLM
/// ignores those patterns and uses the global r and lora_alpha: with `padRank` every module is
/// zero-padded to that rank and lora_alpha = r, so there are no patterns. A trained LoRA adapter
/// (one rank, the recipe's alpha) has the global r and lora_alpha and no patterns.
public enum PEFTAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    /// Safetensors metadata key of the base model's fingerprint.
    public static let fingerprintKey = "langneuron_base_fingerprint"

    /// The safetensors key prefix of a module (`base_model.model.` + its module name).
    public static func key(module: String) -> String { "base_model.model.\(module)" }

    /// Writes the adapter into directory `dir`. `factors` must be in Hugging Face layout. `alpha`
    /// nil: every module's lora_alpha is its rank (scale 1); given: the global lora_alpha (all
    /// modules must then have one rank).
    public static func write(factors: [LoRAFactors], config c: ModelConfig, baseModelID: String, padded: Bool,
                             alpha: Double? = nil, metadata: [String: String], to dir: URL) throws {
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
        if alpha != nil && Set(ranks.values).count > 1 {
            throw TrainingError.adapterExport(path: dir.path, reason: "modules of different ranks need per-module alphas")
        }
        let patterns: [String: Int] = padded || alpha != nil ? [:] : ranks
        let config: [String: Any] = [
            "peft_type": "LORA",
            "task_type": "CAUSAL_LM",
            "base_model_name_or_path": baseModelID,
            "r": globalRank,
            "lora_alpha": alpha.map { $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) as Any : $0 } ?? globalRank,
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

    /// One module of a read adapter: its factors in the base model's stored layout and its scale.
    public struct Module {
        public let factors: LoRAFactors
        /// lora_alpha / r of the module.
        public let scale: Float
    }

    /// Reads a PEFT LoRA adapter directory for a model with config `c`: every module's factors
    /// mapped to the stored layout (q/k rows of Llama-architecture GGUF bases) and its scale.
    /// An adapter that records another base's fingerprint is refused when `fingerprint` is given;
    /// DoRA, rsLoRA, fan-in-fan-out and modules this model does not have are refused.
    public static func read(directory dir: URL, config c: ModelConfig, fingerprint: String?) throws -> (modules: [Module], metadata: [String: String]) {
        let path = dir.path
        func bad(_ reason: String) -> TrainingError { .adapter(path: path, reason: reason) }
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(configFile).path),
              let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw bad("no readable \(configFile)")
        }
        guard (config["peft_type"] as? String)?.uppercased() == "LORA" else { throw bad("peft_type is not LORA") }
        for flag in ["use_dora", "use_rslora", "fan_in_fan_out"] where (config[flag] as? Bool) == true {
            throw bad("\(flag) is set, which this tool does not merge")
        }
        guard let r = config["r"] as? Int, r > 0, let alpha = (config["lora_alpha"] as? NSNumber)?.doubleValue else {
            throw bad("r or lora_alpha is missing")
        }
        let rankPattern = (config["rank_pattern"] as? [String: NSNumber] ?? [:]).mapValues(\.intValue)
        let alphaPattern = (config["alpha_pattern"] as? [String: NSNumber] ?? [:]).mapValues(\.doubleValue)
        /// A pattern's value for a module: its full name, or (as PEFT matches keys) a dotted suffix of it.
        func lookup<T>(_ p: [String: T], _ module: String) -> T? {
            p[module] ?? p.first(where: { module.hasSuffix("." + $0.key) })?.value
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(url: dir.appendingPathComponent(weightsFile)) } catch {
            throw bad("cannot read \(weightsFile): \(error.localizedDescription)")
        }
        if let expected = fingerprint, let made = file.metadata[fingerprintKey], made != expected {
            throw TrainingError.fingerprintMismatch(path: path, expected: made, found: expected)
        }
        var byModule = [String: (Int, TrainableTensor)]()
        for l in 0..<c.layers {
            for t in TrainableTensor.allCases { byModule[AdapterExport.huggingFaceModule(layer: l, t, architecture: c.architecture)] = (l, t) }
        }
        var modules = [Module]()
        for info in file.tensors where info.name.hasSuffix(".lora_A.weight") {
            let prefix = String(info.name.dropLast(".lora_A.weight".count))
            let module = String(prefix.dropFirst(key(module: "").count))
            guard prefix.hasPrefix(key(module: "")), let (l, t) = byModule[module] else {
                throw bad("'\(info.name)' is not an adapter of a trainable matrix of this model")
            }
            let rank = lookup(rankPattern, module) ?? r
            let (inDim, outDim) = LoRAAdapters.dims(t, c)
            guard info.shape == [rank, inDim], let bInfo = file.info(prefix + ".lora_B.weight"), bInfo.shape == [outDim, rank] else {
                throw bad("'\(module)' needs lora_A [\(rank), \(inDim)] and lora_B [\(outDim), \(rank)]")
            }
            let a = try file.floatArray(info.name)
            let hf = try file.floatArray(bInfo.name)
            var b = [Float](repeating: 0, count: hf.count)
            for o in 0..<outDim {
                let row = AdapterExport.mapRow(o, tensor: t, config: c, to: .huggingFace)
                for k in 0..<rank { b[o * rank + k] = hf[row * rank + k] }
            }
            let factors = LoRAFactors(layer: l, tensor: t, outDim: outDim, inDim: inDim, rank: rank, trainedRank: rank, a: a, b: b)
            modules.append(Module(factors: factors, scale: Float((lookup(alphaPattern, module) ?? alpha) / Double(rank))))
        }
        guard !modules.isEmpty else { throw bad("it holds no lora_A/lora_B weights") }
        modules.sort { ($0.factors.layer, $0.factors.tensor) < ($1.factors.layer, $1.factors.tensor) }
        return (modules, file.metadata)
    }
}
