import SeismoCore
import SeismoPipeline
import SeismoWire

/// A throughput measurement of `StreamWindows` on one core, for the benchmark harness:
/// counters scraped every 15 s, 1-minute tumbling windows grouped by `job` (20 groups),
/// with count, sum, avg, p99 (1 % sketch) and rate; records of 1,000 series, `advance`
/// after every record.
public enum StreamWindowsBenchmark {
    /// What one run measured.
    public struct Result: Sendable, Hashable {
        /// Samples ingested.
        public var samples: Int
        /// Wall time of ingest, recordDone and advance, in seconds.
        public var seconds: Double
        /// Window outputs produced.
        public var outputs: Int
        /// `samples / seconds`.
        public var samplesPerSecond: Double { seconds > 0 ? Double(samples) / seconds : 0 }
    }

    /// Runs `samples` samples (rounded up to whole scrapes) of `series` series through one
    /// partition's windows, each series carrying `samplesPerCall` consecutive scrapes per
    /// `ingest` call (1 is the scrape case, the most expensive one).
    public static func run(series: Int = 10_000, samples: Int = 2_000_000, samplesPerCall: Int = 1) -> Result {
        precondition(series > 0 && samples > 0 && samplesPerCall > 0)
        let spec = StreamSpec(
            name: "bench", topic: "signals.bench", window: .tumbling(.seconds(60)), grouping: .by(["job"]),
            aggregations: [
                AggregationSpec(name: "count", function: .count),
                AggregationSpec(name: "sum", function: .sum),
                AggregationSpec(name: "avg", function: .avg),
                AggregationSpec(name: "p99", function: .quantile(q: 0.99, relativeError: 0.01)),
                AggregationSpec(name: "rate", function: .rate),
            ])
        guard var windows = try? StreamWindows(stream: spec) else { preconditionFailure("benchmark stream is valid") }
        // Two copies of every label set with separate string storage, used in turn, so that
        // the route cache compares bytes as it does for labels decoded from each record.
        let copies: [[Labels]] = (0..<2).map { copy in
            (0..<series).map {
                let name = String(decoding: Array("http_requests_total".utf8), as: UTF8.self)
                return ["__name__": name, "instance": "host-\($0)", "job": "job-\($0 % 20)"]
            }
        }
        let variants = 64
        let interval: Int64 = 15_000
        let recordSize = 1_000
        let calls = (samples + series * samplesPerCall - 1) / (series * samplesPerCall)
        let start: Int64 = 1_800_000_000_000
        var offset: Int64 = 0
        var outputs = 0
        let clock = ContinuousClock()
        var elapsed = Duration.zero
        for call in 0..<calls {
            // Columns shared by the series of one call (not timed): one timestamp column,
            // `variants` value columns of increasing counters.
            let first = Int64(call * samplesPerCall)
            let timestamps = SampleColumn((0..<Int64(samplesPerCall)).map { start + (first + $0) * interval })
            let values = (0..<variants).map { variant in
                SampleColumn((0..<samplesPerCall).map { Double(Int(first) + $0) * Double(variant + 1) * 1.5 })
            }
            let labels = copies[call % 2]
            let began = clock.now
            var index = 0
            while index < series {
                let end = Swift.min(index + recordSize, series)
                let now = Int64(call) * interval + Int64(index)
                for one in index..<end {
                    windows.ingest(
                        SeriesSamples(labels: labels[one], timestamps: timestamps, values: values[one % variants]),
                        partition: 0, offset: offset, now: now)
                }
                windows.recordDone(partition: 0, offset: offset, now: now)
                outputs += windows.advance(now: now).count
                offset += 1
                index = end
            }
            elapsed += clock.now - began
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Result(samples: calls * series * samplesPerCall, seconds: seconds, outputs: outputs)
    }
}
