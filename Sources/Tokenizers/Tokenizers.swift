// Tokenizers: byte-level BPE and SentencePiece-style BPE from GGUF metadata or tokenizer.json.
