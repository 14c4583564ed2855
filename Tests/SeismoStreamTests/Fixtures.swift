import SeismoCore
import SeismoPipeline
import SeismoWire
@testable import SeismoStream

/// Seconds as event-time milliseconds.
func s(_ seconds: Int64) -> Int64 { seconds * 1000 }

/// A stream over `signals.test` with the given window and features.
func makeStream(
    _ window: WindowSpec, grouping: Grouping = .by(["job"]), selector: [Matcher] = [],
    aggregations: [AggregationSpec] = [AggregationSpec(name: "n", function: .count)],
    derived: [DerivedFeatureSpec] = []
) -> StreamWindows {
    let spec = StreamSpec(
        name: "test", topic: "signals.test", selector: selector, window: window, grouping: grouping,
        aggregations: aggregations, derived: derived)
    do { return try StreamWindows(stream: spec) } catch { fatalError("invalid test stream: \(error)") }
}

/// One series with `(timestamp ms, value)` points.
func series(_ labels: Labels, _ points: [(Int64, Double)]) -> SeriesSamples {
    SeriesSamples(labels: labels, timestamps: points.map(\.0), values: points.map(\.1))
}

/// Drives a `StreamWindows` record by record, as a worker would.
struct Driver {
    var windows: StreamWindows
    var nextOffset: [Int32: Int64] = [:]
    var now: Int64 = 0
    var counts = IngestCounts()

    init(_ windows: StreamWindows) { self.windows = windows }

    /// One record on `partition` holding `series`; returns its offset.
    @discardableResult
    mutating func record(_ series: [SeriesSamples], partition: Int32 = 0) -> Int64 {
        let offset = nextOffset[partition, default: 0]
        nextOffset[partition] = offset + 1
        for one in series { counts += windows.ingest(one, partition: partition, offset: offset, now: now) }
        windows.recordDone(partition: partition, offset: offset, now: now)
        return offset
    }

    /// One record with one sample of `labels`.
    @discardableResult
    mutating func sample(_ labels: Labels, at timestamp: Int64, _ value: Double = 1, partition: Int32 = 0) -> Int64 {
        record([series(labels, [(timestamp, value)])], partition: partition)
    }

    mutating func advance() -> [WindowOutput] { windows.advance(now: now) }
}

extension WindowOutput {
    /// The value of feature `name` of `stream`'s spec.
    func value(_ name: String, in windows: StreamWindows) -> Double? {
        windows.stream.featureNames.firstIndex(of: name).map { values[$0] }
    }
}
