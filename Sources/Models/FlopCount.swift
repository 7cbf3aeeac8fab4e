import Foundation

/// Floating-point operations the implementation actually performs (multiply-adds count 2),
/// for reporting GFLOP/s against the sgemm peak.
public enum FlopCount {
    /// One prefill forward pass of `tokens` tokens, including the output head on every row.
    public static func forward(_ c: ModelConfig, tokens T: Int) -> Double {
        let t = Double(T), d = Double(c.hidden)
        var perLayer = 2 * t * d * Double(c.qDim + 2 * c.kvDim)   // q, k, v
        perLayer += 2 * t * Double(c.qDim) * d                     // o
        perLayer += 2 * 2 * t * t * Double(c.headDim) * Double(c.heads) // scores and P·V (full T×T)
        perLayer += 3 * 2 * t * d * Double(c.ffn)                  // gate, up, down
        return perLayer * Double(c.layers) + 2 * t * d * Double(c.vocabularySize)
    }

    /// One training step on `tokens` tokens with `trainableUnits` rows/columns trained (sum over
    /// tensors of units × slice length): forward, input gradients everywhere, weight gradients only
    /// for the trainable slices.
    public static func trainingStep(_ c: ModelConfig, tokens T: Int, trainableParameters: Int) -> Double {
        let t = Double(T), d = Double(c.hidden)
        let fwd = forward(c, tokens: T)
        // Backward: input gradients of every matmul (same cost as forward), attention backward
        // (dP, dQ, dK, dV: 4 products of T×T×hd per head), head gradient 2·T·d·V.
        var bwd = 2 * t * d * Double(c.qDim + 2 * c.kvDim) + 2 * t * Double(c.qDim) * d + 3 * 2 * t * d * Double(c.ffn)
        bwd += 4 * 2 * t * t * Double(c.headDim) * Double(c.heads)
        bwd *= Double(c.layers)
        bwd += 2 * t * d * Double(c.vocabularySize)
        bwd += 2 * t * Double(trainableParameters)
        return fwd + bwd
    }

    /// The same step with full weight gradients of every matrix (full fine-tuning, or the
    /// authors' compute-then-mask approach), for comparison.
    public static func fullGradientStep(_ c: ModelConfig, tokens T: Int) -> Double {
        let t = Double(T), d = Double(c.hidden)
        let weights = d * Double(c.qDim + 2 * c.kvDim) + Double(c.qDim) * d + 3 * d * Double(c.ffn)
        return trainingStep(c, tokens: T, trainableParameters: 0) + 2 * t * weights * Double(c.layers)
    }

    /// One decoding step of one sequence: every matrix on a single row, attention over `context`
    /// cached positions, the output head.
    public static func decodeStep(_ c: ModelConfig, context L: Int) -> Double {
        let d = Double(c.hidden)
        var perLayer = 2 * d * Double(c.qDim + 2 * c.kvDim) + 2 * Double(c.qDim) * d + 3 * 2 * d * Double(c.ffn)
        perLayer += 2 * 2 * Double(L) * Double(c.headDim) * Double(c.heads)
        return perLayer * Double(c.layers) + 2 * d * Double(c.vocabularySize)
    }

    /// Bytes of float32 weights one decoding step reads (every matrix once, whatever the batch).
    public static func weightBytes(_ c: ModelConfig) -> Double {
        let d = Double(c.hidden)
        let perLayer = d * Double(c.qDim + 2 * c.kvDim) + Double(c.qDim) * d + 3 * d * Double(c.ffn)
        return 4 * (perLayer * Double(c.layers) + d * Double(c.vocabularySize))
    }
}
