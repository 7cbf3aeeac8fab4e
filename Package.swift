// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "langneuron",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "langneuron", targets: ["LangNeuronCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries (Debian: libopenblas-dev, libzstd-dev, libbz2-dev, libssl-dev).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CBz2", path: "Sources/CBz2"),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        // Open MPI (Debian: openmpi-bin, libopenmpi-dev); only initialised when started by mpirun.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi", providers: [.apt(["libopenmpi-dev"])]),

        // Processes of one mpirun job: rank, size, fixed-order sums, gathers, broadcast, abort.
        .target(name: "Distributed", dependencies: ["CMPI"]),
        // Stored-type weight kernels in C: exact ggml dequantisation, fused few-row products
        // (AVX2/FMA chosen at run time, plain C otherwise).
        .target(name: "CQuant", path: "Sources/CQuant", cSettings: [.unsafeFlags(["-O3"])]),
        // Tensor kernels: BLAS wrappers, stored-type weight matrices, forward/backward ops, sgemm peak.
        .target(name: "Kernels", dependencies: ["CBLAS", "CQuant"]),
        // Model files: GGUF, safetensors, HF directories, dequantisation, fingerprints.
        .target(name: "ModelIO", dependencies: ["COpenSSL"]),
        // Tokenizers from GGUF metadata and tokenizer.json.
        .target(name: "Tokenizers", dependencies: ["ModelIO"]),
        // Architectures, forward pass with KV cache, hooks, backward pass.
        .target(name: "Models", dependencies: ["Kernels", "ModelIO", "Tokenizers"]),
        // Wikipedia dumps, JSONL and text corpora to clean documents.
        .target(name: "Corpus", dependencies: ["CZstd", "CBz2", "ModelIO"]),
        // PLND importance, neuron selection, neuron-set files, random baselines.
        .target(name: "Neurons", dependencies: ["Kernels", "ModelIO", "Models", "Tokenizers", "Corpus", "Distributed"]),
        // Sparse training: AdamW over trainable slices, recipes, runs, checkpoints, deltas.
        .target(name: "Training", dependencies: [
            "Kernels", "ModelIO", "Models", "Tokenizers", "Corpus", "Neurons", "Distributed",
            .product(name: "Yams", package: "Yams"),
        ]),
        // Perplexity and benchmarks per language, experiments.
        .target(name: "Evaluation", dependencies: ["Kernels", "Models", "Tokenizers", "Corpus", "Distributed"]),
        // The enhancement experiment: recipe, arms, step reuse, report (Markdown, JSON, HTML).
        .target(name: "Experiment", dependencies: [
            "ModelIO", "Models", "Neurons", "Training", .product(name: "Yams", package: "Yams"),
        ]),
        // Data root, data-set downloads, default model fetching.
        .target(name: "Store", dependencies: ["ModelIO", "CZstd"]),

        .executableTarget(
            name: "LangNeuronCLI",
            dependencies: [
                "Kernels", "ModelIO", "Tokenizers", "Models", "Corpus", "Store", "Neurons", "Training", "Evaluation", "Experiment",
                "Distributed",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Shared helpers for tests: locating ../shared, reading reference manifests.
        .target(name: "TestSupport", dependencies: ["ModelIO"], path: "Sources/TestSupport"),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "ModelIOTests", dependencies: ["ModelIO", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "ModelIO", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Kernels", "ModelIO", "Training", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus", "TestSupport"]),
        .testTarget(name: "NeuronsTests", dependencies: ["Neurons", "Models", "ModelIO", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Models", "ModelIO", "Kernels", "Tokenizers", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Models", "Tokenizers", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["LangNeuronCLI", "Experiment"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "TestSupport"]),
        .testTarget(name: "ExperimentTests", dependencies: ["Experiment", "Training", "Neurons", "Models", "TestSupport", "LangNeuronCLI"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "TestSupport"]),
        // Seeded mutations of every file format through the commands' front doors (docs/fuzzing.md).
        .testTarget(name: "FuzzTests", dependencies: ["ModelIO", "Tokenizers", "Models", "Neurons", "Training", "Corpus"]),
        .testTarget(name: "ReferenceTests", dependencies: ["Models", "ModelIO", "Tokenizers", "Store", "Training", "Kernels", "TestSupport"],
                    exclude: ["Fixtures"]), // read by path: lora-tiny.json (scripts/lora-reference.py)
    ]
)
