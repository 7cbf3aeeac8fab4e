import Foundation

/// Next-token negative log-likelihood over a vocabulary, with its gradient.
public enum CrossEntropy {
    /// For each row r with `targets[r] >= 0`: `nll[r] = logsumexp(logits[r]) − logits[r][targets[r]]`.
    /// Rows with a negative target are ignored (nll 0, gradient 0).
    /// When `gradientScale` is given, `logits` is overwritten with `gradientScale · (softmax − onehot)`.
    /// - Parameters:
    ///   - nll: output `[rows]`
    ///   - logits: `[rows, vocab]`
    public static func forward(nll: UnsafeMutablePointer<Float>, logits: UnsafeMutablePointer<Float>,
                               targets: UnsafePointer<Int32>, rows: Int, vocab: Int, gradientScale: Float? = nil) {
        for r in 0..<rows {
            let row = logits + r * vocab
            let t = Int(targets[r])
            guard t >= 0 else {
                nll[r] = 0
                if gradientScale != nil { row.update(repeating: 0, count: vocab) }
                continue
            }
            var m = -Float.infinity
            for j in 0..<vocab { m = max(m, row[j]) }
            var sum: Double = 0
            for j in 0..<vocab { sum += Double(Foundation.exp(row[j] - m)) }
            let lse = Double(m) + Foundation.log(sum)
            nll[r] = Float(lse - Double(row[t]))
            if let scale = gradientScale {
                let lseF = Float(lse)
                for j in 0..<vocab { row[j] = scale * Foundation.exp(row[j] - lseF) }
                row[t] -= scale
            }
        }
    }
}
