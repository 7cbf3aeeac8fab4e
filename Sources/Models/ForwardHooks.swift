import Foundation
import Kernels

/// Neurons to zero in one layer (method §2/§5): output units of q/k/v, input units of the
/// attention output, intermediate units of the feed-forward network. Indices are rows/columns
/// of the tensors as stored.
public struct LayerMask: Equatable, Codable {
    public var attnQ: [Int] = []
    public var attnK: [Int] = []
    public var attnV: [Int] = []
    public var attnOutput: [Int] = []
    public var ffn: [Int] = []

    public init(attnQ: [Int] = [], attnK: [Int] = [], attnV: [Int] = [], attnOutput: [Int] = [], ffn: [Int] = []) {
        self.attnQ = attnQ; self.attnK = attnK; self.attnV = attnV; self.attnOutput = attnOutput; self.ffn = ffn
    }

    public var isEmpty: Bool { attnQ.isEmpty && attnK.isEmpty && attnV.isEmpty && attnOutput.isEmpty && ffn.isEmpty }
}

/// Read-only views of one layer's internals for one forward call, handed to `ForwardHooks.layerTrace`.
/// Rows are the call's new positions (`rows`), attention covers `keys` positions.
public struct LayerTrace {
    public let layer: Int
    public let rows: Int
    public let keys: Int
    public let firstPosition: Int
    /// Attention input after the pre-norm, `[rows, hidden]`.
    public let attnInput: UnsafePointer<Float>
    /// q and k as they enter RoPE (after bias and q/k norm), `[rows, qDim]` / `[keys, kvDim]` (k: only the new rows, at offset `firstPosition`… of `kRotated`'s positions).
    public let qPreRoPE: UnsafePointer<Float>
    public let kPreRoPE: UnsafePointer<Float>
    /// Rotated q `[rows, qDim]`, rotated keys and values of all positions `[keys, kvDim]`.
    public let qRotated: UnsafePointer<Float>
    public let kRotated: UnsafePointer<Float>
    public let values: UnsafePointer<Float>
    /// Attention probabilities `[heads, rows, keys]`.
    public let probabilities: UnsafePointer<Float>
    /// Concatenated head outputs before the output projection, `[rows, qDim]`.
    public let headOutputs: UnsafePointer<Float>
    /// FFN input after its pre-norm, `[rows, hidden]`, and the gated activation `[rows, ffn]`.
    public let ffnInput: UnsafePointer<Float>
    public let ffnActivation: UnsafePointer<Float>
    public let attention: AttentionShape
}

/// Optional observers and interventions for a forward pass.
public struct ForwardHooks {
    /// Called with the residual stream entering layer `l` (`l == layers`: output of the last
    /// layer, before the final norm), `[rows, hidden]`.
    public var residual: ((Int, UnsafePointer<Float>, Int) -> Void)?
    /// Neurons to zero, by layer.
    public var masks: [Int: LayerMask] = [:]
    /// Called after each layer with views of its internals (costs one extra copy of q and k).
    public var layerTrace: ((LayerTrace) -> Void)?

    public init(residual: ((Int, UnsafePointer<Float>, Int) -> Void)? = nil, masks: [Int: LayerMask] = [:],
                layerTrace: ((LayerTrace) -> Void)? = nil) {
        self.residual = residual
        self.masks = masks
        self.layerTrace = layerTrace
    }
}
