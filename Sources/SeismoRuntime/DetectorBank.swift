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
        let make: @Sendable () -> any StreamingDetector
        /// Windows of history to reload when a group is first seen.
        let warmUpWindows: Int
    }

    struct GroupState: Sendable {
        var detector: any StreamingDetector
        var lastLearnedEnd: Int64
    }

    let pipeline: String
    let featureTable: String
    let bindings: [Binding]
    private var states: [String: [Labels: GroupState]] = [:]

    init(pipeline: Pipeline) throws(RuntimeError) {
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
                        make: { RollingZScore(featureNames: features, parameters: parameters) },
                        warmUpWindows: parameters.history))
            default:
                throw RuntimeError("detector \(spec.name): type \(spec.type) is not available in this version")
            }
        }
        self.bindings = bindings
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
                table[group] = GroupState(detector: binding.make(), lastLearnedEnd: .min)
            }
            for row in rows {
                guard var state = table[row.group], row.windowEnd > state.lastLearnedEnd else { continue }
                state.detector.learn(binding.spec.features.map { row[feature: $0] ?? .nan })
                state.lastLearnedEnd = row.windowEnd
                table[row.group] = state
            }
            states[binding.spec.name] = table
        }
    }

    /// Every verdict of the last `score` call, anomalous or not (stored as series).
    private(set) var scored: [ScoredWindow] = []

    /// Scores `outputs` in order and learns each new window; returns the anomalies.
    mutating func score(_ outputs: [WindowOutput], detectedAt: Timestamp) -> [AnomalyEvent] {
        var events: [AnomalyEvent] = []
        scored = []
        for binding in bindings {
            var table = states[binding.spec.name] ?? [:]
            for output in outputs where output.stream == binding.stream.name {
                var state = table[output.group] ?? GroupState(detector: binding.make(), lastLearnedEnd: .min)
                let values = binding.featureIndices.map { output.values[$0] }
                if let verdict = state.detector.score(values) {
                    scored.append(
                        ScoredWindow(
                            detector: binding.spec.name, group: output.group, windowEnd: output.windowEnd,
                            verdict: verdict))
                    if verdict.isAnomalous { events.append(event(binding, output, values, verdict, detectedAt)) }
                }
                if output.windowEnd > state.lastLearnedEnd {
                    state.detector.learn(values)
                    state.lastLearnedEnd = output.windowEnd
                }
                table[output.group] = state
            }
            states[binding.spec.name] = table
        }
        return events
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
struct ScoredWindow {
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
