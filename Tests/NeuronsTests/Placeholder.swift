// NeuronsTests
