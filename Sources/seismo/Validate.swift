import ArgumentParser
import SeismoPipeline

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
                print("\(file): ok (\(pipeline.streams.count) streams, \(pipeline.detectors.count) detectors)")
            } catch {
                failed = true
                print(error.description)
            }
        }
        if failed { throw ExitCode.failure }
    }
}
