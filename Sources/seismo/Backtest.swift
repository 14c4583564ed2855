import ArgumentParser
import Foundation
import SeismoDetect
import SeismoPipeline
import SeismoRuntime

/// `seismo backtest`: scores history causally and compares the detections with labelled windows.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Score history causally, as the live pipeline would; report precision, recall, F1 and NAB scores, and an HTML report.",
        discussion: """
            Trained detectors use their promoted model; without one they are trained on the first \
            --train-fraction of the history and score the rest. --labels is a JSON object from a series \
            (a group such as {service="cart"}, *, or the input file name as in NAB's combined_windows.json) \
            to its anomaly windows [[start, end], …].
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(name: .long, help: "History as CSV (see `seismo train --help`); default: the store.")
    var input: String?

    @Option(name: .long, help: "Labelled anomaly windows (JSON).")
    var labels: String

    @Option(name: .long, help: "Only this detector.")
    var detector: String?

    @Option(name: .long, help: "Earliest window end to score.")
    var from: String?

    @Option(name: .long, help: "Latest window end to score.")
    var to: String?

    @Option(name: .long, help: "Where to write the HTML report.")
    var report = "backtest.html"

    @Option(name: .long, help: "Directory of the SQLite store (without --input).")
    var dataDir = "./data"

    @Option(name: .long, help: "Root of the model files.")
    var models = "./models"

    @Option(name: .long, help: "Share of the history to train on when a detector has no promoted model.")
    var trainFraction = 0.15

    func validate() throws {
        guard trainFraction > 0, trainFraction < 1 else { throw ValidationError("--train-fraction must be in (0, 1)") }
    }

    func run() async throws {
        let spec = try loadPipeline(pipeline)
        var detectors = spec.detectors
        if let detector {
            detectors = detectors.filter { $0.name == detector }
            guard !detectors.isEmpty else { throw CLIError("pipeline \(spec.name) has no detector \(detector)") }
        }
        guard !detectors.isEmpty else { throw CLIError("pipeline \(spec.name) has no detectors") }
        let range = try timeRange(from: from, to: to)
        let windows = try LabelWindows.read(path: labels)
        var history: [String: History] = [:]
        for name in Set(detectors.map(\.stream)).sorted() {
            guard let stream = spec.stream(named: name) else { continue }
            let features = detectors.filter { $0.stream == name }.flatMap(\.features)
            let h = try await readHistory(spec, stream: stream, features: features, input: input, dataDir: dataDir, range: range)
            for problem in h.problems.prefix(20) { printError("skipped: \(problem)") }
            history[name] = h
        }
        let result = try Backtest.run(
            pipeline: spec, detectors: detectors, history: history, labels: windows, input: input,
            models: ModelRepository(root: models), trainFraction: trainFraction)
        var rows = [["DETECTOR", "MODEL", "ROWS", "DETECTIONS", "WINDOWS", "PRECISION", "RECALL", "F1", "NAB", "NAB_LOW_FP", "NAB_LOW_FN"]]
        for m in result.metrics {
            rows.append(
                [m.detector, m.model, String(m.rows), String(m.detections), "\(m.windowsDetected)/\(m.windows)",
                 String(format: "%.3f", m.precision), String(format: "%.3f", m.recall), String(format: "%.3f", m.f1)]
                    + m.nab.map { String(format: "%.2f", $0.result.normalised) })
        }
        printTable(rows)
        let source = history.values.map(\.source).sorted().joined(separator: ", ")
        let html = BacktestReport.html(result, pipeline: spec.name, source: source)
        do {
            try html.write(toFile: report, atomically: true, encoding: .utf8)
        } catch {
            throw CLIError("cannot write \(report): \(error)")
        }
        print("report: \(report) (\(result.series.count) series)")
    }
}
