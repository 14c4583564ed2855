import SeismoCore
import SeismoTesting
import SeismoWire

/// Seeded random signals that exercise the corners of the encoding: NaN payloads,
/// infinities, stale markers, negative zero, extreme timestamps, unicode label values,
/// empty series, logs and spans with and without optional fields.
struct RandomSignals {
    var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    private static let names = ["__name__", "job", "instance", "le", "path", "region", "_private", "zone9"]
    private static let metricNames = ["up", "http_requests_total", "node:cpu:rate5m", "_x", "a"]
    private static let values = [
        "", "api", "10.0.0.1:9100", "ünïcødé", "日本語", "emoji 🚀", "quote\"back\\slash", "new\nline", "a,b=c",
        String(repeating: "long", count: 40),
    ]

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &random) }
    mutating func chance(_ p: Double) -> Bool { random.nextUnit() < p }

    mutating func labels() -> Labels {
        var pairs: [Label] = []
        if chance(0.9) {
            pairs.append(Label(Labels.metricName, Self.metricNames[int(0..<Self.metricNames.count)]))
        }
        for name in Self.names.dropFirst() where chance(0.4) {
            pairs.append(Label(name, chance(0.3) ? "v\(int(0..<1000))" : Self.values[int(0..<Self.values.count)]))
        }
        // Valid by construction: names are valid and unique.
        return (try? Labels(validating: pairs)) ?? Labels()
    }

    mutating func value() -> Double {
        switch int(0..<14) {
        case 0: return .nan
        case 1: return Double(bitPattern: 0x7FF8_0000_DEAD_BEEF)  // NaN with a payload
        case 2: return .infinity
        case 3: return -.infinity
        case 4: return StaleMarker.value
        case 5: return -0.0
        case 6: return .leastNonzeroMagnitude
        case 7: return .greatestFiniteMagnitude
        default: return (random.nextUnit() - 0.5) * pow(10, Double(int(-5..<12)))
        }
    }

    mutating func timestamps(_ count: Int) -> [Int64] {
        if chance(0.1) {
            // Arbitrary, unordered, extreme: deltas must wrap correctly.
            return (0..<count).map { _ in [Int64.min, Int64.max, 0, -1, Int64(bitPattern: random.next())][int(0..<5)] }
        }
        var time = Int64(1_795_300_000_000) + Int64(int(0..<1_000_000))
        return (0..<count).map { _ in
            time += Int64(int(0..<30_000))
            return time
        }
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }

    mutating func attributes() -> [String: String] {
        var out: [String: String] = [:]
        for _ in 0..<int(0..<4) { out["k\(int(0..<6))"] = Self.values[int(0..<Self.values.count)] }
        return out
    }

    mutating func log() -> LogRecord {
        LogRecord(
            labels: labels(), unixNanos: chance(0.1) ? 0 : Int64(bitPattern: random.next()),
            severity: LogRecord.Severity.allCases[int(0..<LogRecord.Severity.allCases.count)],
            body: chance(0.2) ? "" : Self.values[int(0..<Self.values.count)] + " line \(int(0..<100))",
            attributes: attributes(), traceID: chance(0.5) ? bytes(16) : (chance(0.1) ? [] : nil),
            spanID: chance(0.5) ? bytes(8) : nil)
    }

    mutating func span() -> Span {
        Span(
            traceID: chance(0.95) ? bytes(16) : [], spanID: bytes(8), parentSpanID: chance(0.5) ? bytes(8) : nil,
            service: chance(0.1) ? "" : "svc-\(int(0..<3))", name: "GET /\(Self.values[int(0..<Self.values.count)])",
            kind: Span.Kind.allCases[int(0..<Span.Kind.allCases.count)],
            startUnixNanos: Int64(bitPattern: random.next()), durationNanos: Int64(int(-10..<1_000_000_000)),
            status: Span.StatusCode.allCases[int(0..<Span.StatusCode.allCases.count)],
            statusMessage: chance(0.5) ? "" : "boom ✗", attributes: attributes())
    }

    mutating func batch() -> SignalBatch {
        let series = (0..<int(0..<12)).map { _ in
            let count = chance(0.1) ? 0 : int(1..<50)
            return SeriesSamples(labels: labels(), timestamps: timestamps(count), values: (0..<count).map { _ in value() })
        }
        let logs = (0..<(chance(0.5) ? 0 : int(1..<5))).map { _ in log() }
        let spans = (0..<(chance(0.5) ? 0 : int(1..<5))).map { _ in span() }
        return SignalBatch(series: series, logs: logs, spans: spans, source: chance(0.3) ? "" : "scrape/node-✓")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
