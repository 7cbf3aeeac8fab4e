// CorpusTests
