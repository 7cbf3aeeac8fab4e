import ArgumentParser

@main
struct LangNeuron: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "langneuron",
        abstract: "Find and fine-tune the language-specific neurons of a large language model.",
        subcommands: [
            InfoCommand.self,
            TokenizeCommand.self,
            ScoreCommand.self,
            GenerateCommand.self,
            TrainCommand.self,
            MergeCommand.self,
            ExportCommand.self,
            EvalCommand.self,
            ExperimentCommand.self,
            BenchCommand.self,
            CorpusCommand.self,
            DataCommand.self,
            ModelsCommand.self,
            DetectCommand.self,
            NeuronsCommand.self,
            AblateCommand.self,
            LensCommand.self,
        ]
    )
}
