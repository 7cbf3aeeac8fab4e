import ArgumentParser
import Foundation
import Models

/// `langneuron tokenize`: token ids of a text, as the model's own tokenizer gives them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tokenize", abstract: "Print the token ids of a text.")

    @Argument(help: "Model: a default name, a GGUF file or a Hugging Face directory.")
    var model: String
    @Argument(help: "The text (or use --text-file).")
    var text: String?
    @Option(help: "Read the text from a UTF-8 file.")
    var textFile: String?
    @Flag(help: "Do not add BOS/EOS.")
    var noSpecial = false
    @Flag(help: "Print {\"ids\": [...]}.")
    var json = false

    func validate() throws {
        if (text == nil) == (textFile == nil) { throw ValidationError("give the TEXT or --text-file, not both") }
    }

    func run() throws {
        let input = try textFile.map(readTextFile) ?? text ?? ""
        let m = try loadModel(model, quiet: true)
        let ids = m.tokenizer.encode(input, addSpecialTokens: !noSpecial)
        if json {
            try printJSON(["ids": ids.map(Int.init)])
        } else {
            print(ids.map(String.init).joined(separator: " "))
            printError("\(ids.count) tokens: " + ids.prefix(64).map { "\($0):\(m.tokenizer.token($0).debugDescription)" }.joined(separator: " ")
                       + (ids.count > 64 ? " …" : ""))
        }
    }
}
