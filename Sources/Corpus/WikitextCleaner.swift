#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns wikitext into the text a reader sees: templates, tables, references, comments,
/// galleries, math, magic words, file/category/interlanguage links are removed; internal and
/// external links keep their visible label; bold/italic quotes are dropped; headings and list
/// items become plain lines; HTML entities are decoded and whitespace is collapsed.
///
/// Works on UTF-8 bytes in four passes (tags → templates/tables → links → lines), each
/// allocation-free over reused buffers. Not thread-safe: use one cleaner per thread.
public final class WikitextCleaner {
    /// Which link prefixes are files/categories and which are namespaces.
    public let namespaces: NamespaceNames

    private var bufA: UnsafeMutablePointer<UInt8>
    private var bufB: UnsafeMutablePointer<UInt8>
    private var capacity = 0
    private var stack: [UInt8] = []
    private var pendingHeadings: [(start: Int, level: Int)] = []

    /// A cleaner for a wiki whose namespace names are `namespaces` (English by default).
    public init(namespaces: NamespaceNames = .english) {
        self.namespaces = namespaces
        capacity = 1 << 16
        bufA = .allocate(capacity: capacity)
        bufB = .allocate(capacity: capacity)
        stack.reserveCapacity(64)
    }

    deinit {
        bufA.deallocate()
        bufB.deallocate()
    }

    /// The visible text of `wikitext`: lines separated by `\n`, no leading/trailing whitespace.
    public func clean(_ wikitext: String) -> String {
        var copy = wikitext
        return copy.withUTF8 { clean(validUTF8: $0) }
    }

    /// As `clean(_:)`, on bytes already known to be valid UTF-8.
    func clean(validUTF8 input: UnsafeBufferPointer<UInt8>) -> String {
        let n = cleanBytes(input)
        return String(decoding: UnsafeBufferPointer(start: bufB, count: n), as: UTF8.self)
    }

    /// Cleans bytes that contain no byte ≥ 0xF5; nil when the resulting text is not valid UTF-8.
    func cleanValidating(_ input: UnsafeBufferPointer<UInt8>) -> String? {
        let n = cleanBytes(input)
        return String(validating: UnsafeBufferPointer(start: bufB, count: n), as: UTF8.self)
    }

    /// Runs the passes; the result is in `bufB[0..<returned]`.
    private func cleanBytes(_ input: UnsafeBufferPointer<UInt8>) -> Int {
        let need = input.count + 64
        if need > capacity {
            bufA.deallocate()
            bufB.deallocate()
            capacity = max(need, capacity * 2)
            bufA = .allocate(capacity: capacity)
            bufB = .allocate(capacity: capacity)
        }
        let n1 = stripTags(input, into: bufA)
        let n2 = stripTemplatesAndTables(UnsafeBufferPointer(start: bufA, count: n1), into: bufB)
        var n3 = 0
        renderLinks(UnsafeBufferPointer(start: bufB, count: n2), into: bufA, at: &n3, depth: 0)
        return renderLines(UnsafeBufferPointer(start: bufA, count: n3), into: bufB)
    }

    // MARK: - Pass 1: comments and tags

    private enum TagKind { case dropWithContent, literalContent, blockHTML, inlineHTML }

    private static let tagKinds: [UInt64: TagKind] = {
        var t: [UInt64: TagKind] = [:]
        func add(_ names: String, _ kind: TagKind) {
            for name in names.split(separator: " ") {
                var s = String(name)
                s.withUTF8 { t[HTMLEntities.hash($0)] = kind }
            }
        }
        // Rendered out of the prose (footnotes, media, formulas, code, maps) or not shown at all.
        add("ref references gallery math chem ce score timeline syntaxhighlight source graph hiero imagemap "
            + "mapframe maplink templatestyles includeonly inputbox categorytree charinsert indicator "
            + "section templatedata langconvert ", .dropWithContent)
        // Content shown verbatim, not parsed as wikitext.
        add("nowiki pre", .literalContent)
        add("br p div li ul ol dl dt dd hr blockquote center table tr td th caption poem h1 h2 h3 h4 h5 h6", .blockHTML)
        add("span small big sup sub b i u s del ins strike font tt abbr cite em strong var kbd samp q dfn mark "
            + "ruby rb rt rp bdi bdo wbr time data noinclude onlyinclude code", .inlineHTML)
        return t
    }()

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 {
        (b >= 65 && b <= 90) ? b | 0x20 : b
    }

    @inline(__always) private static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57)
    }

    /// Bytes that nowiki content must not expose to later passes, mapped 1:1 onto bytes that
    /// never occur in UTF-8 (0xF5…0xFE) and mapped back in the last pass.
    private static let protectedBytes: [UInt8] = Array("[]{}|'<=*#".utf8)
    /// An invisible separator (never valid UTF-8) left where removed markup sat between two
    /// apostrophes, so that `'''{{x}}'''` does not merge into one run of six; dropped in the last pass.
    static let separator: UInt8 = 0xFF
    private static let protectMap: [UInt8] = {
        var m = [UInt8](repeating: 0, count: 256)
        for (k, b) in protectedBytes.enumerated() { m[Int(b)] = 0xF5 + UInt8(k) }
        return m
    }()

    /// Finds `</name` (case-insensitive) at or after `from`; returns (start of `</`, index after `>`).
    private func findClosingTag(_ src: UnsafeBufferPointer<UInt8>, name: Range<Int>, from: Int) -> (Int, Int)? {
        let n = src.count
        var k = from
        guard let base = src.baseAddress else { return nil }
        while k + 2 < n {
            guard let hit = memchr(base + k, 0x3C, n - k) else { return nil }
            let p = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            k = p + 1
            guard p + 2 + name.count <= n, src[p + 1] == UInt8(ascii: "/") else { continue }
            var match = true
            for m in 0..<name.count where Self.lower(src[p + 2 + m]) != Self.lower(src[name.lowerBound + m]) {
                match = false
                break
            }
            guard match else { continue }
            var q = p + 2 + name.count
            if q < n, Self.isNameByte(src[q]) { continue }
            while q < n, src[q] != UInt8(ascii: ">") { q += 1 }
            return (p, min(q + 1, n))
        }
        return nil
    }

    private func stripTags(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = src.count
        var i = 0
        var o = 0
        while i < n {
            guard let lt = copyUntil(UInt8(ascii: "<"), src, from: i, into: dst, at: &o) else { break }
            i = lt
            // Comments: an unclosed one hides the rest, as in MediaWiki.
            if i + 3 < n, src[i + 1] == UInt8(ascii: "!"), src[i + 2] == UInt8(ascii: "-"), src[i + 3] == UInt8(ascii: "-") {
                if let e = findBytes("-->", in: src, from: i + 4) { i = e + 3 } else { i = n }
                continue
            }
            var j = i + 1
            let closing = j < n && src[j] == UInt8(ascii: "/")
            if closing { j += 1 }
            let nameStart = j
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            while j < n, j - nameStart < 20, Self.isNameByte(src[j]) {
                h = (h ^ UInt64(Self.lower(src[j]))) &* 0x100_0000_01b3
                j += 1
            }
            let nameEnd = j
            guard nameEnd > nameStart, j < n,
                  src[j] == UInt8(ascii: ">") || src[j] == UInt8(ascii: "/") || src[j] == 0x20 || src[j] == 0x0A || src[j] == 0x09,
                  let kind = Self.tagKinds[h] else {
                dst[o] = src[i]
                o += 1
                i += 1
                continue
            }
            // The tag's end, within a sane distance (attributes are short).
            var gt = j
            let limit = min(n, j + 4096)
            while gt < limit, src[gt] != UInt8(ascii: ">") { gt += 1 }
            guard gt < limit else {
                dst[o] = src[i]
                o += 1
                i += 1
                continue
            }
            let selfClosing = src[gt - 1] == UInt8(ascii: "/")
            let after = gt + 1
            switch kind {
            case .dropWithContent:
                if closing || selfClosing {
                    i = after
                } else if let (_, end) = findClosingTag(src, name: nameStart..<nameEnd, from: after) {
                    i = end
                } else {
                    i = after
                }
            case .literalContent:
                if closing || selfClosing {
                    // <nowiki/> is used to keep apostrophes apart.
                    dst[o] = Self.separator
                    o += 1
                    i = after
                } else {
                    let (contentEnd, end) = findClosingTag(src, name: nameStart..<nameEnd, from: after) ?? (n, n)
                    for k in after..<contentEnd {
                        let b = src[k]
                        let m = Self.protectMap[Int(b)]
                        dst[o] = m == 0 ? b : m
                        o += 1
                    }
                    i = end
                }
            case .blockHTML:
                dst[o] = 0x0A
                o += 1
                i = after
            case .inlineHTML:
                i = after
            }
        }
        return o
    }

    // MARK: - Pass 2: templates {{…}} and tables {|…|}

    @inline(__always)
    private static func atLineStart(_ src: UnsafeBufferPointer<UInt8>, _ j: Int) -> Bool {
        var k = j - 1
        while k >= 0, src[k] == 0x20 || src[k] == 0x09 || src[k] == UInt8(ascii: ":") { k -= 1 }
        return k < 0 || src[k] == 0x0A
    }

    /// Index just past the template/table opening at `i`, or nil when it is never closed.
    private func skipBlock(_ src: UnsafeBufferPointer<UInt8>, from i: Int) -> Int? {
        let n = src.count
        let template: UInt8 = 1
        let table: UInt8 = 2
        stack.removeAll(keepingCapacity: true)
        var j = i
        while j + 1 < n {
            let c = src[j]
            let d = src[j + 1]
            if c == UInt8(ascii: "{") {
                if d == UInt8(ascii: "{") {
                    stack.append(template)
                    j += 2
                    continue
                }
                if d == UInt8(ascii: "|"), Self.atLineStart(src, j) {
                    stack.append(table)
                    j += 2
                    continue
                }
            } else if c == UInt8(ascii: "}"), d == UInt8(ascii: "}"), stack.last == template {
                stack.removeLast()
                j += 2
                if stack.isEmpty { return j }
                continue
            } else if c == UInt8(ascii: "|"), d == UInt8(ascii: "}"), stack.last == table {
                stack.removeLast()
                j += 2
                if stack.isEmpty { return j }
                continue
            }
            j += 1
        }
        return nil
    }

    private func stripTemplatesAndTables(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = src.count
        var i = 0
        var o = 0
        while i < n {
            guard let p = copyUntil(UInt8(ascii: "{"), src, from: i, into: dst, at: &o) else { break }
            i = p
            if i + 1 < n, src[i + 1] == UInt8(ascii: "{") || (src[i + 1] == UInt8(ascii: "|") && Self.atLineStart(src, i)),
               let end = skipBlock(src, from: i) {
                if o > 0, dst[o - 1] == UInt8(ascii: "'"), end < n, src[end] == UInt8(ascii: "'") {
                    dst[o] = Self.separator
                    o += 1
                }
                // A few inline templates only wrap visible text ({{lang|fr|texte}}): keep that text.
                if src[i + 1] == UInt8(ascii: "{"), end - i > 4, src[i + 2] != UInt8(ascii: "{"),
                   let shown = Self.visibleArgument(UnsafeBufferPointer(rebasing: src[(i + 2)..<(end - 2)])) {
                    let inner = UnsafeBufferPointer(rebasing: src[(i + 2 + shown.lowerBound)..<(i + 2 + shown.upperBound)])
                    o += stripTemplatesAndTables(inner, into: dst + o)
                }
                i = end
                continue
            }
            // Unclosed: MediaWiki shows the braces literally.
            dst[o] = src[i]
            o += 1
            i += 1
        }
        return o
    }

    /// Templates whose rendering is just one of their arguments: hash of the normalised name →
    /// which positional argument (1-based). `lang-xx` templates are handled by prefix.
    private static let textTemplates: [UInt64: Int] = {
        var t: [UInt64: Int] = [:]
        let table: [(String, Int)] = [
            ("lang", 2), ("nowrap", 1), ("nobr", 1), ("small", 1), ("smaller", 1), ("big", 1), ("larger", 1),
            ("noitalic", 1), ("nobold", 1), ("transl", 2), ("script", 2), ("wikt-lang", 2), ("keep together", 1),
        ]
        for (name, index) in table {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in name.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            t[h] = index
        }
        return t
    }()

    private static let langPrefix: StaticString = "lang"

    /// For a template body (`name|arg|…`), the byte range of the argument it displays when it is
    /// one of `textTemplates`; nil otherwise. Allocation-free: most templates fail on the name.
    private static func visibleArgument(_ body: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let n = body.count
        // Name: up to the first '|', lowercased, '_' as space, trimmed.
        var k = 0
        while k < n, body[k] == 0x20 || body[k] == 0x0A { k += 1 }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        var length = 0
        var pendingSpace = false
        var isLangPrefix = false
        while k < n, body[k] != UInt8(ascii: "|") {
            var c = lower(body[k])
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") || c == UInt8(ascii: "<") || length > 24 { return nil }
            if c == UInt8(ascii: "_") { c = 0x20 }
            if c == 0x20 || c == 0x0A {
                pendingSpace = length > 0
                k += 1
                continue
            }
            if pendingSpace {
                h = (h ^ 0x20) &* 0x100_0000_01b3
                length += 1
                pendingSpace = false
            }
            h = (h ^ UInt64(c)) &* 0x100_0000_01b3
            length += 1
            if length == 5, c == UInt8(ascii: "-") {
                // "lang-" so far?
                var p = 0
                var q = 0
                isLangPrefix = true
                while q < k, p < 4 {
                    if body[q] != 0x20 {
                        if lower(body[q]) != Self.langPrefix.utf8Start[p] { isLangPrefix = false }
                        p += 1
                    }
                    q += 1
                }
            }
            k += 1
        }
        guard k < n else { return nil }
        let index: Int
        if let known = textTemplates[h] {
            index = known
        } else if isLangPrefix, length <= 12 {
            index = 1
        } else {
            return nil
        }
        // Walk the top-level arguments; named ones (x=y) do not count as positional.
        var positional = 0
        var argStart = k + 1
        var depth = 0
        var j = argStart
        while j <= n {
            if j < n {
                let c = body[j]
                if (c == UInt8(ascii: "{") || c == UInt8(ascii: "[")), j + 1 < n, body[j + 1] == c { depth += 1; j += 2; continue }
                if (c == UInt8(ascii: "}") || c == UInt8(ascii: "]")), j + 1 < n, body[j + 1] == c { depth -= 1; j += 2; continue }
                if c != UInt8(ascii: "|") || depth != 0 { j += 1; continue }
            }
            let range = argStart..<j
            var isNamed = false
            for q in range {
                let c = body[q]
                if c == UInt8(ascii: "=") { isNamed = true; break }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") || c == UInt8(ascii: "<") { break }
            }
            if !isNamed {
                positional += 1
                if positional == index { return range }
            }
            argStart = j + 1
            j += 1
        }
        return nil
    }

    // MARK: - Pass 3: links

    /// Index of the `]]` closing the `[[` at `i`, honouring nesting; nil if none within 64 KiB.
    private static func matchLink(_ src: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let n = min(src.count, i + 65536)
        var depth = 1
        var single = 0
        var inTarget = true
        var j = i + 2
        while j < n {
            let c = src[j]
            // MediaWiki's link target is one line: `[[a\nb]]` is no link (the label may span lines).
            if inTarget {
                if c == 0x0A { return nil }
                if c == UInt8(ascii: "|") { inTarget = false }
            }
            if c == UInt8(ascii: "[") {
                if j + 1 < n, src[j + 1] == UInt8(ascii: "[") {
                    depth += 1
                    j += 2
                    continue
                }
                // Only external links open a single bracket that a ']' will close.
                if isURLStart(src, j + 1) { single += 1 }
            } else if c == UInt8(ascii: "]") {
                if single > 0 {
                    single -= 1
                } else if j + 1 < n, src[j + 1] == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return j }
                    j += 2
                    continue
                }
            }
            j += 1
        }
        return nil
    }

    /// Does an external-link URL start at `i` (`http://`, `https://`, `ftp://`, `//`, `mailto:`…)?
    private static func isURLStart(_ src: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        let n = src.count
        if i + 1 < n, src[i] == UInt8(ascii: "/"), src[i + 1] == UInt8(ascii: "/") { return true }
        var j = i
        while j < n, j - i < 10, (src[j] >= 97 && src[j] <= 122) || (src[j] >= 65 && src[j] <= 90) { j += 1 }
        guard j > i + 2, j < n, src[j] == UInt8(ascii: ":") else { return false }
        var scheme = 0
        for k in i..<j { scheme = scheme &* 31 &+ Int(lower(src[k])) }
        return urlSchemes.contains(scheme) && (j + 1 < n) && src[j + 1] != 0x20
    }

    private static let urlSchemes: Set<Int> = {
        var s = Set<Int>()
        for name in ["http", "https", "ftp", "ftps", "sftp", "mailto", "news", "irc", "ircs", "gopher", "nntp",
                     "telnet", "worldwind", "urn", "git", "svn", "mms", "sip", "sips", "sms", "tel", "xmpp", "geo", "magnet"] {
            var h = 0
            for b in name.utf8 { h = h &* 31 &+ Int(b) }
            s.insert(h)
        }
        return s
    }()

    /// Is `name` (normalised) shaped like a language code (`fr`, `zh-yue`, `be-x-old`, `simple`)?
    private static func looksLikeLanguageCode(_ name: String) -> Bool {
        if name == "simple" { return true }
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count) else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 8, part.utf8.allSatisfy({ $0 >= 97 && $0 <= 122 }) else { return false }
        }
        return true
    }

    private func copy(_ src: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into dst: UnsafeMutablePointer<UInt8>, at o: inout Int) {
        guard !r.isEmpty, let base = src.baseAddress else { return }
        (dst + o).update(from: base + r.lowerBound, count: r.count)
        o += r.count
    }

    private func renderLinks(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>, at o: inout Int, depth: Int) {
        let n = src.count
        var i = 0
        while i < n {
            guard let p = copyUntil(UInt8(ascii: "["), src, from: i, into: dst, at: &o) else { break }
            i = p
            if i + 1 < n, src[i + 1] == UInt8(ascii: "["), depth < 8, let close = Self.matchLink(src, i) {
                renderInternalLink(UnsafeBufferPointer(rebasing: src[(i + 2)..<close]), into: dst, at: &o, depth: depth)
                i = close + 2
                continue
            }
            if i + 1 < n, src[i + 1] == UInt8(ascii: "[") {
                // Never closed (checked above): `[[target|label` up to the line end reads as its
                // label; without a `|` the words stay and pass 4 drops the brackets.
                var j = i + 2
                while j < n, src[j] != 0x0A, src[j] != UInt8(ascii: "|"), src[j] != UInt8(ascii: "["), src[j] != UInt8(ascii: "]") { j += 1 }
                if j < n, src[j] == UInt8(ascii: "|"), j > i + 2 {
                    i = j + 1
                    continue
                }
            }
            if i + 1 < n, src[i + 1] != UInt8(ascii: "["), Self.isURLStart(src, i + 1) {
                // MediaWiki renders internal links before external ones, so a `]]` inside the
                // label is not the `]` that closes it.
                var e = i + 1
                while e < n, src[e] != UInt8(ascii: "]"), src[e] != 0x0A {
                    if src[e] == UInt8(ascii: "["), e + 1 < n, src[e + 1] == UInt8(ascii: "["), let close = Self.matchLink(src, e) {
                        e = close + 2
                        continue
                    }
                    e += 1
                }
                if e < n, src[e] == UInt8(ascii: "]") {
                    var s = i + 1
                    while s < e, src[s] != 0x20, src[s] != 0x09 { s += 1 }
                    if s < e {
                        // A labelled link shows its label; a bare one renders as "[1]", which is dropped.
                        if depth < 8 {
                            renderLinks(UnsafeBufferPointer(rebasing: src[(s + 1)..<e]), into: dst, at: &o, depth: depth + 1)
                        }
                    }
                    i = e + 1
                    continue
                }
            }
            dst[o] = src[i]
            o += 1
            i += 1
        }
    }

    private func renderInternalLink(_ content: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>, at o: inout Int, depth: Int) {
        let n = content.count
        var s = 0
        while s < n, content[s] == 0x20 { s += 1 }
        let leadingColon = s < n && content[s] == UInt8(ascii: ":")
        if leadingColon { s += 1 }
        // Target ends at the first '|' outside nested links.
        var pipe = s
        var nest = 0
        while pipe < n {
            let c = content[pipe]
            if c == UInt8(ascii: "["), pipe + 1 < n, content[pipe + 1] == UInt8(ascii: "[") { nest += 1; pipe += 2; continue }
            if c == UInt8(ascii: "]"), pipe + 1 < n, content[pipe + 1] == UInt8(ascii: "]") { nest -= 1; pipe += 2; continue }
            if c == UInt8(ascii: "|"), nest <= 0 { break }
            pipe += 1
        }
        let target = s..<min(pipe, n)
        // Namespace or interlanguage prefix.
        var prefixEnd: Int?
        var k = target.lowerBound
        while k < target.upperBound, k - target.lowerBound < 64 {
            if content[k] == UInt8(ascii: ":") { prefixEnd = k; break }
            if content[k] == UInt8(ascii: "[") || content[k] == UInt8(ascii: "{") { break }
            k += 1
        }
        var namespacePrefix = false
        if let pe = prefixEnd {
            let prefix = NamespaceNames.normalise(String(decoding: UnsafeBufferPointer(rebasing: content[target.lowerBound..<pe]), as: UTF8.self))
            if !leadingColon {
                if namespaces.hidden.contains(prefix) { return }
                if !namespaces.known.contains(prefix), Self.looksLikeLanguageCode(prefix) { return }
            }
            namespacePrefix = namespaces.known.contains(prefix)
        }
        if pipe < n {
            let label = (pipe + 1)..<n
            var hasVisible = false
            for q in label where content[q] != 0x20 { hasVisible = true; break }
            if hasVisible {
                renderLinks(UnsafeBufferPointer(rebasing: content[label]), into: dst, at: &o, depth: depth + 1)
                return
            }
            // Pipe trick: [[Namespace:Page (disambiguation)|]] shows "Page".
            var from = target.lowerBound
            if namespacePrefix, let pe = prefixEnd { from = pe + 1 }
            var to = target.upperBound
            var q = to - 1
            while q > from, content[q] == 0x20 { q -= 1 }
            if q > from, content[q] == UInt8(ascii: ")") {
                var open = q
                while open > from, content[open] != UInt8(ascii: "(") { open -= 1 }
                if open > from {
                    to = open
                    while to > from, content[to - 1] == 0x20 { to -= 1 }
                }
            }
            copy(content, from..<to, into: dst, at: &o)
            return
        }
        copy(content, target, into: dst, at: &o)
    }

    // MARK: - Pass 4: lines, quotes, entities, whitespace

    private func renderLines(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutablePointer<UInt8>) -> Int {
        let n = src.count
        var o = 0
        // Headings not yet followed by text: (output offset of the line break before it, level).
        pendingHeadings.removeAll(keepingCapacity: true)
        var lineStart = 0
        while lineStart < n {
            var lineEnd = lineStart
            if let base = src.baseAddress, let hit = memchr(base + lineStart, 0x0A, n - lineStart) {
                lineEnd = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            } else {
                lineEnd = n
            }
            defer { lineStart = lineEnd + 1 }
            var p = lineStart
            var e = lineEnd
            while p < e, src[p] == 0x20 || src[p] == 0x09 || src[p] == 0x0D { p += 1 }
            while e > p, src[e - 1] == 0x20 || src[e - 1] == 0x09 || src[e - 1] == 0x0D { e -= 1 }
            guard p < e else { continue }
            // Horizontal rule.
            if e - p >= 4, src[p] == UInt8(ascii: "-"), src[p + 1] == UInt8(ascii: "-"), src[p + 2] == UInt8(ascii: "-"), src[p + 3] == UInt8(ascii: "-") {
                p += 4
                while p < e, src[p] == UInt8(ascii: "-") { p += 1 }
            }
            var heading = false
            var level = 0
            if src[p] == UInt8(ascii: "="), src[e - 1] == UInt8(ascii: "="), e - p >= 3 {
                var a = p
                while a < e, src[a] == UInt8(ascii: "=") { a += 1 }
                var b = e
                while b > a, src[b - 1] == UInt8(ascii: "=") { b -= 1 }
                if b > a {
                    heading = true
                    level = min(a - p, e - b)
                    p = a
                    e = b
                }
            } else {
                // List and indentation markers.
                while p < e, src[p] == UInt8(ascii: "*") || src[p] == UInt8(ascii: "#") || src[p] == UInt8(ascii: ":") || src[p] == UInt8(ascii: ";") {
                    p += 1
                }
            }
            let outStart = o + (o > 0 ? 1 : 0)
            var w = outStart
            renderInline(src, p..<e, into: dst, at: &w)
            w = removeEmptyParentheses(dst, outStart..<w)
            while w > outStart, dst[w - 1] == 0x20 { w -= 1 }
            guard hasWordCharacter(dst, outStart..<w) else { continue }
            // A heading shows only if text follows before the next heading of its level or above.
            if heading {
                var dropTo: Int? = nil
                while let last = pendingHeadings.last, last.level >= level {
                    dropTo = last.start
                    pendingHeadings.removeLast()
                }
                if let d = dropTo {
                    let length = w - outStart
                    let target = d + (d > 0 ? 1 : 0)
                    (dst + target).update(from: dst + outStart, count: length)
                    if d > 0 { dst[d] = 0x0A }
                    o = target + length
                    pendingHeadings.append((d, level))
                    continue
                }
            } else {
                pendingHeadings.removeAll(keepingCapacity: true)
            }
            if o > 0 { dst[o] = 0x0A }
            let lineBreak = o
            o = w
            if heading { pendingHeadings.append((lineBreak, level)) }
        }
        if let first = pendingHeadings.first { o = first.start }
        return o
    }

    @inline(__always)
    private func hasWordCharacter(_ p: UnsafeMutablePointer<UInt8>, _ r: Range<Int>) -> Bool {
        for k in r {
            let b = p[k]
            if b >= 0x80 || (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) { return true }
        }
        return false
    }

    /// Removes "( )", "(, )", "（）" left behind by removed templates, with the space before them.
    private func removeEmptyParentheses(_ p: UnsafeMutablePointer<UInt8>, _ r: Range<Int>) -> Int {
        var read = r.lowerBound
        var write = r.lowerBound
        let end = r.upperBound
        // Most lines have no parenthesis at all.
        if r.isEmpty || (memchr(p + r.lowerBound, 0x28, r.count) == nil && memchr(p + r.lowerBound, 0xEF, r.count) == nil) {
            return end
        }
        while read < end {
            let b = p[read]
            var openLength = 0
            if b == UInt8(ascii: "(") { openLength = 1 }
            else if b == 0xEF, read + 2 < end, p[read + 1] == 0xBC, p[read + 2] == 0x88 { openLength = 3 }
            if openLength > 0 {
                var q = read + openLength
                while q < end, p[q] == 0x20 || p[q] == UInt8(ascii: ",") || p[q] == UInt8(ascii: ";") || p[q] == UInt8(ascii: ":") { q += 1 }
                var closeLength = 0
                if q < end, p[q] == UInt8(ascii: ")") { closeLength = 1 }
                else if q + 2 < end, p[q] == 0xEF, p[q + 1] == 0xBC, p[q + 2] == 0x89 { closeLength = 3 }
                if closeLength > 0 {
                    if write > r.lowerBound, p[write - 1] == 0x20 { write -= 1 }
                    read = q + closeLength
                    continue
                }
            }
            p[write] = b
            write += 1
            read += 1
        }
        // Collapse a double space the removal may leave.
        return write
    }

    private static let unprotect: [UInt8] = protectedBytes

    /// Bytes renderInline treats specially (1); everything else is copied in runs.
    private static let inlineSpecial: UnsafeMutablePointer<UInt8> = {
        let t = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for b in 0..<256 {
            t[b] = (b == 0x20 || b == 0x09 || b == 0x0D || b == 0x27 || b == 0x5F || b == 0x26 || b == 0xC2 || b >= 0xF5
                    || b == 0x5B || b == 0x5D || b == 0x7B || b == 0x7D) ? 1 : 0
        }
        return t
    }()

    private func renderInline(_ src: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into dst: UnsafeMutablePointer<UInt8>, at o: inout Int) {
        var i = r.lowerBound
        let e = r.upperBound
        var lastSpace = true
        var openBraces = 0, openBrackets = 0  // single `{`/`[` of this line not closed yet
        let special = Self.inlineSpecial
        guard let base = src.baseAddress else { return }
        while i < e {
            // Plain bytes in bulk; a single space between words is plain too.
            var run = i
            while run < e {
                let b = src[run]
                if special[Int(b)] == 0 { run += 1; continue }
                if b == 0x20, run > i || !lastSpace, run + 1 < e, src[run + 1] != 0x20, src[run + 1] != 0x09, src[run + 1] != 0x0D {
                    run += 1
                    continue
                }
                break
            }
            if run > i {
                (dst + o).update(from: base + i, count: run - i)
                o += run - i
                lastSpace = src[run - 1] == 0x20
                i = run
                if i == e { break }
            }
            let c = src[i]
            switch c {
            case 0x20, 0x09, 0x0D:
                if !lastSpace { dst[o] = 0x20; o += 1; lastSpace = true }
                i += 1
            case UInt8(ascii: "'") where i + 1 < e && src[i + 1] == UInt8(ascii: "'"):
                var run = 2
                while i + run < e, src[i + run] == UInt8(ascii: "'") { run += 1 }
                // '' italic, ''' bold, ''''' both; '''' is an apostrophe plus bold.
                let literal = run == 4 ? 1 : (run > 5 ? run - 5 : 0)
                for _ in 0..<literal { dst[o] = UInt8(ascii: "'"); o += 1; lastSpace = false }
                i += run
            case UInt8(ascii: "_") where i + 1 < e && src[i + 1] == UInt8(ascii: "_"):
                // Behaviour switches: __NOTOC__, __TOC__, localised __KHÔNGMỤCLỤC__.
                var j = i + 2
                while j < e, (src[j] >= 65 && src[j] <= 90) || src[j] >= 0x80 && src[j] < 0xF5 { j += 1 }
                if j > i + 2, j + 1 < e, src[j] == UInt8(ascii: "_"), src[j + 1] == UInt8(ascii: "_") {
                    i = j + 2
                } else {
                    dst[o] = c; o += 1; lastSpace = false
                    i += 1
                }
            case UInt8(ascii: "&"):
                var j = i + 1
                while j < e, j - i <= 10, src[j] != UInt8(ascii: ";"), src[j] != UInt8(ascii: "&"), src[j] != 0x20 { j += 1 }
                var scalar: UInt32?
                if j < e, src[j] == UInt8(ascii: ";"), j > i + 1 {
                    let name = UnsafeBufferPointer(rebasing: src[(i + 1)..<j])
                    if name[0] == UInt8(ascii: "#") {
                        if name.count > 1 { scalar = XMLText.numericReference(UnsafeBufferPointer(rebasing: name[1...])) }
                    } else {
                        scalar = HTMLEntities.lookup(name)
                    }
                }
                guard let v = scalar else {
                    dst[o] = c; o += 1; lastSpace = false
                    i += 1
                    break
                }
                i = j + 1
                switch v {
                case 0xA0, 0x2002, 0x2003, 0x2009, 0x20, 0x09, 0x0A:
                    if !lastSpace { dst[o] = 0x20; o += 1; lastSpace = true }
                case 0xAD, 0x200E, 0x200F, 0:
                    break  // soft hyphen and direction marks are invisible
                default:
                    o += UTF8Encoding.encode(v, into: dst + o)
                    lastSpace = false
                }
            case 0xC2 where i + 1 < e && src[i + 1] == 0xA0:
                if !lastSpace { dst[o] = 0x20; o += 1; lastSpace = true }
                i += 2
            case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
                // Doubled brackets that reach this pass paired with nothing (`[[a` without `]]`, a
                // stray `}}`): MediaWiki prints them as they are, but they are markup, not prose,
                // so they are dropped and the words around them kept. Single ones are text, and
                // a `}}` that closes two single `{` of the line (`{x^{2}}`) stays.
                let opening = c == UInt8(ascii: "[") || c == UInt8(ascii: "{")
                let isBrace = c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
                let doubled = i + 1 < e && src[i + 1] == c
                if doubled && (opening || (isBrace ? openBraces : openBrackets) == 0) {
                    i += 2
                    break
                }
                if opening {
                    if isBrace { openBraces += 1 } else { openBrackets += 1 }
                } else if isBrace {
                    openBraces = max(0, openBraces - 1)
                } else {
                    openBrackets = max(0, openBrackets - 1)
                }
                dst[o] = c; o += 1; lastSpace = false
                i += 1
            case Self.separator:
                i += 1
            case 0xF5...0xFE:
                dst[o] = Self.unprotect[Int(c - 0xF5)]
                o += 1
                lastSpace = false
                i += 1
            default:
                dst[o] = c
                o += 1
                lastSpace = false
                i += 1
            }
        }
    }
}
