import SeismoCore

/// One detected anomaly, as published as JSON on `anomalies.<pipeline>` topics
/// (schema `seismo.anomaly.v1`, documented in `schemas/anomaly-event.v1.schema.json`).
///
/// JSON keys are snake_case; times appear both as RFC 3339 strings and as Unix
/// milliseconds; numbers that JSON cannot represent are written as the strings `"NaN"`,
/// `"+Inf"` and `"-Inf"`.
public struct AnomalyEvent: Codable, Sendable, Equatable {
    /// The value of `schema` for this version of the event.
    public static let schemaName = "seismo.anomaly.v1"

    /// How urgent the anomaly is.
    public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
        case info, warning, critical

        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
        }
    }

    /// The band of normal values the detector expected.
    public struct Band: Codable, Sendable, Equatable {
        public var lower: Double
        public var upper: Double

        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// How much one feature contributed to the score.
    public struct Contribution: Codable, Sendable, Equatable {
        public var feature: String
        public var weight: Double

        public init(feature: String, weight: Double) {
            self.feature = feature
            self.weight = weight
        }
    }

    /// Always `AnomalyEvent.schemaName`.
    public private(set) var schema: String
    /// Stable id derived from pipeline, detector, group and window, so that a replayed
    /// window produces the same id and consumers can deduplicate.
    public private(set) var id: String
    public private(set) var pipeline: String
    public private(set) var detector: String
    /// The detector's kind, e.g. `isolation_forest`, `autoencoder`, `seasonal`.
    public var detectorType: String
    /// The labels of the window group the anomaly was found in.
    public private(set) var group: [String: String]
    public private(set) var windowStart: Timestamp
    public private(set) var windowEnd: Timestamp
    /// Feature values observed in the window.
    public var observed: [String: Double]
    /// The value the detector expected, when it predicts one.
    public var expected: Double?
    /// The band of normal values, when the detector produces one.
    public var band: Band?
    /// The anomaly score; the event fires when it reaches `threshold`.
    public var score: Double
    public var threshold: Double
    public var severity: Severity
    /// Feature contributions to the score, by weight, largest first.
    public private(set) var contributions: [Contribution]
    /// When the detector scored the window.
    public var detectedAt: Timestamp

    public init(
        pipeline: String, detector: String, detectorType: String, group: [String: String], windowStart: Timestamp,
        windowEnd: Timestamp, observed: [String: Double], expected: Double? = nil, band: Band? = nil, score: Double,
        threshold: Double, severity: Severity, contributions: [Contribution] = [], detectedAt: Timestamp
    ) {
        schema = Self.schemaName
        id = Self.id(pipeline: pipeline, detector: detector, group: group, windowStart: windowStart, windowEnd: windowEnd)
        self.pipeline = pipeline
        self.detector = detector
        self.detectorType = detectorType
        self.group = group
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.observed = observed
        self.expected = expected
        self.band = band
        self.score = score
        self.threshold = threshold
        self.severity = severity
        self.contributions = Self.sorted(contributions)
        self.detectedAt = detectedAt
    }

    /// An event for the window group `group`.
    public init(
        pipeline: String, detector: String, detectorType: String, group: Labels, windowStart: Timestamp,
        windowEnd: Timestamp, observed: [String: Double], expected: Double? = nil, band: Band? = nil, score: Double,
        threshold: Double, severity: Severity, contributions: [Contribution] = [], detectedAt: Timestamp
    ) {
        self.init(
            pipeline: pipeline, detector: detector, detectorType: detectorType,
            group: Dictionary(uniqueKeysWithValues: group.pairs.map { ($0.name, $0.value) }), windowStart: windowStart,
            windowEnd: windowEnd, observed: observed, expected: expected, band: band, score: score,
            threshold: threshold, severity: severity, contributions: contributions, detectedAt: detectedAt)
    }

    /// The event id for a window: 32 lowercase hex digits (two xxHash64 values, seeds 0
    /// and 1) over `pipeline`, `detector`, the group's pairs sorted by name, and the
    /// window's bounds in milliseconds, each field terminated by the byte 0xFF.
    public static func id(
        pipeline: String, detector: String, group: [String: String], windowStart: Timestamp, windowEnd: Timestamp
    ) -> String {
        var bytes: [UInt8] = []
        func field(_ text: String) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(0xFF)
        }
        field(pipeline)
        field(detector)
        for name in group.keys.sorted() {
            field(name)
            field(group[name] ?? "")
        }
        field(String(windowStart.milliseconds))
        field(String(windowEnd.milliseconds))
        let high = XXHash64.hash(bytes, seed: 0)
        let low = XXHash64.hash(bytes, seed: 1)
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func sorted(_ contributions: [Contribution]) -> [Contribution] {
        contributions.sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.feature < $1.feature }
    }

    // MARK: Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case schema, id, pipeline, detector
        case detectorType = "detector_type"
        case group
        case windowStart = "window_start"
        case windowStartMilliseconds = "window_start_ms"
        case windowEnd = "window_end"
        case windowEndMilliseconds = "window_end_ms"
        case observed, expected, band, score, threshold, severity, contributions
        case detectedAt = "detected_at"
        case detectedAtMilliseconds = "detected_at_ms"
    }

    /// Keys that are left out when the value is absent.
    static let optionalKeys: Set<CodingKeys> = [.expected, .band]

    /// Thrown while decoding an event of another schema version.
    struct SchemaMismatch: Error {
        var found: String
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schema = try container.decode(String.self, forKey: .schema)
        guard schema == Self.schemaName else { throw SchemaMismatch(found: schema) }
        id = try container.decode(String.self, forKey: .id)
        pipeline = try container.decode(String.self, forKey: .pipeline)
        detector = try container.decode(String.self, forKey: .detector)
        detectorType = try container.decode(String.self, forKey: .detectorType)
        group = try container.decode([String: String].self, forKey: .group)
        windowStart = try Self.decodeTime(container, .windowStart, .windowStartMilliseconds)
        windowEnd = try Self.decodeTime(container, .windowEnd, .windowEndMilliseconds)
        observed = try container.decode([String: Double].self, forKey: .observed)
        expected = try container.decodeIfPresent(Double.self, forKey: .expected)
        band = try container.decodeIfPresent(Band.self, forKey: .band)
        score = try container.decode(Double.self, forKey: .score)
        threshold = try container.decode(Double.self, forKey: .threshold)
        severity = try container.decode(Severity.self, forKey: .severity)
        contributions = Self.sorted(try container.decode([Contribution].self, forKey: .contributions))
        detectedAt = try Self.decodeTime(container, .detectedAt, .detectedAtMilliseconds)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(id, forKey: .id)
        try container.encode(pipeline, forKey: .pipeline)
        try container.encode(detector, forKey: .detector)
        try container.encode(detectorType, forKey: .detectorType)
        try container.encode(group, forKey: .group)
        try container.encode(TimeParser.formatRFC3339(windowStart), forKey: .windowStart)
        try container.encode(windowStart.milliseconds, forKey: .windowStartMilliseconds)
        try container.encode(TimeParser.formatRFC3339(windowEnd), forKey: .windowEnd)
        try container.encode(windowEnd.milliseconds, forKey: .windowEndMilliseconds)
        try container.encode(observed, forKey: .observed)
        try container.encodeIfPresent(expected, forKey: .expected)
        try container.encodeIfPresent(band, forKey: .band)
        try container.encode(score, forKey: .score)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(severity, forKey: .severity)
        try container.encode(contributions, forKey: .contributions)
        try container.encode(TimeParser.formatRFC3339(detectedAt), forKey: .detectedAt)
        try container.encode(detectedAt.milliseconds, forKey: .detectedAtMilliseconds)
    }

    /// Reads a time written both ways; the two must agree.
    private static func decodeTime(
        _ container: KeyedDecodingContainer<CodingKeys>, _ textKey: CodingKeys, _ millisecondsKey: CodingKeys
    ) throws -> Timestamp {
        let text = try container.decode(String.self, forKey: textKey)
        let milliseconds = try container.decode(Int64.self, forKey: millisecondsKey)
        guard let parsed = TimeParser.parseRFC3339(text), parsed.milliseconds == milliseconds else {
            throw DecodingError.dataCorruptedError(
                forKey: textKey, in: container,
                debugDescription: "\(textKey.rawValue) \(text.debugDescription) is not the RFC 3339 form of \(millisecondsKey.rawValue) \(milliseconds)"
            )
        }
        return parsed
    }
}
