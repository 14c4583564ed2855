/// One log line with its stream labels, as Loki models it, plus OpenTelemetry's severity
/// and trace context.
public struct LogRecord: Hashable, Sendable {
    /// OpenTelemetry's severity ranges, reduced to their names.
    public enum Severity: Int, Sendable, Hashable, CaseIterable, Comparable {
        case unspecified = 0
        case trace = 1
        case debug = 5
        case info = 9
        case warn = 13
        case error = 17
        case fatal = 21

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The stream labels (`job`, `namespace`, `pod`, …).
    public var labels: Labels
    /// Nanoseconds since the Unix epoch.
    public var unixNanos: Int64
    public var severity: Severity
    public var body: String
    /// Structured fields that are not stream labels (Loki's structured metadata).
    public var attributes: [String: String]
    /// 16-byte trace id, when the line belongs to a trace.
    public var traceID: [UInt8]?
    /// 8-byte span id, when the line belongs to a span.
    public var spanID: [UInt8]?

    public init(
        labels: Labels, unixNanos: Int64, severity: Severity = .unspecified, body: String,
        attributes: [String: String] = [:], traceID: [UInt8]? = nil, spanID: [UInt8]? = nil
    ) {
        self.labels = labels
        self.unixNanos = unixNanos
        self.severity = severity
        self.body = body
        self.attributes = attributes
        self.traceID = traceID
        self.spanID = spanID
    }

    /// The record's time at millisecond resolution, rounded down (also before 1970).
    public var timestamp: Timestamp {
        let (quotient, remainder) = unixNanos.quotientAndRemainder(dividingBy: 1_000_000)
        return Timestamp(milliseconds: remainder < 0 ? quotient - 1 : quotient)
    }
}
