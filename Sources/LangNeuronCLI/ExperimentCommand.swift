import ArgumentParser
import Distributed
import Experiment
import Foundation
import Training

/// `langneuron experiment`: detection, training of every arm, evaluation, report (library: `Experiment`).
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Run the enhancement experiment from one recipe: detect, train every arm (language, random draws, lora, full), evaluate, report.",
        discussion: """
        Writes OUTPUT/neurons-*.json, one training run per arm (OUTPUT/language, OUTPUT/random-SEED, OUTPUT/lora, \
        OUTPUT/full; each with its delta, or for lora its PEFT adapter directory, and outcome.json), \
        OUTPUT/report.json ({"arms": {"base"|"language"|"random"|"lora"|"full": \
        {LANG: {ppl, …}}}, "random_draws": […], "trainable_parameters": …}), OUTPUT/report.md, OUTPUT/report.html \
        (one self-contained page), OUTPUT/loss.svg, OUTPUT/delta.svg and OUTPUT/neurons.svg. Finished steps are \
        reused on a rerun if they were made with the same settings (recorded in OUTPUT/steps.json; other settings \
        are an error naming the step); an interrupted training run resumes.
        """)

    @Argument(help: "Experiment recipe (YAML), e.g. recipes/vi-enhance.yaml.")
    var recipe: String

    func run() throws {
        let r = try ExperimentRecipe.load(recipe)
        let started = Date()
        let results = try ExperimentRunner(recipe: r, recipePath: recipe, backend: CommandBackend()).run()
        print(ExperimentReport.markdown(results))
        print(ExperimentReport.trainingMarkdown(results))
        let out = URL(fileURLWithPath: r.output)
        print("report: \(out.appendingPathComponent("report.md").path), \(out.appendingPathComponent("report.html").path) "
              + "(\(formatDuration(Date().timeIntervalSince(started))))")
    }
}

/// The experiment's steps done by this tool's commands.
struct CommandBackend: ExperimentBackend {
    func evalCommand(_ q: EvaluationRequest) throws -> EvalCommand {
        var args = [q.model, "--tasks", q.tasks.joined(separator: ","), "--languages", q.languages.joined(separator: ","),
                    "--documents", String(q.documents), "--max-tokens", String(q.maxTokens), "--limit", String(q.limit)]
        for a in q.arms { args += ["--arm", "\(a.name)=\(a.delta)"] }
        if let b = q.benchmarkLanguages { args += ["--benchmark-languages", b.joined(separator: ",")] }
        for (lang, file) in q.corpora.sorted(by: { $0.key < $1.key }) { args += ["--corpus", "\(lang)=\(file)"] }
        return try EvalCommand.parse(args)
    }

    func checkEvaluation(_ request: EvaluationRequest, notYetWritten: Set<String>) throws {
        do { try evalCommand(request).checkInputs(notYetWritten: notYetWritten) } catch {
            throw CLIError.badInput("evaluate: \(error.localizedDescription)")
        }
    }

    func detect(_ request: DetectRequest) throws { try DetectCommand.parse(request.arguments).run() }

    func train(_ request: TrainRequest) throws -> TrainOutcome {
        let args = request.resume ? ["--resume", request.output] : [request.recipe] + request.overrides.flatMap { ["--set", $0] }
        PeakMemory.reset()
        let summary = try TrainCommand.parse(args).train()
        guard summary.completed else { throw ExitCode(130) }
        return TrainOutcome(trainableParameters: summary.trainableParameters, seconds: summary.seconds,
                            peakMemoryMB: PeakMemory.megabytes(), finalLoss: summary.lastLoss, steps: summary.steps, loraRank: summary.loraRank)
    }

    func evaluate(_ request: EvaluationRequest) throws -> (columns: [(String, ArmMetrics)], fingerprint: String) {
        try evalCommand(request).evaluate()
    }

    func log(_ line: String) { printError(line) }

    func stepDone(_ step: String) throws { try Communicator.world.barrier(what: "the end of step '\(step)'") }
    var writesFiles: Bool { Communicator.world.isRoot }
}
