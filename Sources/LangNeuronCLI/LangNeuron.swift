import ArgumentParser
import Distributed
import Foundation

@main
struct LangNeuron: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "langneuron",
        abstract: "Find and fine-tune the language-specific neurons of a large language model.",
        discussion: """
        Under `mpirun -np N [--hostfile H] langneuron train|detect|eval|experiment …` the ranks share \
        the work (docs/scale.md); rank 0 prints and writes.
        """,
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

    /// ArgumentParser's `main`, plus the MPI set-up and tear-down when started by mpirun.
    static func main() {
        let world = Communicator.world
        guard world.usesMPI else { return main(nil) } // exactly the plain tool
        // Other ranks compute the same tables and help texts; their standard output would repeat rank 0's.
        if !world.isRoot, let null = fopen("/dev/null", "w") { dup2(fileno(null), 1) }
        do {
            var command = try parseAsRoot()
            if world.isParallel && !MPISetup.splitsWork(command) {
                // Every rank would do all the work and write the same files.
                throw ValidationError("`\(type(of: command).configuration.commandName ?? "this command")` does not share its work among ranks; "
                                      + "run it without mpirun (under mpirun: train, detect, eval, experiment)")
            }
            try MPISetup.start(world)
            try command.run()
            MPISetup.finish(world)
        } catch {
            let code = exitCode(for: error)
            if error is CleanExit || (error is ExitCode && world.size == 1) {
                world.finalize()
                exit(withError: error)
            }
            if let e = error as? ExitCode, e.rawValue == 0 || e.rawValue == 130 {
                // Every rank stops together on an interrupt (they agree on it before each step).
                world.finalize()
                Foundation.exit(e.rawValue)
            }
            // The same bad input fails on every rank: give rank 0 a moment to report it alone,
            // so that the job ends with one line; a failure of this rank only is reported after it.
            if !world.isRoot { Thread.sleep(forTimeInterval: 2) }
            let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            world.abort(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message,
                        code: code.rawValue == 0 ? 1 : code.rawValue)
        }
        world.finalize()
    }
}
