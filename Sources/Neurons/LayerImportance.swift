import Foundation

/// PLND importance of every neuron of one layer for one document (method §3), indexed as the
/// tensors are stored.
public struct LayerImportance: Equatable, Sendable {
    public let layer: Int
    /// `[qDim]`: query output units.
    public var attnQ: [Double]
    /// `[kvDim]`: key output units.
    public var attnK: [Double]
    /// `[kvDim]`: value output units.
    public var attnV: [Double]
    /// `[qDim]`: input units of the attention output projection.
    public var attnOutput: [Double]
    /// `[ffn]`: intermediate feed-forward units.
    public var ffn: [Double]

    public init(layer: Int, attnQ: [Double], attnK: [Double], attnV: [Double], attnOutput: [Double], ffn: [Double]) {
        self.layer = layer
        self.attnQ = attnQ; self.attnK = attnK; self.attnV = attnV; self.attnOutput = attnOutput; self.ffn = ffn
    }

    /// The importance vector of one structure.
    public subscript(structure: NeuronStructure) -> [Double] {
        switch structure {
        case .attnQ: return attnQ
        case .attnK: return attnK
        case .attnV: return attnV
        case .attnOutput: return attnOutput
        case .ffn: return ffn
        }
    }
}
