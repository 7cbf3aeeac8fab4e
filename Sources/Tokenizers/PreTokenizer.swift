/// Regex-style splitting of text into words before byte-level BPE, implemented as hand-written
/// scanners over UTF-8 (same matches as the published regexes, without a regex engine).
enum PreTokenizer: Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Every `\p{N}` scalar on its own, then GPT-2 on the rest (SmolLM, StarCoder).
    case digitsThenGPT2
    /// Llama 3: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen 2: as Llama 3 but numbers split into single `\p{N}`.
    case qwen2

    /// `tokenizer.ggml.pre` names this module implements, and the scanner each selects.
    /// SmolLM's own tokenizer.json uses the plain GPT-2 split (llama.cpp's digit-first split for
    /// `smollm` differs on e.g. "a  1"); `default` is what transformers uses for such files.
    static let ggufNames: [String: PreTokenizer] = [
        "gpt2": .gpt2, "gpt-2": .gpt2, "default": .gpt2, "smollm": .gpt2,
        "starcoder": .digitsThenGPT2, "refact": .digitsThenGPT2,
        "llama3": .llama3, "llama-bpe": .llama3, "llama-v3": .llama3, "falcon3": .llama3, "dbrx": .llama3,
        "smaug-bpe": .llama3,
        "qwen2": .qwen2, "deepseek-r1-qwen": .qwen2,
    ]

    /// Appends the word ranges of `p[range]` to `out`, in order; together they cover `range`.
    func split(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Range<Int>]) {
        switch self {
        case .gpt2: Self.scanGPT2(p, range, &out)
        case .llama3: Self.scanLlama3(p, range, digitRun: 3, &out)
        case .qwen2: Self.scanLlama3(p, range, digitRun: 1, &out)
        case .digitsThenGPT2:
            var i = range.lowerBound
            var chunkStart = i
            while i < range.upperBound {
                let (v, len) = decodeScalar(p, i)
                if ScalarClass.of(v) == .number {
                    if chunkStart < i { Self.scanGPT2(p, chunkStart..<i, &out) }
                    out.append(i..<(i + len))
                    chunkStart = i + len
                }
                i += len
            }
            if chunkStart < range.upperBound { Self.scanGPT2(p, chunkStart..<range.upperBound, &out) }
        }
    }

    // MARK: scanners

    /// Scalar class at `i` (or nil at the end of the range).
    @inline(__always)
    private static func classAt(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> (ScalarClass, Int)? {
        guard i < end else { return nil }
        let (v, len) = decodeScalar(p, i)
        return (ScalarClass.of(v), len)
    }

    /// End of the run of scalars of class `c` starting at `i` (at most `maxCount` scalars).
    @inline(__always)
    private static func runEnd(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, _ c: ScalarClass, maxCount: Int = .max) -> Int {
        var j = i
        var count = 0
        while j < end, count < maxCount {
            let (v, len) = decodeScalar(p, j)
            if ScalarClass.of(v) != c { break }
            j += len
            count += 1
        }
        return j
    }

    /// Length of an English contraction suffix (`'s`, `'re`, …) at `i`, or 0.
    @inline(__always)
    private static func contraction(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, caseInsensitive: Bool) -> Int {
        guard p[i] == UInt8(ascii: "'"), i + 1 < end else { return 0 }
        func lower(_ b: UInt8) -> UInt8 { caseInsensitive && b >= 65 && b <= 90 ? b + 32 : b }
        let a = lower(p[i + 1])
        if a == UInt8(ascii: "s") || a == UInt8(ascii: "t") || a == UInt8(ascii: "m") || a == UInt8(ascii: "d") { return 2 }
        guard i + 2 < end else { return 0 }
        let b = lower(p[i + 2])
        if (a == UInt8(ascii: "r") && b == UInt8(ascii: "e")) || (a == UInt8(ascii: "v") && b == UInt8(ascii: "e"))
            || (a == UInt8(ascii: "l") && b == UInt8(ascii: "l")) {
            return 3
        }
        return 0
    }

    /// `\s+(?!\S)|\s+` at `i`, where `p[i]` is whitespace: the run minus its last scalar when
    /// a non-space follows and the run has more than one scalar; otherwise the whole run.
    @inline(__always)
    private static func whitespaceMatch(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        var j = i
        var lastStart = i
        while j < end {
            let (v, len) = decodeScalar(p, j)
            if ScalarClass.of(v) != .whitespace { break }
            lastStart = j
            j += len
        }
        if j < end && lastStart > i { return lastStart }
        return j
    }

    private static func scanGPT2(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ out: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            var j = i + contraction(p, i, end, caseInsensitive: false)
            if j == i {
                // ` ?X+` for X in letters, numbers, other: the optional leading space only
                // counts when a run of such a class follows it.
                if p[i] == 0x20, let (c, _) = classAt(p, i + 1, end), c != .whitespace {
                    j = runEnd(p, i + 1, end, c)
                } else if let (c, _) = classAt(p, i, end), c != .whitespace {
                    j = runEnd(p, i, end, c)
                } else {
                    j = whitespaceMatch(p, i, end)
                }
            }
            out.append(i..<j)
            i = j
        }
    }

    private static func scanLlama3(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, digitRun: Int, _ out: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        while i < end {
            var j = i + contraction(p, i, end, caseInsensitive: true)
            if j == i {
                let (v, len) = decodeScalar(p, i)
                let c = ScalarClass.of(v)
                let isNewline = v == 0x0A || v == 0x0D
                if c == .letter {
                    j = runEnd(p, i, end, .letter)
                } else if c != .number && !isNewline, let (c2, _) = classAt(p, i + len, end), c2 == .letter {
                    // `[^\r\n\p{L}\p{N}]?\p{L}+`: one non-letter, non-digit, non-newline prefix.
                    j = runEnd(p, i + len, end, .letter)
                } else if c == .number {
                    j = runEnd(p, i, end, .number, maxCount: digitRun)
                } else if let k = otherRunStart(p, i, end, v, c) {
                    // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
                    j = runEnd(p, k, end, .other)
                    while j < end, p[j] == 0x0A || p[j] == 0x0D { j += 1 }
                } else {
                    // Whitespace: `\s*[\r\n]+` (up to the last newline of the run), else `\s+(?!\S)|\s+`.
                    var k = i
                    var afterNewline = -1
                    while k < end {
                        let (w, wl) = decodeScalar(p, k)
                        if ScalarClass.of(w) != .whitespace { break }
                        k += wl
                        if w == 0x0A || w == 0x0D { afterNewline = k }
                    }
                    j = afterNewline > 0 ? afterNewline : whitespaceMatch(p, i, end)
                }
            }
            out.append(i..<j)
            i = j
        }
    }

    /// Where a ` ?[^\s\p{L}\p{N}]+` match starting at `i` has its first "other" scalar, if it matches.
    @inline(__always)
    private static func otherRunStart(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, _ v: UInt32, _ c: ScalarClass) -> Int? {
        if c == .other { return i }
        if v == 0x20, let (c2, _) = classAt(p, i + 1, end), c2 == .other { return i + 1 }
        return nil
    }
}
