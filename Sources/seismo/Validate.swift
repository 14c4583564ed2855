import ArgumentParser
import SeismoPipeline
import SeismoRuntime

/// `seismo validate FILE…`: checks pipeline specs and reports every error.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check pipeline specs; print every error as file:line:column: error: path: message.")

    @Argument(help: "Pipeline YAML files.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one pipeline file") }
    }

    func run() throws {
        var failed = false
        for file in files {
            do {
                let pipeline = try PipelineLoader.load(path: file)
                let problems = pipeline.alerting.map(QueryRuleEvaluator.problems(in:)) ?? []
                guard problems.isEmpty else {
                    failed = true
                    for problem in problems { print("\(file): error: alerts: \(problem)") }
                    continue
                }
                print("\(file): ok (\(pipeline.streams.count) streams, \(pipeline.detectors.count) detectors)")
            } catch {
                failed = true
                print(error.description)
            }
        }
        if failed { throw ExitCode.failure }
    }
}
