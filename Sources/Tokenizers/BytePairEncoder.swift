/// Decides whether two adjacent symbols merge, and how urgently.
protocol MergeRule {
    /// The priority (lower merges first: `primary`, then `secondary`) and resulting token id of
    /// merging the adjacent symbols `left` and `right`, whose bytes together are `span`; nil when
    /// they do not merge.
    func merge(left: BytePairEncoder.Symbol, right: BytePairEncoder.Symbol,
               span: UnsafeBufferPointer<UInt8>) -> (primary: Double, secondary: UInt64, id: Int32)?
}

/// Greedy BPE over one word: repeatedly merge the adjacent pair with the lowest priority
/// (leftmost first among equals) until no pair merges. Symbols form a doubly linked list
/// and candidate pairs sit in a binary min-heap; stale candidates are recognised on pop,
/// so a word of n symbols costs O(n log n) instead of the O(n²) of rescanning.
enum BytePairEncoder {
    struct Symbol {
        var start: Int32
        var end: Int32
        /// Token id, -1 when the span is not in the vocabulary, -2 when merged away.
        var id: Int32
        /// Number of Unicode scalars in the span (SentencePiece tie-breaking uses it).
        var scalars: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Candidate {
        var primary: Double
        var secondary: UInt64
        var left: Int32
        var right: Int32
        var length: Int32
        var id: Int32

        @inline(__always)
        func before(_ o: Candidate) -> Bool {
            if primary != o.primary { return primary < o.primary }
            if secondary != o.secondary { return secondary < o.secondary }
            return left < o.left
        }
    }

    /// Merges `symbols` (consecutive spans of `word`, linked in order, each with its id) in
    /// place and returns the surviving symbols in order.
    static func run<R: MergeRule>(_ word: UnsafeBufferPointer<UInt8>, _ symbols: inout [Symbol], rule: R) -> [Symbol] {
        let n = symbols.count
        if n < 2 { return symbols }
        var heap = [Candidate]()
        heap.reserveCapacity(n)

        func consider(_ l: Int32, _ r: Int32, _ symbols: [Symbol], _ heap: inout [Candidate]) {
            let a = symbols[Int(l)], b = symbols[Int(r)]
            guard a.id >= 0, b.id >= 0 else { return }
            let span = UnsafeBufferPointer(rebasing: word[Int(a.start)..<Int(b.end)])
            guard let m = rule.merge(left: a, right: b, span: span) else { return }
            heap.append(Candidate(primary: m.primary, secondary: m.secondary, left: l, right: r,
                                  length: b.end - a.start, id: m.id))
            // Sift up.
            var c = heap.count - 1
            while c > 0 {
                let parent = (c - 1) / 2
                if heap[c].before(heap[parent]) { heap.swapAt(c, parent); c = parent } else { break }
            }
        }

        for i in 0..<(n - 1) { consider(Int32(i), Int32(i + 1), symbols, &heap) }

        while !heap.isEmpty {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var c = 0
                let count = heap.count
                while true {
                    let l = 2 * c + 1, r = l + 1
                    var m = c
                    if l < count && heap[l].before(heap[m]) { m = l }
                    if r < count && heap[r].before(heap[m]) { m = r }
                    if m == c { break }
                    heap.swapAt(c, m)
                    c = m
                }
            }
            let li = Int(top.left), ri = Int(top.right)
            // Stale when either side was merged since the candidate was pushed.
            guard symbols[li].id >= 0, symbols[li].next == top.right,
                  symbols[ri].end - symbols[li].start == top.length else { continue }
            symbols[li].end = symbols[ri].end
            symbols[li].id = top.id
            symbols[li].scalars += symbols[ri].scalars
            symbols[li].next = symbols[ri].next
            symbols[ri].id = -2
            if symbols[li].next >= 0 { symbols[Int(symbols[li].next)].prev = top.left }
            if symbols[li].prev >= 0 { consider(symbols[li].prev, top.left, symbols, &heap) }
            if symbols[li].next >= 0 { consider(top.left, symbols[li].next, symbols, &heap) }
        }

        var out = [Symbol]()
        var i: Int32 = 0
        while i >= 0 {
            out.append(symbols[Int(i)])
            i = symbols[Int(i)].next
        }
        return out
    }
}
