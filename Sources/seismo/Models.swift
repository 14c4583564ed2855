import ArgumentParser
import Foundation
import SeismoDetect
import SeismoPipeline

/// `seismo models list|show|promote`: the trained model versions under the models root.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show and promote trained models (models/<pipeline>/<detector>/<version>/).",
        subcommands: [List.self, Show.self, Promote.self])

    /// The (pipeline, detector) a command is about.
    struct Detector: ParsableArguments {
        @Argument(help: "Pipeline name or file.")
        var pipeline: String

        @Argument(help: "Detector name.")
        var detector: String

        var pipelineName: String { get throws { try Models.pipelineName(pipeline) } }
    }

    struct Location: ParsableArguments {
        @Option(name: .long, help: "Root of the model files.")
        var models = "./models"

        var repository: ModelRepository { ModelRepository(root: models) }
    }

    /// A pipeline name, or a pipeline file whose name is used.
    static func pipelineName(_ text: String) throws -> String {
        guard text.hasSuffix(".yaml") || text.hasSuffix(".yml") else { return text }
        return try loadPipeline(text).name
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List model versions; * marks the promoted one.")

        @Argument(help: "Only this pipeline (name or file).")
        var pipeline: String?

        @OptionGroup var location: Location

        func run() throws {
            let listing = location.repository.list(pipeline: try pipeline.map(Models.pipelineName))
            guard !listing.isEmpty else {
                print("no models under \(location.models)")
                return
            }
            var rows = [["", "PIPELINE", "DETECTOR", "VERSION", "TYPE", "CREATED", "ROWS", "THRESHOLD", "FPR"]]
            for entry in listing {
                let m = entry.metadata
                rows.append([
                    entry.isCurrent ? "*" : "", entry.pipeline, entry.detector, entry.version, m?.type ?? "unreadable",
                    m?.createdAt ?? (entry.problem ?? ""), m.map { String($0.trainingWindow.rows) } ?? "",
                    m.map { formatMetric($0.threshold.raw) } ?? "", m.map { formatMetric($0.threshold.falsePositiveRate) } ?? "",
                ])
            }
            printTable(rows)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's metadata (model.json); the promoted version, else the newest, by default.")

        @OptionGroup var model: Detector

        @Argument(help: "Version (v1, v2, …).")
        var version: String?

        @OptionGroup var location: Location

        func run() throws {
            let (name, detector) = (try model.pipelineName, model.detector)
            let repository = location.repository
            guard
                let chosen = version ?? repository.current(pipeline: name, detector: detector)
                    ?? repository.versions(pipeline: name, detector: detector).last
            else { throw CLIError("no models for \(name)/\(detector) under \(location.models)") }
            let stored = try repository.load(pipeline: name, detector: detector, version: chosen)
            let current = repository.current(pipeline: name, detector: detector)
            print("# \(name)/\(detector) \(chosen)\(chosen == current ? " (promoted)" : "")")
            print(String(decoding: try stored.metadata.jsonData(), as: UTF8.self))
        }
    }

    struct Promote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a version live: running workers load it within seconds, without a restart.")

        @OptionGroup var model: Detector

        @Argument(help: "Version (v1, v2, …).")
        var version: String

        @OptionGroup var location: Location

        func run() throws {
            let (name, detector) = (try model.pipelineName, model.detector)
            let repository = location.repository
            let previous = repository.current(pipeline: name, detector: detector)
            do {
                try repository.promote(pipeline: name, detector: detector, version: version)
            } catch {
                throw CLIError("cannot promote \(name)/\(detector) \(version): \(error)")
            }
            print("promoted \(name)/\(detector) \(version)\(previous.map { " (was \($0))" } ?? "")")
        }
    }
}
