// Corpus: streaming Wikipedia dump / JSONL / text readers, wikitext cleaning and document sampling.
