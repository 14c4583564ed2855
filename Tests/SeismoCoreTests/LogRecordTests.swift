import Testing

@testable import SeismoCore

/// Specification of `LogRecord`: Loki's stream model with OpenTelemetry severities.
@Suite("LogRecord")
struct LogRecordTests {
    static let labels: Labels = ["job": "api"]

    @Test(
        "timestamp is the record's time at millisecond resolution, rounded down",
        arguments: [
            (0, 0), (999_999, 0), (1_000_000, 1), (1_795_341_600_123_456_789, 1_795_341_600_123),
            (-1, -1), (-999_999, -1), (-1_000_000, -1), (-1_000_001, -2),
        ] as [(Int64, Int64)])
    func timestamp(nanos: Int64, milliseconds: Int64) {
        let record = LogRecord(labels: Self.labels, unixNanos: nanos, body: "hello")
        #expect(record.timestamp.milliseconds == milliseconds)
    }

    @Test("a record just before the epoch prints as 1969, not 1970")
    func beforeEpoch() {
        let record = LogRecord(labels: Self.labels, unixNanos: -1, body: "")
        #expect(record.timestamp.description == "1969-12-31T23:59:59.999Z")
    }

    @Test("severities carry OpenTelemetry's numbers and order by them")
    func severities() {
        #expect(LogRecord.Severity.allCases.map(\.rawValue) == [0, 1, 5, 9, 13, 17, 21])
        #expect(LogRecord.Severity.allCases.sorted() == LogRecord.Severity.allCases)
        #expect(LogRecord.Severity.warn < .error)
        #expect(!(LogRecord.Severity.fatal < .info))
    }

    @Test("a record defaults to unspecified severity, no attributes and no trace context")
    func defaults() {
        let record = LogRecord(labels: Self.labels, unixNanos: 1, body: "hello")
        #expect(record.severity == .unspecified)
        #expect(record.attributes.isEmpty)
        #expect(record.traceID == nil)
        #expect(record.spanID == nil)
        #expect(record.labels == Self.labels)
        #expect(record.body == "hello")
    }
}
