import Foundation
import Kernels
import ModelIO
import Models

/// Resumable state of a run (`RUN_DIR/state.safetensors`, format `langneuron.state/1`): the trained
/// tensors and both AdamW moments as float32 (`param.NAME`, `adam_m.NAME`, `adam_v.NAME` for each of
/// the target's parameter tensors: trainable slices by weight name, LoRA factors by weight name plus
/// `.lora_a`/`.lora_b`), plus (in `__metadata__`) the step and what the state belongs to. One file,
/// written atomically, so a crash leaves either the old or the new state.
struct RunState {
    static let format = "langneuron.state/1"
    static let prefixes = ["param", "adam_m", "adam_v"]

    /// Each prefix with its buffers, aligned with `optimizer.parameters`.
    static func groups(_ optimizer: AdamW) -> [(String, [FloatBuffer])] {
        zip(prefixes, [optimizer.parameters.map(\.values), optimizer.m, optimizer.v]).map { ($0, $1) }
    }

    static func write(to url: URL, step: Int, optimizer: AdamW, baseFingerprint: String, recipeDigest: String) throws {
        var tensors = [SafetensorsWriter.Tensor]()
        for (prefix, buffers) in groups(optimizer) {
            for (p, b) in zip(optimizer.parameters, buffers) {
                tensors.append(.init(name: "\(prefix).\(p.name)", shape: p.shape, floats: b.array))
            }
        }
        try SafetensorsWriter.write(tensors: tensors, metadata: [
            "format": format, "step": String(step), "optimizer_step": String(optimizer.step),
            "base_fingerprint": baseFingerprint, "recipe_digest": recipeDigest,
        ], to: url)
    }

    /// Loads the state into `optimizer` (its parameters and moments), after checking it belongs to
    /// this run; the caller then commits the parameters to the model.
    static func load(from url: URL, optimizer: AdamW, baseFingerprint: String, recipeDigest: String) throws -> Int {
        let path = url.path
        let f: SafetensorsFile
        do { f = try SafetensorsFile(url: url) } catch {
            throw TrainingError.checkpoint(path: path, reason: error.localizedDescription)
        }
        guard f.metadata["format"] == format else { throw TrainingError.checkpoint(path: path, reason: "format is not \(format)") }
        guard f.metadata["base_fingerprint"] == baseFingerprint else {
            throw TrainingError.fingerprintMismatch(path: path, expected: f.metadata["base_fingerprint"] ?? "?", found: baseFingerprint)
        }
        guard f.metadata["recipe_digest"] == recipeDigest else {
            throw TrainingError.checkpoint(path: path, reason: "it was written by a different recipe (or --set overrides); resume with the same ones")
        }
        guard let step = f.metadata["step"].flatMap(Int.init), let ostep = f.metadata["optimizer_step"].flatMap(Int.init) else {
            throw TrainingError.checkpoint(path: path, reason: "step is missing")
        }
        for (prefix, buffers) in groups(optimizer) {
            for (p, b) in zip(optimizer.parameters, buffers) {
                let name = "\(prefix).\(p.name)"
                guard let s = f.shape(of: name), s.reduce(1, *) == b.count else {
                    throw TrainingError.checkpoint(path: path, reason: "tensor \(name) is missing or has the wrong size")
                }
                try f.readFloats(name, into: b.buffer)
            }
        }
        optimizer.step = ostep
        return step
    }
}
