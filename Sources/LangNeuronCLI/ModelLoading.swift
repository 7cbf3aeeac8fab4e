import Foundation
import Kernels
import Models
import Store
import Training

/// Resolves a model spec (default name, GGUF path or HF directory) and loads it, with a note on stderr.
func loadModel(_ spec: String, deltas: [String] = [], quiet: Bool = false) throws -> LoadedModel {
    let locator = ModelLocator(progress: { if !quiet { printError($0) } })
    let resolved = try locator.resolve(spec)
    let model = try LoadedModel.load(at: resolved.url, knownFingerprint: resolved.knownSHA256)
    if !deltas.isEmpty {
        try DeltaMerge.apply(try deltas.map(ScaledDelta.init(spec:)), to: model)
        if !quiet { printError("merged in memory: \(deltas.joined(separator: ", "))") }
    }
    if !quiet {
        printError(String(format: "loaded %@ (%@, %d layers) in %.1f s; OpenBLAS %@ kernel, %d threads", resolved.url.lastPathComponent,
                          model.config.architecture.rawValue, model.config.layers, model.loadSeconds, BLAS.coreName, BLAS.threads))
    }
    return model
}

/// Reads a UTF-8 text file, or fails naming the file.
func readTextFile(_ path: String) throws -> String {
    let url = URL(fileURLWithPath: path)
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw CLIError.badInput("\(path): cannot read (\(error.localizedDescription))")
    }
    guard let s = String(data: data, encoding: .utf8) else {
        throw CLIError.badInput("\(path): not valid UTF-8 text. Convert it to UTF-8 (e.g. with iconv) and try again.")
    }
    return s
}

/// Errors of the command-line layer itself.
enum CLIError: Error, LocalizedError, CustomStringConvertible {
    case badInput(String)
    var errorDescription: String? { description }
    var description: String {
        switch self {
        case let .badInput(m): return m
        }
    }
}
