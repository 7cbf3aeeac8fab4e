/// The `<siteinfo>` of a MediaWiki export: database name and localised namespace names.
public struct SiteInfo: Sendable, Equatable {
    /// e.g. `viwiki`.
    public var dbname: String
    /// Namespace key → localised name (`6` → `Tập tin`); namespace 0 has the empty name.
    public var namespaces: [Int: String]

    public init(dbname: String = "", namespaces: [Int: String] = [:]) {
        self.dbname = dbname
        self.namespaces = namespaces
    }

    /// Parses the `<siteinfo>…</siteinfo>` bytes; tolerant of missing fields.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> SiteInfo {
        var info = SiteInfo()
        if let s = findBytes("<dbname>", in: bytes), let e = findBytes("</dbname>", in: bytes, from: s) {
            info.dbname = XMLText.decodeLossy(UnsafeBufferPointer(rebasing: bytes[(s + 8)..<e]))
        }
        var pos = 0
        while let s = findBytes("<namespace ", in: bytes, from: pos) {
            guard let close = findBytes(">", in: bytes, from: s) else { break }
            let tag = UnsafeBufferPointer(rebasing: bytes[s..<close])
            pos = close + 1
            guard let k = findBytes("key=\"", in: tag) else { continue }
            var key = 0
            var sign = 1
            var i = k + 5
            if i < tag.count, tag[i] == UInt8(ascii: "-") { sign = -1; i += 1 }
            while i < tag.count, tag[i] >= 48, tag[i] <= 57 { key = key * 10 + Int(tag[i] - 48); i += 1 }
            if bytes[close - 1] == UInt8(ascii: "/") {
                info.namespaces[sign * key] = ""
                continue
            }
            guard let e = findBytes("</namespace>", in: bytes, from: pos) else { break }
            info.namespaces[sign * key] = XMLText.decodeLossy(UnsafeBufferPointer(rebasing: bytes[pos..<e]))
            pos = e
        }
        return info
    }

    /// The namespace key whose name prefixes `title` (`Tập tin:X.jpg` → 6), or 0.
    func namespace(ofTitle title: String) -> Int {
        guard let colon = title.firstIndex(of: ":") else { return 0 }
        let prefix = title[..<colon].lowercased()
        for (key, name) in namespaces where key != 0 && name.lowercased() == prefix { return key }
        return 0
    }
}
