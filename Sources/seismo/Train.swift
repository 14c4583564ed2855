import ArgumentParser
import Foundation
import SeismoCore
import SeismoDetect
import SeismoPipeline
import SeismoRuntime
import SeismoStore

/// `seismo train`: fits the pipeline's trained detectors on history and writes versioned models.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit trained detectors (isolation_forest, autoencoder, seasonal) on history; write models/<pipeline>/<detector>/<version>/.",
        discussion: """
            History comes from the store's feature table (<data-dir>/<pipeline>.sqlite) or, with --input, \
            from a CSV: a header, a `timestamp` column (window end), one column per feature, and any \
            other column as a group label. The threshold is calibrated to the detector's \
            false_positive_rate on the training rows. Training uses every core (OpenBLAS). A new \
            version is not live until `seismo models promote` (or --promote).
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(name: .long, help: "Train only this detector.")
    var detector: String?

    @Option(name: .long, help: "Earliest window end to train on (RFC 3339, Unix time, now-7d).")
    var from: String?

    @Option(name: .long, help: "Latest window end to train on.")
    var to: String?

    @Option(name: .long, help: "Read history from this CSV instead of the store.")
    var input: String?

    @Option(name: .long, help: "Directory of the SQLite store.")
    var dataDir = "./data"

    @Option(name: .long, help: "Root of the model files.")
    var models = "./models"

    @Flag(name: .long, help: "Promote each new version right away.")
    var promote = false

    func run() async throws {
        let spec = try loadPipeline(pipeline)
        let detectors = try trainedDetectors(spec, named: detector)
        let range = try timeRange(from: from, to: to)
        try BLAS.setThreadCount(BLAS.trainingThreadCount)
        let repository = ModelRepository(root: models)
        for detectorSpec in detectors {
            guard let kind = TrainedDetectors.kind(of: detectorSpec), let stream = spec.stream(named: detectorSpec.stream)
            else { continue }
            let history = try await readHistory(
                spec, stream: stream, features: detectorSpec.features, input: input, dataDir: dataDir, range: range)
            for problem in history.problems.prefix(20) { printError("skipped: \(problem)") }
            if history.problems.count > 20 { printError("skipped \(history.problems.count - 20) more lines") }
            let data = history.trainingSet(features: detectorSpec.features)
            print(
                "train \(detectorSpec.name) (\(kind.typeName)) on \(data.rowCount) rows (\(history.groups.count) group\(history.groups.count == 1 ? "" : "s")) of stream \(stream.name) from \(history.source), \(BLAS.threadCount) BLAS thread(s)"
            )
            guard data.rowCount >= 2 else {
                throw CLIError("\(detectorSpec.name): \(data.rowCount) training rows in the range; need at least 2")
            }
            let progress = ProgressReporter(label: detectorSpec.name)
            let result: TrainingResult
            do {
                result = try ModelTrainer.train(
                    kind: kind, parameters: TrainedDetectors.parameters(of: detectorSpec), data: data,
                    seed: TrainedDetectors.seed(of: detectorSpec), progress: { progress.update($0, $1) })
            } catch {
                throw CLIError("\(detectorSpec.name): training failed: \(error)")
            }
            let window = ModelMetadata.TrainingWindow(
                from: data.times.min().map { TimeParser.formatRFC3339(Timestamp(seconds: $0)) },
                to: data.times.max().map { TimeParser.formatRFC3339(Timestamp(seconds: $0)) },
                rows: result.usedRows, skippedRows: result.skippedRows, groups: history.groups.count,
                source: history.source)
            let written = try repository.write(
                result, pipeline: spec.name, detector: detectorSpec.name, seed: TrainedDetectors.seed(of: detectorSpec),
                window: window, data: data)
            print("model \(repository.directory(pipeline: spec.name, detector: detectorSpec.name, version: written.version)) written")
            for (name, value) in result.metrics.sorted(by: { $0.key < $1.key }) {
                print("  \(name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(formatMetric(value))")
            }
            if promote {
                try repository.promote(pipeline: spec.name, detector: detectorSpec.name, version: written.version)
                print("promoted \(spec.name)/\(detectorSpec.name) \(written.version)")
            } else {
                print("make it live: seismo models promote \(spec.name) \(detectorSpec.name) \(written.version) --models \(models)")
            }
        }
    }
}

/// Loads a pipeline file, printing every error and exiting 2 when it does not load.
func loadPipeline(_ path: String) throws -> Pipeline {
    do {
        return try PipelineLoader.load(path: path)
    } catch {
        printError(error.description)
        throw ExitCode(2)
    }
}

/// The detectors of `pipeline` that train a model (only `name` when given).
func trainedDetectors(_ pipeline: Pipeline, named name: String?) throws -> [DetectorSpec] {
    let trained = pipeline.detectors.filter { TrainedDetectors.kind(of: $0) != nil }
    if let name {
        guard let spec = pipeline.detectors.first(where: { $0.name == name }) else {
            throw CLIError("pipeline \(pipeline.name) has no detector \(name) (detectors: \(pipeline.detectors.map(\.name).joined(separator: ", ")))")
        }
        guard TrainedDetectors.kind(of: spec) != nil else {
            throw CLIError("detector \(name) is a \(spec.type) detector, which learns online and has no model to train")
        }
        return [spec]
    }
    guard !trained.isEmpty else {
        throw CLIError("pipeline \(pipeline.name) has no trained detectors (types: \(DetectorCatalog.trainedTypes.sorted().joined(separator: ", ")))")
    }
    return trained
}

/// `--from`/`--to` as milliseconds (the whole history when absent).
func timeRange(from: String?, to: String?) throws -> ClosedRange<Int64> {
    let now = Timestamp.now
    let low = try from.map { try TimeParser.parse($0, now: now).milliseconds } ?? .min
    let high = try to.map { try TimeParser.parse($0, now: now).milliseconds } ?? .max
    guard low <= high else { throw CLIError("--from is after --to") }
    return low...high
}

/// History of `stream` from the CSV `input`, or from the pipeline's store under `dataDir`.
func readHistory(
    _ pipeline: Pipeline, stream: StreamSpec, features: [String], input: String?, dataDir: String, range: ClosedRange<Int64>
) async throws -> History {
    if let input {
        return try History.csv(path: input, stream: stream, required: features).between(range.lowerBound, range.upperBound)
    }
    let path = (dataDir as NSString).appendingPathComponent("\(pipeline.name).sqlite")
    guard FileManager.default.fileExists(atPath: path) else {
        throw CLIError("no store at \(path): run the pipeline first, pass --data-dir, or give --input CSV")
    }
    let store = try SQLiteStore(path: path)
    return try await History.store(
        store, path: path, table: pipeline.outputs.featureTable, stream: stream, from: range.lowerBound, to: range.upperBound)
}

func formatMetric(_ x: Double) -> String {
    if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
    return String(format: "%.6g", x)
}
