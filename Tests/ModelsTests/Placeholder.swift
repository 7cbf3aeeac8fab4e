// ModelsTests
