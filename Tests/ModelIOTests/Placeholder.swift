// ModelIOTests
