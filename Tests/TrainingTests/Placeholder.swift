// TrainingTests
