import Foundation
import ModelIO
import Models
import TestSupport
@testable import Training
import XCTest

/// `langneuron export`: every format read back and rebuilt as B·A must equal the delta exactly
/// (the factors are one-hot and delta values, so there is no rounding: tolerance 0).
final class AdapterExportTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(SharedData.isAvailable, "shared/ not present")
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let tmp { try? FileManager.default.removeItem(at: tmp) }
    }

    func config(_ arch: String) throws -> ModelConfig {
        let dir = try HuggingFaceModelDirectory(url: SharedData.url("reference/tiny/\(arch)/model"))
        let tied = (dir.config["tie_word_embeddings"] as? Bool) ?? false
        return try ModelConfig(huggingFaceConfig: dir.config, path: dir.url.path, hasLMHead: !tied)
    }

    /// A delta touching every trainable tensor kind with distinct, non-round values; the ranks differ per tensor.
    func delta(_ c: ModelConfig, rows: [TrainableTensor: [Int]]? = nil) -> DeltaFile {
        var g = SystemRandomNumberGenerator()
        let picks: [TrainableTensor: [Int]] = rows ?? [.attnQ: [0, 3, 17, c.qDim - 1], .attnK: [1, 9], .attnV: [2],
                                                       .attnOutput: [5, 6, c.qDim - 1], .ffnGate: [0, 64],
                                                       .ffnUp: [7, 8, 9, 127], .ffnDown: [3, 100]]
        let naming = SliceNaming(config: c)
        var entries = [DeltaFile.Entry]()
        for layer in [0, c.layers - 1] {
            for t in TrainableTensor.allCases {
                guard let idx = picks[t] else { continue }
                let d = t.sliceLength(c)
                let values = (0..<(idx.count * d)).map { _ in Float.random(in: -1...1, using: &g) * 1e-3 }
                entries.append(.init(tensorName: naming.name(layer: layer, t), layer: layer, tensor: t, indices: idx, values: values))
            }
        }
        return DeltaFile(entries: entries, baseFingerprint: "fp", metadata: ["language": "vi"])
    }

    /// ΔW `[out, in]` of one entry, in the stored layout.
    func dense(_ e: DeltaFile.Entry, _ c: ModelConfig) -> [Float] {
        let d = e.tensor.sliceLength(c), units = e.tensor.unitCount(c)
        if e.tensor.isColumnSlice {
            var w = [Float](repeating: 0, count: d * units)
            for (k, col) in e.indices.enumerated() { for o in 0..<d { w[o * units + col] = e.values[k * d + o] } }
            return w
        }
        var w = [Float](repeating: 0, count: units * d)
        for (k, row) in e.indices.enumerated() { for i in 0..<d { w[row * d + i] = e.values[k * d + i] } }
        return w
    }

    /// B·A from `[out, r]` and `[r, in]`, summed in Double (exact for one-hot factors).
    func product(b: [Float], a: [Float], out: Int, rank: Int, inDim: Int) -> [Float] {
        var w = [Float](repeating: 0, count: out * inDim)
        for o in 0..<out {
            for i in 0..<inDim {
                var s = 0.0
                for k in 0..<rank { s += Double(b[o * rank + k]) * Double(a[k * inDim + i]) }
                w[o * inDim + i] = Float(s)
            }
        }
        return w
    }

    func readFloats(_ f: SafetensorsFile, _ name: String, shape: [Int], file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let info = try XCTUnwrap(f.info(name), "missing \(name)", file: file, line: line)
        XCTAssertEqual(info.shape, shape, name, file: file, line: line)
        XCTAssertEqual(info.dtype, .f32, name, file: file, line: line)
        return try f.floatArray(name)
    }

    func json(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func testPEFTRebuildsTheDeltaExactlyWithPerModuleRanks() throws {
        for arch in ["llama", "qwen3", "gemma3"] {
            let c = try config(arch)
            let d = delta(c)
            let out = tmp.appendingPathComponent("peft-\(arch)")
            let s = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: .peft, baseModelID: "tiny-\(arch)",
                                             ggufArchitecture: nil, padRank: nil, to: out)
            XCTAssertEqual(s.modules, d.entries.count)
            let f = try SafetensorsFile(url: out.appendingPathComponent("adapter_model.safetensors"))
            XCTAssertEqual(f.tensors.count, 2 * d.entries.count)
            let cfg = try json(out.appendingPathComponent("adapter_config.json"))
            XCTAssertEqual(cfg["peft_type"] as? String, "LORA")
            XCTAssertEqual(cfg["task_type"] as? String, "CAUSAL_LM")
            XCTAssertEqual(cfg["base_model_name_or_path"] as? String, "tiny-\(arch)")
            XCTAssertEqual(cfg["fan_in_fan_out"] as? Bool, false)
            XCTAssertEqual(cfg["bias"] as? String, "none")
            XCTAssertEqual(cfg["use_rslora"] as? Bool, false)
            let ranks = try XCTUnwrap(cfg["rank_pattern"] as? [String: Int])
            let alphas = try XCTUnwrap(cfg["alpha_pattern"] as? [String: Int])
            XCTAssertEqual(ranks, alphas, "scaling alpha/r must be 1 for every module")
            XCTAssertEqual(cfg["r"] as? Int, cfg["lora_alpha"] as? Int)
            var modules = [String]()
            for e in d.entries {
                // HF name of the stored tensor; for HF bases the stored name itself.
                let module = String(e.tensorName.dropLast(".weight".count))
                modules.append(module)
                XCTAssertEqual(ranks[module], e.indices.count, module)
                let (o, i) = e.tensor.isColumnSlice ? (e.tensor.sliceLength(c), e.tensor.unitCount(c)) : (e.tensor.unitCount(c), e.tensor.sliceLength(c))
                let a = try readFloats(f, "base_model.model.\(module).lora_A.weight", shape: [e.indices.count, i])
                let b = try readFloats(f, "base_model.model.\(module).lora_B.weight", shape: [o, e.indices.count])
                XCTAssertEqual(product(b: b, a: a, out: o, rank: e.indices.count, inDim: i), dense(e, c), "\(arch) \(module): B·A must equal ΔW exactly")
            }
            XCTAssertEqual(Set(try XCTUnwrap(cfg["target_modules"] as? [String])), Set(modules))
        }
    }

    func testPadRankZeroPadsAndDropsThePatterns() throws {
        let c = try config("llama")
        let d = delta(c)
        let out = tmp.appendingPathComponent("peft-pad")
        _ = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: .peft, baseModelID: "x", ggufArchitecture: nil, padRank: 8, to: out)
        let cfg = try json(out.appendingPathComponent("adapter_config.json"))
        XCTAssertEqual(cfg["r"] as? Int, 8)
        XCTAssertEqual(cfg["lora_alpha"] as? Int, 8)
        XCTAssertEqual((cfg["rank_pattern"] as? [String: Int])?.isEmpty, true)
        let f = try SafetensorsFile(url: out.appendingPathComponent("adapter_model.safetensors"))
        for e in d.entries {
            let module = String(e.tensorName.dropLast(".weight".count))
            let (o, i) = e.tensor.isColumnSlice ? (e.tensor.sliceLength(c), e.tensor.unitCount(c)) : (e.tensor.unitCount(c), e.tensor.sliceLength(c))
            let a = try readFloats(f, "base_model.model.\(module).lora_A.weight", shape: [8, i])
            let b = try readFloats(f, "base_model.model.\(module).lora_B.weight", shape: [o, 8])
            XCTAssertTrue(a[(e.indices.count * i)...].allSatisfy { $0 == 0 }, "padding rows of A are zero")
            XCTAssertEqual(product(b: b, a: a, out: o, rank: 8, inDim: i), dense(e, c), module)
        }
    }

    func testRankOverPadRankAndEmptyDeltaAreErrors() throws {
        let c = try config("llama")
        XCTAssertThrowsError(try AdapterExport.export(delta: delta(c), deltaPath: "d.safetensors", config: c, format: .peft, baseModelID: "x",
                                                      ggufArchitecture: nil, padRank: 2, to: tmp.appendingPathComponent("p"))) { e in
            let m = e.localizedDescription
            XCTAssertTrue(m.contains("d.safetensors") && m.contains("--pad-rank 2") && m.contains("trains 4 rows"), m)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("p").path), "nothing written on error")
        let empty = DeltaFile(entries: [], baseFingerprint: "fp", metadata: [:])
        XCTAssertThrowsError(try AdapterExport.export(delta: empty, deltaPath: "e", config: c, format: .ggufLoRA, baseModelID: "x",
                                                      ggufArchitecture: nil, padRank: nil, to: tmp.appendingPathComponent("e.gguf"))) { e in
            XCTAssertTrue(e.localizedDescription.contains("nothing to export"), e.localizedDescription)
        }
        XCTAssertThrowsError(try AdapterExport.factors(delta: delta(c), config: c, target: .gguf, padRank: 0, path: "d"))
    }

    func testDeltaForAnotherBaseIsRefused() throws {
        let c = try config("llama")
        let url = tmp.appendingPathComponent("d.safetensors")
        try delta(c).write(to: url)
        XCTAssertThrowsError(try DeltaFile.read(url: url, config: c, fingerprint: "another")) { e in
            XCTAssertTrue(e.localizedDescription.contains("made for base model fp"), e.localizedDescription)
        }
        XCTAssertEqual(try DeltaFile.read(url: url, config: c, fingerprint: "fp").entries.count, 14)
    }

    /// The permutation done literally as convert_hf_to_gguf's numpy code:
    /// `w.reshape(n_head, 2, D/2, in).swapaxes(1, 2).reshape(out, in)`, on row indices.
    func ggufRowsFromHF(heads: Int, headDim: Int) -> [Int] {
        let half = headDim / 2
        var hfIndex = [[[Int]]](repeating: [[Int]](repeating: [Int](repeating: 0, count: half), count: 2), count: heads)
        for h in 0..<heads { for s in 0..<2 { for i in 0..<half { hfIndex[h][s][i] = h * headDim + s * half + i } } }
        var out = [Int]()
        for h in 0..<heads { for i in 0..<half { for s in 0..<2 { out.append(hfIndex[h][s][i]) } } }
        return out  // out[g] = the HF row stored at GGUF row g
    }

    func testLlamaGGUFQKRowsAreMappedToHuggingFaceLayout() throws {
        var c = try config("llama")
        c.format = .gguf  // a Llama-architecture GGUF base: q/k rows stored permuted
        let qPerm = ggufRowsFromHF(heads: c.heads, headDim: c.headDim)
        let kPerm = ggufRowsFromHF(heads: c.kvHeads, headDim: c.headDim)
        for g in 0..<c.qDim {
            XCTAssertEqual(AdapterExport.mapRow(g, tensor: .attnQ, config: c, to: .huggingFace), qPerm[g])
            XCTAssertEqual(AdapterExport.mapRow(g, tensor: .attnV, config: c, to: .huggingFace), g, "v is not permuted")
            XCTAssertEqual(AdapterExport.mapRow(g, tensor: .attnQ, config: c, to: .gguf), g, "same layout: identity")
        }
        for g in 0..<c.kvDim { XCTAssertEqual(AdapterExport.mapRow(g, tensor: .attnK, config: c, to: .huggingFace), kPerm[g]) }
        var hf = c
        hf.format = .huggingFace
        for r in 0..<c.qDim {
            XCTAssertEqual(AdapterExport.mapRow(AdapterExport.mapRow(r, tensor: .attnQ, config: hf, to: .gguf), tensor: .attnQ, config: c, to: .huggingFace), r,
                           "HF → GGUF → HF is the identity")
        }
        var gemma = try config("gemma3")
        gemma.format = .gguf
        XCTAssertFalse(AdapterExport.rowsArePermuted(config: gemma, target: .huggingFace), "Gemma 3 GGUF files are not permuted")

        // The PEFT export of a GGUF delta: ΔW_hf[qPerm[g]] = ΔW_stored[g].
        let d = delta(c, rows: [.attnQ: [0, 1, 5, 30], .attnK: [3, 16]])
        let factors = try AdapterExport.factors(delta: d, config: c, target: .huggingFace, padRank: nil, path: "d")
        for (f, e) in zip(factors, d.entries) {
            let perm = e.tensor == .attnQ ? qPerm : kPerm
            let stored = dense(e, c)
            var expected = [Float](repeating: 0, count: stored.count)
            for g in 0..<f.outDim { for i in 0..<f.inDim { expected[perm[g] * f.inDim + i] = stored[g * f.inDim + i] } }
            XCTAssertEqual(f.product(), expected, "\(e.tensorName)")
            XCTAssertNotEqual(f.product(), stored, "the mapping must move rows")
        }
    }

    func testGGUFLoRAFileForLlamaCpp() throws {
        var c = try config("llama")
        c.format = .gguf
        let d = delta(c)
        let url = tmp.appendingPathComponent("a.gguf")
        _ = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: .ggufLoRA, baseModelID: "SmolLM2", ggufArchitecture: "llama", padRank: nil, to: url)
        let g = try GGUFFile(url: url)
        XCTAssertEqual(g.metadata["general.type"]?.string, "adapter")
        XCTAssertEqual(g.metadata["adapter.type"]?.string, "lora")
        XCTAssertEqual(g.metadata["general.architecture"]?.string, "llama")
        XCTAssertNil(g.metadata["adapter.lora.alpha"], "no alpha: llama.cpp then scales by the user's scale alone")
        XCTAssertEqual(g.tensors.count, 2 * d.entries.count)
        for e in d.entries {
            let r = e.indices.count
            let (o, i) = e.tensor.isColumnSlice ? (e.tensor.sliceLength(c), e.tensor.unitCount(c)) : (e.tensor.unitCount(c), e.tensor.sliceLength(c))
            let ta = try XCTUnwrap(g.tensorInfo(e.tensorName + ".lora_a"))
            let tb = try XCTUnwrap(g.tensorInfo(e.tensorName + ".lora_b"))
            // llama.cpp's checks: a.ne[0] = W.ne[0] (in), b.ne[1] = W.ne[1] (out), a.ne[1] = b.ne[0] (rank).
            XCTAssertEqual(ta.ggufDims, [i, r])
            XCTAssertEqual(tb.ggufDims, [r, o])
            XCTAssertEqual(ta.type, .f32)
            let a = try g.floats(ta.name), b = try g.floats(tb.name)
            XCTAssertEqual(product(b: b, a: a, out: o, rank: r, inDim: i), dense(e, c), "\(e.tensorName): stored layout, no permutation")
        }
        // A Hugging Face Llama base exported for llama.cpp: names become GGUF ones, q rows permuted.
        let hf = try config("llama")
        let dh = delta(hf, rows: [.attnQ: [0, 1, 9]])
        let url2 = tmp.appendingPathComponent("b.gguf")
        _ = try AdapterExport.export(delta: dh, deltaPath: "d", config: hf, format: .ggufLoRA, baseModelID: "x", ggufArchitecture: nil, padRank: 4, to: url2)
        let g2 = try GGUFFile(url: url2)
        XCTAssertEqual(g2.metadata["general.architecture"]?.string, "llama")
        let perm = ggufRowsFromHF(heads: hf.heads, headDim: hf.headDim)
        let e = dh.entries[0]
        let b = try g2.floats("blk.0.attn_q.weight.lora_b"), a = try g2.floats("blk.0.attn_q.weight.lora_a")
        let got = product(b: b, a: a, out: hf.qDim, rank: 4, inDim: hf.hidden)
        let stored = dense(e, hf)
        for gRow in 0..<hf.qDim { XCTAssertEqual(Array(got[(gRow * hf.hidden)..<((gRow + 1) * hf.hidden)]), Array(stored[(perm[gRow] * hf.hidden)..<((perm[gRow] + 1) * hf.hidden)])) }
    }

    func testMLXAdapterHasOneRankAndTransposedFactors() throws {
        let c = try config("qwen3")
        let d = delta(c)
        let out = tmp.appendingPathComponent("mlx")
        let s = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: .mlx, baseModelID: "tiny", ggufArchitecture: nil, padRank: nil, to: out)
        XCTAssertEqual(s.rank, 4, "default rank: the largest trained count")
        let cfg = try json(out.appendingPathComponent("adapter_config.json"))
        XCTAssertEqual(cfg["fine_tune_type"] as? String, "lora")
        XCTAssertEqual(cfg["num_layers"] as? Int, c.layers)
        let lp = try XCTUnwrap(cfg["lora_parameters"] as? [String: Any])
        XCTAssertEqual(lp["rank"] as? Int, 4)
        XCTAssertEqual(lp["scale"] as? Double, 1.0)
        XCTAssertEqual(Set(try XCTUnwrap(lp["keys"] as? [String])),
                       ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"])
        let f = try SafetensorsFile(url: out.appendingPathComponent("adapters.safetensors"))
        for e in d.entries {
            let module = String(e.tensorName.dropLast(".weight".count))
            let (o, i) = e.tensor.isColumnSlice ? (e.tensor.sliceLength(c), e.tensor.unitCount(c)) : (e.tensor.unitCount(c), e.tensor.sliceLength(c))
            let la = try readFloats(f, module + ".lora_a", shape: [i, 4])  // [in, r]
            let lb = try readFloats(f, module + ".lora_b", shape: [4, o])  // [r, out]
            // ΔWᵀ [in, out] = lora_a · lora_b.
            let wt = product(b: la, a: lb, out: i, rank: 4, inDim: o)
            let w = dense(e, c)
            for r in 0..<o { for k in 0..<i { XCTAssertEqual(wt[k * o + r], w[r * i + k]) } }
        }
    }

    func testExportIsDeterministic() throws {
        let c = try config("llama")
        let d = delta(c)
        for format in AdapterFormat.allCases {
            let s1 = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: format, baseModelID: "x", ggufArchitecture: nil, padRank: nil, to: tmp.appendingPathComponent("1-\(format.rawValue)"))
            let s2 = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: format, baseModelID: "x", ggufArchitecture: nil, padRank: nil, to: tmp.appendingPathComponent("2-\(format.rawValue)"))
            for (u1, u2) in zip(s1.files, s2.files) { XCTAssertEqual(try Data(contentsOf: u1), try Data(contentsOf: u2), u1.lastPathComponent) }
        }
    }

    /// An exported delta (one-hot factors, per-module ranks and alphas in the patterns) read back as
    /// a PEFT adapter and merged densely changes the weights exactly as the delta does; adapters
    /// this tool cannot merge are refused with the reason.
    func testExportedPEFTMergesLikeTheDeltaAndBadAdaptersAreRefused() throws {
        let viaDelta = try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model"))
        let viaAdapter = try LoadedModel.load(at: SharedData.url("reference/tiny/llama/model"))
        let c = viaDelta.config
        var d = delta(c)
        d.baseFingerprint = viaDelta.fingerprint
        let deltaURL = tmp.appendingPathComponent("d.safetensors"), out = tmp.appendingPathComponent("peft-merge")
        try d.write(to: deltaURL)
        _ = try AdapterExport.export(delta: d, deltaPath: "d", config: c, format: .peft, baseModelID: "x", ggufArchitecture: nil, padRank: nil, to: out)
        try DeltaMerge.apply([ScaledDelta(path: deltaURL.path, scale: 1)], to: viaDelta)
        try DeltaMerge.apply([ScaledDelta(path: out.path, scale: 1)], to: viaAdapter)
        for l in [0, c.layers - 1] {
            for t in TrainableTensor.allCases {
                XCTAssertEqual(viaAdapter.transformer.weights.layers[l].projection(t).effectiveFloats(),
                               viaDelta.transformer.weights.layers[l].projection(t).effectiveFloats(), "layer \(l) \(t): B·A is ΔW exactly")
            }
        }

        let config = out.appendingPathComponent(PEFTAdapter.configFile)
        var cfg = try json(config)
        cfg["use_dora"] = true
        try JSONSerialization.data(withJSONObject: cfg).write(to: config)
        XCTAssertThrowsError(try DeltaMerge.apply([ScaledDelta(path: out.path, scale: 1)], to: viaAdapter)) { e in
            XCTAssertTrue(e.localizedDescription.contains("use_dora") && e.localizedDescription.contains(out.path), e.localizedDescription)
        }
        try FileManager.default.removeItem(at: config)
        XCTAssertThrowsError(try DeltaMerge.apply([ScaledDelta(path: out.path, scale: 1)], to: viaAdapter)) { e in
            XCTAssertTrue(e.localizedDescription.contains("adapter_config.json"), e.localizedDescription)
        }
        XCTAssertThrowsError(try DeltaMerge.mergedTensors([ScaledDelta(path: out.path, scale: 1)], source: TensorSourceStub(), config: c,
                                                          fingerprint: viaAdapter.fingerprint, subtract: false)) { e in
            XCTAssertTrue(e.localizedDescription.contains("LoRA adapter directory"), e.localizedDescription)
        }
    }
}

/// A tensor source with no tensors (the merge into a model file is refused before reading any).
final class TensorSourceStub: TensorSource {
    var tensorNames: [String] { [] }
    func shape(of name: String) -> [Int]? { nil }
    func storageType(of name: String) -> String? { nil }
    func readFloats(_ name: String, into output: UnsafeMutableBufferPointer<Float>) throws {}
    func readFloats(_ name: String, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {}
}
