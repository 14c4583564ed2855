import SeismoCore
import SeismoDetect
import SeismoPipeline
import SeismoStore
import SeismoStream
import SeismoWire

/// The pipeline's detectors and their per-group state: scores window outputs and turns the
/// verdicts over threshold into anomaly events.
///
/// Each (detector, group) has its own `StreamingDetector`. A group first seen by this
/// process (at start, after a crash, or when its partition moves here) is warmed up from
/// the feature table before it scores, so the verdicts do not depend on where or how often
/// the stream was restarted. A window is learned once, when first emitted; a re-emitted
/// (late-updated) window is scored again but not learned again.
struct DetectorBank: Sendable {
    struct Binding: Sendable {
        let spec: DetectorSpec
        let stream: StreamSpec
        /// Positions of the detector's features in the stream's feature order.
        let featureIndices: [Int]
        /// The state of a new group, or nil when the detector cannot score it (no model promoted yet,
        /// or a seasonal model without a series for the group).
        var make: @Sendable (Labels) -> (any StreamingDetector)?
        /// Windows of history to reload when a group is first seen.
        let warmUpWindows: Int
        /// Trained types: the model kind, and the version installed (nil: none yet).
        let modelKind: ModelKind?
        var modelVersion: String?
    }

    struct GroupState: Sendable {
        var detector: (any StreamingDetector)?
        var lastLearnedEnd: Int64
    }

    let pipeline: String
    let featureTable: String
    private(set) var bindings: [Binding]
    private var states: [String: [Labels: GroupState]] = [:]
    /// Per detector, the version that last failed to load (not retried until CURRENT changes).
    private var failedVersions: [String: String] = [:]

    /// Trained detectors start with the version promoted in `models` (none when `models` is nil
    /// or nothing is promoted yet); see ``reloadModels(from:)``.
    init(pipeline: Pipeline, models: ModelRepository? = nil) throws(RuntimeError) {
        self.pipeline = pipeline.name
        featureTable = pipeline.outputs.featureTable
        var bindings: [Binding] = []
        for spec in pipeline.detectors {
            guard let stream = pipeline.stream(named: spec.stream) else {
                throw RuntimeError("detector \(spec.name) reads unknown stream \(spec.stream)")
            }
            let names = stream.featureNames
            let indices = try spec.features.map { (feature: String) throws(RuntimeError) -> Int in
                guard let index = names.firstIndex(of: feature) else {
                    throw RuntimeError("detector \(spec.name) reads unknown feature \(feature) of stream \(stream.name)")
                }
                return index
            }
            switch spec.type {
            case "zscore":
                let parameters = RollingZScore.Parameters(
                    history: Int(spec.parameters["history"]?.number ?? 60),
                    minHistory: Int(spec.parameters["min_history"]?.number ?? 10),
                    z: spec.parameters["z"]?.number ?? 3.5,
                    threshold: spec.threshold ?? 1)
                let features = spec.features
                bindings.append(
                    Binding(
                        spec: spec, stream: stream, featureIndices: indices,
                        make: { _ in RollingZScore(featureNames: features, parameters: parameters) },
                        warmUpWindows: parameters.history, modelKind: nil))
            default:
                guard let kind = TrainedDetectors.kind(of: spec) else {
                    throw RuntimeError("detector \(spec.name): type \(spec.type) is not available in this version")
                }
                bindings.append(
                    Binding(
                        spec: spec, stream: stream, featureIndices: indices, make: { _ in nil }, warmUpWindows: 0,
                        modelKind: kind))
            }
        }
        self.bindings = bindings
        if let models { _ = reloadModels(from: models) }
    }

    /// What happened to one trained detector's model in ``reloadModels(from:)``.
    enum ModelChange: Sendable, Equatable {
        case installed(detector: String, version: String)
        case removed(detector: String)
        case failed(detector: String, version: String, reason: String)
    }

    /// Installs the promoted version of every trained detector whose `CURRENT` pointer changed
    /// since the last call; groups of a detector whose model changed start afresh. A version that
    /// fails to load (or is of another type, or reads other features) leaves the installed one in
    /// place and is reported once.
    mutating func reloadModels(from models: ModelRepository) -> [ModelChange] {
        var changes: [ModelChange] = []
        for i in bindings.indices {
            guard let kind = bindings[i].modelKind else { continue }
            let name = bindings[i].spec.name
            let current = models.current(pipeline: pipeline, detector: name)
            guard current != bindings[i].modelVersion else { continue }
            guard let version = current else {
                install(i, model: nil, version: nil)
                changes.append(.removed(detector: name))
                continue
            }
            guard failedVersions[name] != version else { continue }
            do {
                let stored = try models.load(pipeline: pipeline, detector: name, version: version)
                guard stored.model.kind == kind else {
                    throw DetectError(.invalidData, "it is a \(stored.model.kind.typeName) model, the detector needs \(kind.typeName)")
                }
                if kind != .seasonal, stored.model.featureNames != bindings[i].spec.features {
                    throw DetectError(
                        .invalidData, "it reads \(stored.model.featureNames), the detector reads \(bindings[i].spec.features)")
                }
                install(i, model: stored.model, version: version)
                failedVersions[name] = nil
                changes.append(.installed(detector: name, version: version))
            } catch {
                failedVersions[name] = version
                changes.append(.failed(detector: name, version: version, reason: "\(error)"))
            }
        }
        return changes
    }

    /// Installs `model` for the detector called `name` (backtests; the runtime uses ``reloadModels(from:)``).
    mutating func install(detector name: String, model: TrainedModel?, version: String?) {
        guard let index = bindings.firstIndex(where: { $0.spec.name == name }) else { return }
        install(index, model: model, version: version)
    }

    private mutating func install(_ index: Int, model: TrainedModel?, version: String?) {
        let features = bindings[index].spec.features
        let threshold = bindings[index].spec.threshold ?? 1
        bindings[index].modelVersion = version
        bindings[index].make = { group in
            model?.streamingDetector(group: group.description, featureNames: features, threshold: threshold)
        }
        states[bindings[index].spec.name] = nil
    }

    /// Streams some detector reads.
    var scoredStreams: Set<String> { Set(bindings.map(\.stream.name)) }

    /// Event time of stored history (ms) that warming up a new group of `stream` needs.
    func warmUpSpan(stream: String) -> Int64 {
        bindings.filter { $0.stream.name == stream }
            .map { Int64($0.warmUpWindows + 1) * $0.stream.window.hop.milliseconds }.max() ?? 0
    }

    /// Creates the state of `groups` of `stream` for every detector that reads it, and
    /// learns their stored `rows`, oldest first.
    mutating func warmUp(stream: String, groups: Set<Labels>, rows: [WindowRow]) {
        let rows = rows.filter { $0.stream == stream && groups.contains($0.group) }.sorted { $0.windowEnd < $1.windowEnd }
        for binding in bindings where binding.stream.name == stream {
            var table = states[binding.spec.name] ?? [:]
            for group in groups where table[group] == nil {
                table[group] = GroupState(detector: binding.make(group), lastLearnedEnd: .min)
            }
            for row in rows {
                guard var state = table[row.group], row.windowEnd > state.lastLearnedEnd else { continue }
                state.detector?.learn(binding.spec.features.map { row[feature: $0] ?? .nan }, at: Double(row.windowEnd) / 1000)
                state.lastLearnedEnd = row.windowEnd
                table[row.group] = state
            }
            states[binding.spec.name] = table
        }
    }

    /// Every verdict of the last `score` call, anomalous or not (stored as series).
    private(set) var scored: [DetectorVerdictRecord] = []

    /// Scores `outputs` in order and learns each new window; returns the anomalies.
    mutating func score(_ outputs: [WindowOutput], detectedAt: Timestamp) -> [AnomalyEvent] {
        let all = verdicts(outputs)
        scored = all.compactMap { v in
            v.verdict.map {
                DetectorVerdictRecord(
                    detector: bindings[v.binding].spec.name, group: v.output.group, windowEnd: v.output.windowEnd,
                    verdict: $0)
            }
        }
        return all.compactMap { v in
            guard let verdict = v.verdict, verdict.isAnomalous else { return nil }
            return event(bindings[v.binding], v.output, v.values, verdict, detectedAt)
        }
    }

    /// One scored window of one detector.
    struct Scored: Sendable {
        let binding: Int
        let output: WindowOutput
        let values: [Double]
        /// Nil while the detector cannot judge (short history, no model, missing values).
        let verdict: StreamingVerdict?
    }

    /// Scores `outputs` in order with every detector that reads their stream, each window against
    /// what was learned before it, then learns each new window (re-emitted windows are not learned twice).
    mutating func verdicts(_ outputs: [WindowOutput]) -> [Scored] {
        var results: [Scored] = []
        for (index, binding) in bindings.enumerated() {
            var table = states[binding.spec.name] ?? [:]
            for output in outputs where output.stream == binding.stream.name {
                var state = table[output.group] ?? GroupState(detector: binding.make(output.group), lastLearnedEnd: .min)
                let values = binding.featureIndices.map { output.values[$0] }
                let time = Double(output.windowEnd) / 1000
                results.append(
                    Scored(binding: index, output: output, values: values, verdict: state.detector?.score(values, at: time)))
                if output.windowEnd > state.lastLearnedEnd {
                    state.detector?.learn(values, at: time)
                    state.lastLearnedEnd = output.windowEnd
                }
                table[output.group] = state
            }
            states[binding.spec.name] = table
        }
        return results
    }

    /// Seconds after `time` until `detector`'s forecast of `feature` for `group` reaches
    /// `threshold` (see `StreamingDetector.timeToCross`); nil without such a forecast.
    func timeToCross(
        detector: String, group: Labels, feature: String, threshold: Double, after time: Double, horizon: Double, below: Bool
    ) -> Double? {
        guard let binding = bindings.first(where: { $0.spec.name == detector }),
            let index = binding.spec.features.firstIndex(of: feature),
            let state = states[detector]?[group]?.detector
        else { return nil }
        return state.timeToCross(feature: index, threshold: threshold, after: time, horizon: horizon, below: below)
    }

    /// Forgets the state of every group (tests; a model reload).
    mutating func reset() { states = [:] }

    private func event(
        _ binding: Binding, _ output: WindowOutput, _ values: [Double], _ verdict: StreamingVerdict,
        _ detectedAt: Timestamp
    ) -> AnomalyEvent {
        var observed: [String: Double] = [:]
        for (name, value) in zip(binding.spec.features, values) where value.isFinite { observed[name] = value }
        let band = verdict.lower.flatMap { lower in verdict.upper.map { AnomalyEvent.Band(lower: lower, upper: $0) } }
        let severity: AnomalyEvent.Severity = verdict.score >= 2 * verdict.threshold ? .critical : .warning
        return AnomalyEvent(
            pipeline: pipeline, detector: binding.spec.name, detectorType: binding.spec.type, group: output.group,
            windowStart: Timestamp(milliseconds: output.windowStart), windowEnd: Timestamp(milliseconds: output.windowEnd),
            observed: observed, expected: verdict.expected, band: band, score: verdict.score,
            threshold: verdict.threshold, severity: severity,
            contributions: verdict.contributions.prefix(5).map {
                AnomalyEvent.Contribution(feature: $0.feature, weight: $0.weight)
            },
            detectedAt: detectedAt)
    }
}

/// One detector verdict on one window of one group.
struct DetectorVerdictRecord {
    var detector: String
    var group: Labels
    var windowEnd: Int64
    var verdict: StreamingVerdict
}

/// The error type of SeismoRuntime: what stops a pipeline from starting or running.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
