import Foundation
import ModelIO
import Models

/// llama.cpp LoRA adapters (`llama-cli --lora FILE`): a GGUF file with `general.type` = adapter,
/// `adapter.type` = lora, `general.architecture` = the base's, and for each module the F32 tensors
/// `<base tensor>.lora_a` (ggml dims [in, r], numpy [r, in]) and `<base tensor>.lora_b` ([r, out],
/// numpy [out, r]), rows in the GGUF's stored layout. llama.cpp scales each module by
/// user_scale × alpha / rank (rank from lora_b), or by user_scale alone when `adapter.lora.alpha`
/// is 0 or absent (src/llama-adapter.h, `get_scale`): no alpha is written, so ranks may differ per
/// tensor and the scale is exactly the user's.
public enum GGUFLoRAAdapter {
    /// Writes the adapter file. `factors` must be in GGUF layout; `architecture` is the base's
    /// `general.architecture`.
    public static func write(factors: [LoRAFactors], config c: ModelConfig, architecture: String, baseModelID: String,
                             metadata: [(key: String, value: GGUFValue)], to url: URL) throws {
        var tensors = [GGUFWriter.F32Tensor]()
        for f in factors {
            let name = AdapterExport.ggufTensor(layer: f.layer, f.tensor, architecture: c.architecture)
            tensors.append(GGUFWriter.F32Tensor(name: name + ".lora_a", ggufDims: [f.inDim, f.rank], values: f.a))
            tensors.append(GGUFWriter.F32Tensor(name: name + ".lora_b", ggufDims: [f.rank, f.outDim], values: f.b))
        }
        var meta: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(architecture)),
            ("general.type", .string("adapter")),
            ("adapter.type", .string("lora")),
            ("general.name", .string("langneuron delta for \(baseModelID)")),
            ("general.base_model.count", .uint32(1)),
            ("general.base_model.0.name", .string(baseModelID)),
        ]
        meta.append(contentsOf: metadata)
        try GGUFWriter.write(metadata: meta, tensors: tensors, to: url)
    }
}
