import ArgumentParser
import Foundation
import Kernels
import Models
import Tokenizers

/// `langneuron generate`: continue a prompt, streaming to the terminal.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate text after a prompt (greedy or sampled).")

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Option(name: .customLong("delta"), help: "Merge a delta in memory first (path or path:scale; repeatable).")
    var deltas: [String] = []
    @Option(help: "The prompt.")
    var prompt: String
    @Option(help: "Maximum new tokens.")
    var maxTokens = 64
    @Option(help: "Sampling temperature (0 = greedy).")
    var temperature: Float = 0
    @Option(help: "Keep only the k most likely tokens (0 = all).")
    var topK = 0
    @Option(help: "Nucleus sampling threshold.")
    var topP: Float = 1
    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0
    @Flag(help: "Print {\"prompt_ids\", \"ids\", \"text\"} at the end instead of streaming.")
    var json = false
    @Flag(help: "Decode with int8 activations in Q4_0/Q8_0/Q4_K products, as llama.cpp does: faster, but not exact (x is rounded to 8 bits per block of 32).")
    var int8Activations = false

    func run() throws {
        WeightMatrix.int8Activations = int8Activations
        defer { WeightMatrix.int8Activations = false }
        let m = try loadModel(model, deltas: deltas, quiet: json)
        let ids = m.tokenizer.encode(prompt, addSpecialTokens: true)
        // Decode the whole continuation each step and print what is new, holding back a trailing
        // U+FFFD: that is a character whose remaining bytes are still to come.
        var generated = [Int32]()
        var printed = 0
        var stops = Set<Int32>()
        if let e = m.tokenizer.eosTokenID { stops.insert(e) }
        if !json { print(prompt, terminator: ""); fflush(stdout) }
        let t0 = Date()
        let out = try m.transformer.generate(
            prompt: ids, maxTokens: maxTokens,
            options: SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed),
            stopTokens: stops) { id in
            if !json, !stops.contains(id) {
                generated.append(id)
                let text = Array(m.tokenizer.decode(generated, skipSpecialTokens: true).unicodeScalars)
                var end = text.count
                while end > printed, text[end - 1] == "\u{FFFD}" { end -= 1 }
                if end > printed {
                    var chunk = String.UnicodeScalarView()
                    chunk.append(contentsOf: text[printed..<end])
                    print(String(chunk), terminator: "")
                    fflush(stdout)
                    printed = end
                }
            }
            return true
        }
        let dt = Date().timeIntervalSince(t0)
        if json {
            try printJSON(["prompt_ids": ids.map(Int.init), "ids": out.map(Int.init),
                           "text": m.tokenizer.decode(out, skipSpecialTokens: true)])
        } else {
            print("")
            printError(String(format: "%d tokens in %.2f s (%.1f tokens/s, prompt %d tokens)", out.count, dt, Double(out.count) / dt, ids.count))
        }
    }
}
