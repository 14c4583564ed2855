import Foundation
import SeismoCore
import SeismoPipeline

/// One injected anomaly: its kind, the series it affects, its time range and size.
public struct GroundTruthEntry: Sendable, Hashable, Codable {
    public var kind: AnomalyKind
    /// The labels every affected series carries (`__name__`, `service`, `job`, and
    /// `instance` when one instance is affected). A counter anomaly affects every `code`.
    public var labels: [String: String]
    /// Start, inclusive, in Unix milliseconds.
    public var start: Int64
    /// End, exclusive, in Unix milliseconds.
    public var end: Int64
    public var magnitude: Double

    public init(kind: AnomalyKind, labels: [String: String], start: Int64, end: Int64, magnitude: Double) {
        self.kind = kind
        self.labels = labels
        self.start = start
        self.end = end
        self.magnitude = magnitude
    }
}

/// The ground-truth file: what `SyntheticSource.writeGroundTruth(to:)` writes.
///
/// ```json
/// {
///   "seed": 1, "start": 1795300000000, "step": 10000, "end": 1795386400000,
///   "anomalies": [
///     {"kind": "spike", "start": 1795303600000, "end": 1795303660000, "magnitude": 3,
///      "labels": {"__name__": "http_request_duration_seconds", "service": "api",
///                 "instance": "api-0", "job": "synthetic"}}
///   ]
/// }
/// ```
///
/// Times are Unix milliseconds; `end` (of the run) is absent for an unbounded run; each
/// anomaly's range is `[start, end)`; `kind` is an `AnomalyKind` raw value (`spike`, `dip`,
/// `level_shift`, `trend_drift`, `variance_change`, `stuck_value`, `missing_data`).
/// Anomalies are in order of start. Keys are sorted.
public struct GroundTruthFile: Sendable, Hashable, Codable {
    public var seed: UInt64
    public var start: Int64
    public var step: Int64
    public var end: Int64?
    public var anomalies: [GroundTruthEntry]

    public init(seed: UInt64, start: Int64, step: Int64, end: Int64?, anomalies: [GroundTruthEntry]) {
        self.seed = seed
        self.start = start
        self.step = step
        self.end = end
        self.anomalies = anomalies
    }

    /// Reads a file written by `SyntheticSource.writeGroundTruth(to:)`.
    public static func read(from path: String) throws(CollectError) -> GroundTruthFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CollectError(.unreadableFile, "cannot read the ground truth", context: path)
        }
        do {
            return try JSONDecoder().decode(GroundTruthFile.self, from: data)
        } catch {
            throw CollectError(.unreadableFile, "invalid ground truth: \(error)", context: path)
        }
    }
}

extension SyntheticSource {
    /// Writes the ground truth (see `GroundTruthFile`) of every anomaly that starts before
    /// `horizon` (default: as `groundTruth`) to `path`, atomically.
    public func writeGroundTruth(to path: String, before horizon: Int64? = nil) throws(CollectError) {
        let file = GroundTruthFile(
            seed: spec.seed, start: start, step: step, end: end, anomalies: groundTruth(before: horizon))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        do {
            try encoder.encode(file).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CollectError(.unwritableFile, "cannot write the ground truth: \(error)", context: path)
        }
    }
}
