import Foundation

/// The weights of a Hugging Face checkpoint directory as one `TensorSource`: either the shards
/// listed by `model.safetensors.index.json` (its `weight_map`: tensor name → shard file) or a
/// single `model.safetensors`. Every shard is opened (and its header validated) up front.
public final class SafetensorsCollection: TensorSource {
    public let directory: URL
    /// Opened shard files, sorted by file name.
    public let files: [SafetensorsFile]
    /// The index's `metadata` object when the checkpoint is sharded (else empty).
    public let indexMetadata: [String: Any]
    /// Tensor names sorted byte-wise.
    public let tensorNames: [String]
    private let owner: [String: Int]

    /// Opens the weights of `directory` (see the type's documentation for which files).
    public init(directory: URL) throws {
        self.directory = directory
        let fm = FileManager.default
        let indexURL = directory.appendingPathComponent("model.safetensors.index.json")
        let singleURL = directory.appendingPathComponent("model.safetensors")
        if fm.fileExists(atPath: indexURL.path) {
            let data: Data
            do { data = try Data(contentsOf: indexURL) } catch {
                throw ModelIOError.cannotOpen(path: indexURL.path, reason: error.localizedDescription)
            }
            guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ModelIOError.malformed(path: indexURL.path, field: "index", reason: "not a JSON object")
            }
            guard let map = obj["weight_map"] as? [String: Any], !map.isEmpty else {
                throw ModelIOError.malformed(path: indexURL.path, field: "weight_map", reason: "missing or empty")
            }
            var shardNames = Set<String>()
            var wanted = [String: String]()
            for (tensor, fileAny) in map {
                guard let f = fileAny as? String, !f.contains("/"), !f.isEmpty else {
                    throw ModelIOError.malformed(path: indexURL.path, field: "weight_map.\(tensor)",
                                                 reason: "must be the file name of a shard in the same directory")
                }
                shardNames.insert(f)
                wanted[tensor] = f
            }
            let ordered = shardNames.sorted()
            var opened = [SafetensorsFile]()
            for f in ordered {
                let u = directory.appendingPathComponent(f)
                guard fm.fileExists(atPath: u.path) else {
                    throw ModelIOError.missingFile(path: u.path, what: "shard listed in \(indexURL.lastPathComponent)")
                }
                opened.append(try SafetensorsFile(url: u))
            }
            let position = Dictionary(uniqueKeysWithValues: ordered.enumerated().map { ($1, $0) })
            var owner = [String: Int]()
            for (tensor, f) in wanted {
                guard let i = position[f] else { continue }  // unreachable: `ordered` holds every shard of `wanted`
                guard opened[i].info(tensor) != nil else {
                    throw ModelIOError.missingTensor(path: opened[i].url.path, tensor: tensor)
                }
                owner[tensor] = i
            }
            files = opened
            self.owner = owner
            indexMetadata = obj["metadata"] as? [String: Any] ?? [:]
        } else if fm.fileExists(atPath: singleURL.path) {
            let f = try SafetensorsFile(url: singleURL)
            files = [f]
            var owner = [String: Int]()
            for t in f.tensors { owner[t.name] = 0 }
            self.owner = owner
            indexMetadata = [:]
        } else {
            throw ModelIOError.missingFile(path: directory.path, what: "model.safetensors or model.safetensors.index.json")
        }
        tensorNames = owner.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The shard holding `name` and its entry there.
    public func locate(_ name: String) -> (file: SafetensorsFile, info: SafetensorsTensorInfo)? {
        guard let i = owner[name], let info = files[i].info(name) else { return nil }
        return (files[i], info)
    }

    public func shape(of name: String) -> [Int]? { locate(name)?.info.shape }
    public func storageType(of name: String) -> String? { locate(name)?.info.dtype.rawValue }

    public func readFloats(_ name: String, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let (f, info) = locate(name) else { throw ModelIOError.missingTensor(path: directory.path, tensor: name) }
        try f.readFloats(info, rows: 0..<SafetensorsFile.rowCount(info), into: output)
    }

    public func readFloats(_ name: String, rows: Range<Int>, into output: UnsafeMutableBufferPointer<Float>) throws {
        guard let (f, info) = locate(name) else { throw ModelIOError.missingTensor(path: directory.path, tensor: name) }
        try f.readFloats(info, rows: rows, into: output)
    }
}
