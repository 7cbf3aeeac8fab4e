import Foundation
import Kernels
import ModelIO
import Models

/// Resumable state of a run (`RUN_DIR/state.safetensors`, format `langneuron.state/1`): trainable
/// slice values and both AdamW moments as float32, plus (in `__metadata__`) the step and what the
/// state belongs to. One file, written atomically, so a crash leaves either the old or the new state.
struct RunState {
    static let format = "langneuron.state/1"
    var step: Int
    var baseFingerprint: String
    var recipeDigest: String

    static func write(to url: URL, step: Int, optimizer: SparseAdamW, naming: SliceNaming, baseFingerprint: String, recipeDigest: String) throws {
        var tensors = [SafetensorsWriter.Tensor]()
        for (prefix, buffers) in [("param", optimizer.params), ("adam_m", optimizer.m), ("adam_v", optimizer.v)] {
            buffers.forEach { l, t, b in
                let n = buffers.slices.indices(layer: l, t).count
                tensors.append(.init(name: "\(prefix).\(naming.name(layer: l, t))", shape: [n, b.count / max(1, n)], floats: b.array))
            }
        }
        try SafetensorsWriter.write(tensors: tensors, metadata: [
            "format": format, "step": String(step), "optimizer_step": String(optimizer.step),
            "base_fingerprint": baseFingerprint, "recipe_digest": recipeDigest,
        ], to: url)
    }

    /// Loads the state into `optimizer` (and the model), after checking it belongs to this run.
    static func load(from url: URL, optimizer: SparseAdamW, model: Transformer, naming: SliceNaming,
                     baseFingerprint: String, recipeDigest: String) throws -> Int {
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
        for (prefix, buffers) in [("param", optimizer.params), ("adam_m", optimizer.m), ("adam_v", optimizer.v)] {
            var failure: Error?
            buffers.forEach { l, t, b in
                guard failure == nil else { return }
                let name = "\(prefix).\(naming.name(layer: l, t))"
                guard let s = f.shape(of: name), s.reduce(1, *) == b.count else {
                    failure = TrainingError.checkpoint(path: path, reason: "tensor \(name) is missing or has the wrong size")
                    return
                }
                do { try f.readFloats(name, into: b.buffer) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        optimizer.step = ostep
        SliceParameters.scatter(optimizer.params, into: model)
        return step
    }
}
