import Foundation
import SeismoCore
import SeismoDetect
import SeismoPipeline
import SeismoStream

/// Labelled anomaly windows per series: a JSON object from a series key to a list of
/// `[start, end]` pairs (times as in CSVs: RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC, Unix s or ms),
/// NAB's `combined_windows.json` shape. A key names a group in Prometheus notation
/// (`{service="cart"}`), or `*` for every group, or a file: it matches when the input file's
/// path ends with it or has the same file name (NAB's `realKnownCause/nyc_taxi.csv`).
public struct LabelWindows: Sendable, Equatable {
    public var windows: [String: [ClosedRange<Int64>]]

    public init(windows: [String: [ClosedRange<Int64>]]) { self.windows = windows }

    public static func read(path: String) throws(RuntimeError) -> LabelWindows {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError("cannot read \(path)") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw RuntimeError("\(path): expected a JSON object of series → [[start, end], …]")
        }
        var out: [String: [ClosedRange<Int64>]] = [:]
        for (key, value) in object {
            guard let pairs = value as? [[Any]] else { throw RuntimeError("\(path): \(key): expected a list of [start, end] pairs") }
            out[key] = try pairs.map { (pair: [Any]) throws(RuntimeError) -> ClosedRange<Int64> in
                let times = pair.map { item -> Int64? in
                    if let s = item as? String { return History.parseTime(s)?.milliseconds }
                    if let x = item as? Double { return History.parseTime(String(x))?.milliseconds }
                    return nil
                }
                guard times.count == 2, let a = times[0], let b = times[1], a <= b else {
                    throw RuntimeError("\(path): \(key): bad window \(pair)")
                }
                return a...b
            }
        }
        return LabelWindows(windows: out)
    }

    /// The windows of `group`, read from `input`.
    public func windows(group: Labels, input: String?) -> [ClosedRange<Int64>] {
        let name = group.description
        var found: [ClosedRange<Int64>] = []
        for (key, ranges) in windows {
            let matches =
                key == name || key == "*"
                || input.map { $0.hasSuffix(key) || ($0 as NSString).lastPathComponent == (key as NSString).lastPathComponent } == true
            if matches { found += ranges }
        }
        return found.sorted { $0.lowerBound < $1.lowerBound }
    }
}

/// One detector over one group: what the report plots and the metrics count.
public struct BacktestSeries: Sendable {
    public var detector: String
    public var detectorType: String
    public var group: Labels
    /// The plotted feature (the detector's first).
    public var feature: String
    /// Window ends (ms) and the plotted feature's values.
    public var times: [Int64]
    public var values: [Double]
    /// Shared-scale scores; nil where the detector could not judge.
    public var scores: [Double?]
    public var expected: [Double?]
    public var lower: [Double?]
    public var upper: [Double?]
    public var detections: [Bool]
    public var threshold: Double
    /// Labelled windows (ms) and the rows they cover.
    public var labelled: [ClosedRange<Int64>]
    public var labelledRows: [ClosedRange<Int>]
    /// Rows before this one are NAB's probation period (and, for models trained by the backtest, training rows).
    public var probation: Int
}

/// Per detector: point and window metrics and the NAB scores.
public struct BacktestMetrics: Sendable {
    public var detector: String
    /// Where the model came from: `v2 (promoted)`, `trained on the first 15%`, or `online` (zscore).
    public var model: String
    public var rows: Int
    public var detections: Int
    public var windows: Int
    public var windowsDetected: Int
    /// Detections inside a labelled window / all detections (after probation).
    public var precision: Double
    /// Labelled windows with a detection / labelled windows.
    public var recall: Double
    public var f1: Double
    public var nab: [(profile: String, result: NABScoring.Result)]
}

/// Scores history as the live pipeline does: window by window in event time, each against what the
/// detector knew before it (the same `DetectorBank` the workers use), then compares the detections
/// with labelled windows.
public enum Backtest {
    public struct Result: Sendable {
        public var series: [BacktestSeries]
        public var metrics: [BacktestMetrics]
    }

    /// - Parameters:
    ///   - models: the promoted model of each trained detector is used; without one, the detector is
    ///     trained on the first `trainFraction` of the history (NAB's probation share by default) and
    ///     scores the rest, so no point is scored by a model that saw it later.
    public static func run(
        pipeline: Pipeline, detectors: [DetectorSpec], history: [String: History], labels: LabelWindows, input: String?,
        models: ModelRepository?, trainFraction: Double = 0.15
    ) throws -> Result {
        var restricted = pipeline
        restricted.detectors = detectors
        var bank = try DetectorBank(pipeline: restricted)
        var sources: [String: String] = [:]
        var trainedUntil: [String: Int64] = [:]
        for spec in detectors {
            guard let kind = TrainedDetectors.kind(of: spec) else {
                sources[spec.name] = "online"
                continue
            }
            if let models, let version = models.current(pipeline: pipeline.name, detector: spec.name) {
                let stored = try models.load(pipeline: pipeline.name, detector: spec.name, version: version)
                bank.install(detector: spec.name, model: stored.model, version: version)
                sources[spec.name] = "\(version) (promoted)"
                continue
            }
            guard let h = history[spec.stream], !h.outputs.isEmpty else { continue }
            let times = h.outputs.map(\.windowEnd).sorted()
            let cut = times[min(times.count - 1, max(1, Int(Double(times.count) * trainFraction)) - 1)]
            let training = h.between(.min, cut).trainingSet(features: spec.features)
            let result = try ModelTrainer.train(
                kind: kind, parameters: TrainedDetectors.parameters(of: spec), data: training, seed: TrainedDetectors.seed(of: spec))
            bank.install(detector: spec.name, model: result.model, version: "backtest")
            sources[spec.name] = "trained on the first \(Int((trainFraction * 100).rounded()))% (\(training.rowCount) rows)"
            trainedUntil[spec.name] = cut
        }
        let outputs = history.values.flatMap(\.outputs).sorted {
            ($0.windowEnd, $0.stream, $0.group.description) < ($1.windowEnd, $1.stream, $1.group.description)
        }
        // Window by window, as a worker's flushes would deliver them.
        var scored: [DetectorBank.Scored] = []
        var start = 0
        while start < outputs.count {
            var end = start
            while end < outputs.count && outputs[end].windowEnd == outputs[start].windowEnd { end += 1 }
            scored += bank.verdicts(Array(outputs[start..<end]))
            start = end
        }

        var series: [BacktestSeries] = []
        var metrics: [BacktestMetrics] = []
        for (index, spec) in detectors.enumerated() {
            let mine = scored.filter { $0.binding == index }
            var byGroup: [Labels: [DetectorBank.Scored]] = [:]
            var order: [Labels] = []
            for s in mine {
                if byGroup[s.output.group] == nil { order.append(s.output.group) }
                byGroup[s.output.group, default: []].append(s)
            }
            let threshold = spec.threshold ?? 1
            var nabSeries: [NABScoring.Series] = []
            var rows = 0, detections = 0, inside = 0, windows = 0, detected = 0
            for group in order {
                let items = byGroup[group]!
                let times = items.map(\.output.windowEnd)
                let labelled = labels.windows(group: group, input: input)
                let labelledRows = labelled.compactMap { w -> ClosedRange<Int>? in
                    guard let a = times.firstIndex(where: { $0 >= w.lowerBound }),
                        let b = times.lastIndex(where: { $0 <= w.upperBound }), a <= b
                    else { return nil }
                    return a...b
                }
                let flags = items.map { $0.verdict?.isAnomalous ?? false }
                var probation = NABScoring.probation(rows: items.count)
                if let cut = trainedUntil[spec.name] {
                    probation = max(probation, (times.lastIndex { $0 <= cut } ?? -1) + 1)
                }
                series.append(
                    BacktestSeries(
                        detector: spec.name, detectorType: spec.type, group: group, feature: spec.features[0], times: times,
                        values: items.map { $0.values[0] }, scores: items.map { $0.verdict?.score },
                        expected: items.map { $0.verdict?.expected }, lower: items.map { $0.verdict?.lower },
                        upper: items.map { $0.verdict?.upper }, detections: flags, threshold: threshold, labelled: labelled,
                        labelledRows: labelledRows, probation: probation))
                // NAB counts from its own probation; rows a backtest-trained model saw are masked as undetected.
                var nabFlags = flags
                for i in 0..<min(probation, nabFlags.count) { nabFlags[i] = false }
                nabSeries.append(NABScoring.Series(detections: nabFlags, windows: labelledRows))
                rows += max(0, items.count - probation)
                for i in probation..<items.count where flags[i] {
                    detections += 1
                    if labelledRows.contains(where: { $0.contains(i) }) { inside += 1 }
                }
                for w in labelledRows where w.upperBound >= probation {
                    windows += 1
                    if w.contains(where: { $0 >= probation && flags[$0] }) { detected += 1 }
                }
            }
            let precision = detections == 0 ? 0 : Double(inside) / Double(detections)
            let recall = windows == 0 ? 0 : Double(detected) / Double(windows)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            metrics.append(
                BacktestMetrics(
                    detector: spec.name, model: sources[spec.name] ?? "no history", rows: rows, detections: detections,
                    windows: windows, windowsDetected: detected, precision: precision, recall: recall, f1: f1,
                    nab: NABScoring.Profile.all.map { ($0.name, NABScoring.score(nabSeries, profile: $0)) }))
        }
        return Result(series: series, metrics: metrics)
    }
}
