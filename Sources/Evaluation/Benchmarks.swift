import Distributed
import Foundation
import Models
import Tokenizers

/// Score of one task in one language.
public struct TaskResult: Codable, Equatable {
    public let task: String
    public let language: String
    public let n: Int
    /// Exact match (XQuAD) or accuracy (MGSM, multiple choice), in [0, 1].
    public let accuracy: Double
    /// Token F1 (XQuAD only).
    public let f1: Double?
    public let shots: Int
}

/// One extractive-QA item.
public struct QAItem: Equatable {
    public let context: String
    public let question: String
    public let answers: [String]
    public init(context: String, question: String, answers: [String]) {
        self.context = context; self.question = question; self.answers = answers
    }
}

/// Prompt words per language, so that the few-shot prompt is written in the target language.
public enum PromptWords {
    static let table: [String: (context: String, question: String, answer: String)] = [
        "en": ("Context", "Question", "Answer"), "vi": ("Ngữ cảnh", "Câu hỏi", "Trả lời"),
        "zh": ("上下文", "问题", "答案"), "de": ("Kontext", "Frage", "Antwort"), "es": ("Contexto", "Pregunta", "Respuesta"),
        "ru": ("Контекст", "Вопрос", "Ответ"), "ar": ("السياق", "السؤال", "الإجابة"), "el": ("Πλαίσιο", "Ερώτηση", "Απάντηση"),
        "hi": ("संदर्भ", "प्रश्न", "उत्तर"), "ro": ("Context", "Întrebare", "Răspuns"), "th": ("บริบท", "คำถาม", "คำตอบ"),
        "tr": ("Bağlam", "Soru", "Cevap"), "fr": ("Contexte", "Question", "Réponse"), "ja": ("文脈", "質問", "答え"),
        "bn": ("প্রসঙ্গ", "প্রশ্ন", "উত্তর"), "sw": ("Muktadha", "Swali", "Jibu"), "te": ("సందర్భం", "ప్రశ్న", "సమాధానం"),
    ]

    public static func words(_ language: String) -> (context: String, question: String, answer: String) {
        table[language] ?? table["en"]!
    }
}

public enum Benchmarks {
    /// Reads an XQuAD / SQuAD v1.1 JSON file, in file order.
    public static func loadXQuAD(url: URL) throws -> [QAItem] {
        guard let data = FileManager.default.contents(atPath: url.path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let articles = root["data"] as? [[String: Any]] else {
            throw EvaluationError.badFile(path: url.path, reason: "not SQuAD-format JSON (no 'data' list)")
        }
        var items = [QAItem]()
        for a in articles {
            for p in a["paragraphs"] as? [[String: Any]] ?? [] {
                guard let ctx = p["context"] as? String else { continue }
                for qa in p["qas"] as? [[String: Any]] ?? [] {
                    guard let q = qa["question"] as? String else { continue }
                    let answers = (qa["answers"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
                    if !answers.isEmpty { items.append(QAItem(context: ctx, question: q, answers: answers)) }
                }
            }
        }
        guard !items.isEmpty else { throw EvaluationError.badFile(path: url.path, reason: "no questions with answers") }
        return items
    }

    /// Reads an MGSM TSV (`question<TAB>answer`).
    public static func loadMGSM(url: URL) throws -> [(question: String, answer: Double)] {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.badFile(path: url.path, reason: "cannot be read as UTF-8")
        }
        var rows = [(String, Double)]()
        for (i, line) in text.split(separator: "\n").enumerated() {
            let parts = line.split(separator: "\t")
            guard parts.count >= 2, let a = Double(parts.last!.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")) else {
                throw EvaluationError.badFile(path: url.path, reason: "line \(i + 1) is not 'question<TAB>number'")
            }
            rows.append((parts.dropLast().joined(separator: "\t"), a))
        }
        return rows
    }

    /// The few-shot XQuAD prompt: `shots` exemplars (items from other paragraphs), then the question.
    public static func xquadPrompt(_ item: QAItem, exemplars: [QAItem], language: String) -> String {
        xquadExemplars(exemplars, language: language) + xquadQuestion(item, language: language)
    }

    /// The exemplar block every XQuAD prompt of a language starts with.
    public static func xquadExemplars(_ exemplars: [QAItem], language: String) -> String {
        let w = PromptWords.words(language)
        return exemplars.map { "\(w.context): \($0.context)\n\(w.question): \($0.question)\n\(w.answer): \($0.answers[0])\n\n" }.joined()
    }

    static func xquadQuestion(_ item: QAItem, language: String) -> String {
        let w = PromptWords.words(language)
        return xquadParagraph(item, language: language) + " \(item.question)\n\(w.answer):"
    }

    /// The part of an XQuAD question's prompt that the other questions on its paragraph share.
    static func xquadParagraph(_ item: QAItem, language: String) -> String {
        let w = PromptWords.words(language)
        return "\(w.context): \(item.context)\n\(w.question):"
    }

    public static func mgsmPrompt(_ question: String, exemplars: [(question: String, answer: Double)], language: String) -> String {
        mgsmExemplars(exemplars, language: language) + "\(PromptWords.words(language).question): \(question)\n\(PromptWords.words(language).answer):"
    }

    /// The exemplar block every MGSM prompt of a language starts with.
    public static func mgsmExemplars(_ exemplars: [(question: String, answer: Double)], language: String) -> String {
        let w = PromptWords.words(language)
        return exemplars.map { "\(w.question): \($0.question)\n\(w.answer): \(formatNumber($0.answer))\n\n" }.joined()
    }

    static func formatNumber(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(x)
    }

    /// Greedy continuation up to the first newline (or `maxTokens`).
    public static func answer(model: Transformer, tokenizer: Tokenizer, prompt: String, maxTokens: Int) throws -> String {
        try answers(model: model, tokenizer: tokenizer, prompts: [prompt], maxTokens: maxTokens)[0]
    }

    /// Greedy continuations of `prompts` up to each one's first newline (or `maxTokens`), decoded
    /// as one batch. `prefixes`: token prefixes already run (e.g. the exemplars), see `generateGreedy`.
    public static func answers(model: Transformer, tokenizer: Tokenizer, prompts: [String], maxTokens: Int,
                               prefixes: [PromptPrefix] = []) throws -> [String] {
        let ids = prompts.map { tokenizer.encode($0, addSpecialTokens: true) }
        var stops = Set<Int32>()
        if let e = tokenizer.eosTokenID { stops.insert(e) }
        let outs = try model.generateGreedy(prompts: ids, maxTokens: maxTokens, stopTokens: stops, prefixes: prefixes) { _, out in
            tokenizer.decode(out, skipSpecialTokens: true).contains("\n")
        }
        return outs.map { out in
            let text = tokenizer.decode(out, skipSpecialTokens: true)
            return String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
        }
    }

    /// Answers `prompts` `batchSize` at a time. Every prompt starts with `exemplars`, run once;
    /// `prompts[i].shared` is a longer start that several prompts have in common (XQuAD: the
    /// exemplars and the paragraph), run once per batch. `progress(done, total)` after each batch.
    /// With several ranks, each answers a contiguous block of the prompts and every rank gets all
    /// answers in prompt order (the answers do not depend on how prompts are batched).
    static func answerAll(model: Transformer, tokenizer: Tokenizer, exemplars: String, prompts all: [(shared: String, text: String)],
                          maxTokens: Int, batchSize: Int, communicator: Communicator = .world,
                          progress: (Int, Int) -> Void) throws -> [String] {
        let prompts = Array(all[communicator.share(of: all.count)])
        let mine = try answerBlock(model: model, tokenizer: tokenizer, exemplars: exemplars, prompts: prompts,
                                   maxTokens: maxTokens, batchSize: batchSize, progress: progress)
        guard communicator.isParallel else { return mine }
        return try communicator.allgather(mine, what: "the answers to \(all.count) questions").flatMap { $0 }
    }

    static func answerBlock(model: Transformer, tokenizer: Tokenizer, exemplars: String, prompts: [(shared: String, text: String)],
                            maxTokens: Int, batchSize: Int, progress: (Int, Int) -> Void) throws -> [String] {
        var out = [String]()
        guard !prompts.isEmpty else { return out }
        let base = try model.makePrefix(tokenizer.encode(exemplars, addSpecialTokens: true))
        var start = 0
        while start < prompts.count {
            let end = min(prompts.count, start + max(1, batchSize))
            let batch = prompts[start..<end]
            var prefixes = [base], seen = Set<String>()
            for p in batch where p.shared != exemplars && seen.insert(p.shared).inserted {
                prefixes.append(try model.makePrefix(tokenizer.encode(p.shared, addSpecialTokens: true), extending: base))
            }
            out += try answers(model: model, tokenizer: tokenizer, prompts: batch.map(\.text), maxTokens: maxTokens, prefixes: prefixes)
            start = end
            progress(end, prompts.count)
        }
        return out
    }

    /// XQuAD: the first `shots` questions (from the first paragraphs) are the exemplars; the next
    /// `limit` questions whose paragraph is not an exemplar's are scored, `batchSize` at a time.
    public static func runXQuAD(model: Transformer, tokenizer: Tokenizer, items: [QAItem], language: String,
                                shots: Int = 2, limit: Int, batchSize: Int = 16,
                                progress: (Int, Int) -> Void = { _, _ in }) throws -> TaskResult {
        let exemplars = Array(items.prefix(shots))
        let used = Set(exemplars.map(\.context))
        let scored = Array(items.dropFirst(shots).filter { !used.contains($0.context) }.prefix(limit))
        let block = xquadExemplars(exemplars, language: language)
        let preds = try answerAll(model: model, tokenizer: tokenizer, exemplars: block,
                                  prompts: scored.map { (block + xquadParagraph($0, language: language), block + xquadQuestion($0, language: language)) },
                                  maxTokens: 32,
                                  batchSize: batchSize, progress: progress)
        var em = 0.0, f1 = 0.0
        for (item, pred) in zip(scored, preds) {
            em += AnswerMetrics.exactMatch(pred, item.answers)
            f1 += AnswerMetrics.f1(pred, item.answers, language: language)
        }
        let n = max(1, scored.count)
        return TaskResult(task: "xquad", language: language, n: scored.count, accuracy: em / Double(n), f1: f1 / Double(n), shots: shots)
    }

    /// MGSM: the first `shots` problems are the exemplars (never scored); the next `limit` are scored
    /// by the first number of the greedy answer, `batchSize` at a time.
    public static func runMGSM(model: Transformer, tokenizer: Tokenizer, rows: [(question: String, answer: Double)], language: String,
                               shots: Int = 4, limit: Int, batchSize: Int = 16,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> TaskResult {
        let exemplars = Array(rows.prefix(shots))
        let scored = Array(rows.dropFirst(shots).prefix(limit))
        let block = mgsmExemplars(exemplars, language: language)
        let preds = try answerAll(model: model, tokenizer: tokenizer, exemplars: block,
                                  prompts: scored.map { (block, mgsmPrompt($0.question, exemplars: exemplars, language: language)) }, maxTokens: 16,
                                  batchSize: batchSize, progress: progress)
        var correct = 0
        for (r, pred) in zip(scored, preds) {
            if let x = AnswerMetrics.firstNumber(pred), abs(x - r.answer) < 1e-6 { correct += 1 }
        }
        return TaskResult(task: "mgsm", language: language, n: scored.count, accuracy: Double(correct) / Double(max(1, scored.count)), f1: nil, shots: shots)
    }
}

/// Multiple-choice scoring by log-likelihood, so that X-CSQA-style tasks can be added as data.
public enum MultipleChoice {
    /// Log-probability of `option` as a continuation of `prompt`: the sum over the option's tokens,
    /// and the mean per token. The option is tokenised together with the prompt (so word boundaries
    /// come out as the tokenizer would produce them) and its tokens are those after the prompt's.
    public static func logLikelihood(model: Transformer, tokenizer: Tokenizer, prompt: String, option: String) throws -> (sum: Double, mean: Double) {
        try logLikelihoods(model: model, tokenizer: tokenizer, prompt: prompt, options: [option])[0]
    }

    /// `logLikelihood` of every option, the options scored together in batched forward passes.
    public static func logLikelihoods(model: Transformer, tokenizer: Tokenizer, prompt: String, options: [String]) throws -> [(sum: Double, mean: Double)] {
        let promptIDs = tokenizer.encode(prompt, addSpecialTokens: true)
        let sequences = options.map { tokenizer.encode(prompt + $0, addSpecialTokens: true) }
        let scores = try model.score(batch: sequences)
        return zip(sequences, scores).map { all, s in
            var shared = 0
            while shared < min(promptIDs.count, all.count) && promptIDs[shared] == all[shared] { shared += 1 }
            let start = max(1, shared)
            guard all.count > start else { return (0, 0) }
            let nll = s.nll[(start - 1)...].reduce(0.0) { $0 + Double($1) }
            return (-nll, -nll / Double(all.count - start))
        }
    }

    /// Index of the option with the highest (mean, when `normalize`) log-likelihood.
    public static func choose(model: Transformer, tokenizer: Tokenizer, prompt: String, options: [String], normalize: Bool = false) throws -> Int {
        let scores = try logLikelihoods(model: model, tokenizer: tokenizer, prompt: prompt, options: options).map { normalize ? $0.mean : $0.sum }
        return scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) } ?? 0
    }
}
