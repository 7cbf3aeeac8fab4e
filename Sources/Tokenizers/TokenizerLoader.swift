import Foundation
import ModelIO

/// Builds the tokenizer of a model from its GGUF metadata or its Hugging Face `tokenizer.json`.
/// See `load(gguf:)` and `load(tokenizerJSON:tokenizerConfig:)`.
public enum TokenizerLoader {}
