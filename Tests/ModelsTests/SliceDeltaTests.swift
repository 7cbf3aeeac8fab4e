import Foundation
import Kernels
import ModelIO
@testable import Models
import Training
import XCTest

/// A model with sparse float32 deltas over its stored weights (rows of q/k/v/gate/up, columns
/// of attn_output/ffn_down, in every layer) against the same model with the deltas written into
/// dense float32 weights: per-token NLL within 1e-5 and every trainable-slice gradient within 1e-4
/// relative L2 (only the summation order differs: X·Wᵀ + X·ΔWᵀ instead of X·(W+ΔW)ᵀ).
final class SliceDeltaTests: XCTestCase {
    func slices(_ c: ModelConfig) -> TrainableSlices {
        var s = TrainableSlices(layers: c.layers)
        for l in 0..<c.layers {
            s.set(layer: l, .attnQ, [0, 7, 31]); s.set(layer: l, .attnK, [3]); s.set(layer: l, .attnV, [1, 15])
            s.set(layer: l, .attnOutput, [2, 30]); s.set(layer: l, .ffnGate, [5]); s.set(layer: l, .ffnUp, [5, 23])
            s.set(layer: l, .ffnDown, [0, 11, 12])
        }
        return s
    }

    func testDeltaOverStoredWeightEqualsDenseMerge() throws {
        for arch in [Architecture.llama, .qwen2, .gemma3] {
            let c = RandomModels.config(arch, format: .huggingFace)
            let withDelta = try RandomModels.model(c, seed: 21), dense = try RandomModels.model(c, seed: 21)
            let s = slices(c)
            var rng = SplitMix64(seed: 3)
            // Random deltas, written once as sparse deltas and once into the dense weights.
            let values = SliceBuffers(slices: s, config: c)
            SliceParameters.gather(withDelta, into: values)
            values.forEach { l, t, buf in
                for i in 0..<buf.count { buf[i] += Float(rng.nextUnit() - 0.5) * 0.4 }
                let p = dense.weights.layers[l].projection(t)
                let w = UnsafeMutablePointer(mutating: p.weight.floats!)
                let idx = s.indices(layer: l, t), len = t.sliceLength(c)
                for (i, u) in idx.enumerated() {
                    for j in 0..<len {
                        if t.isColumnSlice { w[j * p.cols + u] = buf[i * len + j] } else { w[u * p.cols + j] = buf[i * len + j] }
                    }
                }
            }
            SliceParameters.scatter(values, into: withDelta)
            let ids: [Int32] = [1, 5, 9, 2, 33, 7, 7, 12, 0, 39, 4]
            let a = try withDelta.score(ids), b = try dense.score(ids)
            for (x, y) in zip(a.nll, b.nll) { XCTAssertEqual(x, y, accuracy: 1e-5, "\(arch) NLL") }
            XCTAssertNotEqual(try RandomModels.model(c, seed: 21).score(ids).nll, a.nll, "\(arch): the delta changes the model")
            // Gradients through the deltas (the backward pass uses W + ΔW for dX).
            let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
            let ga = SliceBuffers(slices: s, config: c), gb = SliceBuffers(slices: s, config: c)
            let ws = TrainingWorkspace(config: c, maxTokens: inputs.count)
            _ = try withDelta.lossAndGradients(tokens: inputs, targets: targets, grads: ga, gradientScale: 1, workspace: ws)
            _ = try dense.lossAndGradients(tokens: inputs, targets: targets, grads: gb, gradientScale: 1, workspace: ws)
            ga.forEach { l, t, buf in
                let other = gb.buffers[l][t]!
                var num = 0.0, den = 0.0
                for i in 0..<buf.count { let d = Double(buf[i] - other[i]); num += d * d; den += Double(other[i]) * Double(other[i]) }
                XCTAssertLessThan((num / max(den, 1e-30)).squareRoot(), 1e-4, "\(arch) layer \(l) \(t.rawValue) gradient")
            }
            // Reading the values back gives what was written; widening keeps them.
            let back = SliceBuffers(slices: s, config: c)
            SliceParameters.gather(withDelta, into: back)
            back.forEach { l, t, buf in XCTAssertEqual(buf.array, values.buffers[l][t]!.array, "\(arch) layer \(l) \(t.rawValue) read back") }
            let p = withDelta.weights.layers[0].wq
            let before = p.effectiveFloats()
            p.ensureDelta(covering: [2, 4])
            XCTAssertEqual(p.effectiveFloats(), before, "widening a delta changes nothing")
        }
    }
}

/// Recomputing each layer's activations in the backward pass (the memory-budget mode) gives the
/// same loss and the same gradients, bit for bit: the recomputation runs the same code on the
/// same inputs.
final class RecomputeTests: XCTestCase {
    func testRecomputedBackwardIsBitIdentical() throws {
        for arch in [Architecture.llama, .qwen3, .gemma3] {
            let c = RandomModels.config(arch, format: .gguf)
            let m = try RandomModels.model(c, seed: 8)
            var s = TrainableSlices(layers: c.layers)
            for l in 0..<c.layers { s.set(layer: l, .attnQ, [1, 4]); s.set(layer: l, .ffnDown, [2, 9]); s.set(layer: l, .attnOutput, [0]) }
            let ids: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]
            let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
            let g1 = SliceBuffers(slices: s, config: c), g2 = SliceBuffers(slices: s, config: c)
            let a = try m.lossAndGradients(tokens: inputs, targets: targets, grads: g1, gradientScale: 1,
                                           workspace: TrainingWorkspace(config: c, maxTokens: 16))
            let b = try m.lossAndGradients(tokens: inputs, targets: targets, grads: g2, gradientScale: 1,
                                           workspace: TrainingWorkspace(config: c, maxTokens: 16, recompute: true))
            XCTAssertEqual(a.nllSum, b.nllSum, "\(arch) loss")
            g1.forEach { l, t, buf in XCTAssertEqual(buf.array, g2.buffers[l][t]!.array, "\(arch) layer \(l) \(t.rawValue)") }
            XCTAssertLessThan(TrainingWorkspace.bytes(config: c, maxTokens: 512, recompute: true),
                              TrainingWorkspace.bytes(config: c, maxTokens: 512, recompute: false))
        }
    }
}
