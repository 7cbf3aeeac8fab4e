import Foundation

/// Next-token negative log-likelihood over a vocabulary, with its gradient.
public enum CrossEntropy {
    /// For each row r with `targets[r] >= 0`: `nll[r] = logsumexp(logits[r]) − logits[r][targets[r]]`.
    /// Rows with a negative target are ignored (nll 0, gradient 0).
    /// `logits` is used as scratch: with `gradientScale` it ends up holding `gradientScale · (softmax − onehot)`,
    /// otherwise unspecified values.
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
            let m = FastMath.max(row, count: vocab)
            let target = row[t]
            let sum = FastMath.expShifted(row, row, count: vocab, shift: m)
            let lse = Double(m) + Foundation.log(sum)
            nll[r] = Float(lse - Double(target))
            if let scale = gradientScale {
                // row now holds exp(x − m); softmax = that / sum
                let k = scale / Float(sum)
                for j in 0..<vocab { row[j] *= k }
                row[t] -= scale
            }
        }
    }
}
