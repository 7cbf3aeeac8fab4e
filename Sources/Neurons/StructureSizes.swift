import Foundation
import Models

/// How many layers a model has and how many neurons each structure has per layer: all a neuron
/// set needs to be validated or matched by a random set without loading the model.
public struct StructureSizes: Equatable, Sendable {
    public var layers: Int
    public var perLayer: [NeuronStructure: Int]

    public init(layers: Int, perLayer: [NeuronStructure: Int]) {
        self.layers = layers
        self.perLayer = perLayer
    }

    public init(config: ModelConfig) {
        layers = config.layers
        perLayer = Dictionary(uniqueKeysWithValues: NeuronStructure.allCases.map { ($0, $0.count(in: config)) })
    }

    /// Neurons of one structure in one layer (0 for a structure the sizes do not list).
    public func count(_ s: NeuronStructure) -> Int { perLayer[s] ?? 0 }

    /// Neurons of all structures in all layers.
    public var total: Int { layers * NeuronStructure.allCases.reduce(0) { $0 + count($1) } }
}
