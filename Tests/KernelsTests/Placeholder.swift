// KernelsTests
