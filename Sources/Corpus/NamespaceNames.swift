/// Namespace names the cleaner needs: which link prefixes hide a link (files, media,
/// categories — in the wiki's own language and in English) and which prefixes are namespaces
/// at all (so `[[Wikipedia:Foo]]` is not mistaken for an interlanguage link).
public struct NamespaceNames: Sendable, Equatable {
    /// Normalised (lowercase, single spaces) prefixes whose links render nothing in the text.
    public var hidden: Set<String>
    /// Normalised names of every namespace known for this wiki.
    public var known: Set<String>

    /// English canonical names valid on every wiki, plus widespread localised aliases
    /// (MediaWiki accepts `Image:` for File everywhere; vi `Hình:`, ja `画像:` are aliases there).
    static let universalHidden: Set<String> = ["file", "image", "media", "category", "hình", "画像"]
    static let universalKnown: Set<String> = [
        "talk", "user", "user talk", "wikipedia", "project", "wikipedia talk", "file talk", "mediawiki",
        "mediawiki talk", "template", "template talk", "help", "help talk", "category talk", "portal",
        "portal talk", "special", "module", "module talk", "draft", "draft talk", "wp", "wt", "timedtext",
    ]

    /// Names for a wiki described by its dump's `<siteinfo>`.
    public init(siteInfo: SiteInfo) {
        hidden = Self.universalHidden
        known = Self.universalKnown.union(Self.universalHidden)
        for (key, name) in siteInfo.namespaces where key != 0 {
            let normalised = Self.normalise(name)
            known.insert(normalised)
            if key == 6 || key == -2 || key == 14 { hidden.insert(normalised) }
        }
    }

    /// English Wikipedia's names (used when a source has no `<siteinfo>`).
    public static let english = NamespaceNames(siteInfo: SiteInfo())

    /// Lowercases, maps `_` to space and trims/collapses spaces, as MediaWiki does for namespace prefixes.
    public static func normalise(_ name: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in name.lowercased() {
            if ch == " " || ch == "_" || ch == "\u{A0}" {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" ") }
            pendingSpace = false
            out.append(ch)
        }
        return out
    }
}
