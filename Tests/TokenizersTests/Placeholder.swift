// TokenizersTests
