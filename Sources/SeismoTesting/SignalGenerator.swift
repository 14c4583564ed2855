import SeismoCore
import SeismoWire

/// The seeded generator tests and benchmarks use: SeismoCore's SplitMix64, so the same
/// seed gives the same numbers on every machine and in every release.
public typealias SeededRandom = SplitMix64

/// Deterministic, realistic-looking metrics for tests and benchmarks: N series × M points
/// of gauges (a periodic wave plus Gaussian noise) and counters (monotonic, with a noisy
/// rate), optionally with injected anomalies (level shifts).
public struct SignalGenerator: Sendable {
    /// How a series behaves.
    public enum Kind: Sendable, Hashable { case gauge, counter }

    /// A level shift added to `series` for the points in `points` (for a counter, the
    /// shift is added to its per-step increase).
    public struct InjectedAnomaly: Sendable, Hashable {
        public var series: Int
        public var points: Range<Int>
        public var shift: Double

        public init(series: Int, points: Range<Int>, shift: Double) {
            self.series = series
            self.points = points
            self.shift = shift
        }
    }

    public var seed: UInt64
    public var start: Timestamp
    public var stepMilliseconds: Int64
    public var anomalies: [InjectedAnomaly]

    public init(
        seed: UInt64 = 1, start: Timestamp = Timestamp(milliseconds: 1_795_300_000_000),
        stepMilliseconds: Int64 = 15_000, anomalies: [InjectedAnomaly] = []
    ) {
        self.seed = seed
        self.start = start
        self.stepMilliseconds = stepMilliseconds
        self.anomalies = anomalies
    }

    private static let gauges = ["node_cpu_utilization", "node_memory_used_bytes", "http_request_duration_seconds"]
    private static let counters = ["http_requests_total", "node_network_receive_bytes_total"]
    private static let regions = ["eu-west-1", "us-east-1", "ap-south-1"]

    /// Every third series is a counter.
    public func kind(series index: Int) -> Kind { index % 3 == 2 ? .counter : .gauge }

    /// The labels of series `index`, unique per index.
    public func labels(series index: Int) -> Labels {
        let names = kind(series: index) == .counter ? Self.counters : Self.gauges
        return [
            Labels.metricName: names[index % names.count],
            "instance": "10.0.\(index / 250).\(index % 250):9100",
            "job": index % 2 == 0 ? "node" : "api",
            "region": Self.regions[index % Self.regions.count],
        ]
    }

    /// The timestamp of point `index`.
    public func timestamp(point index: Int) -> Timestamp {
        Timestamp(milliseconds: start.milliseconds + Int64(index) * stepMilliseconds)
    }

    /// The first `points` values of series `index`.
    public func values(series index: Int, points: Int) -> [Double] {
        var random = SeededRandom(seed: seed ^ (UInt64(index) &* 0xA24B_AED4_963E_E407))
        let scale = 10 + 90 * random.nextUnit()
        let period = 200 + random.nextUnit() * 800
        let phase = random.nextUnit() * 2 * Double.pi
        var total = (random.nextUnit() * 1000).rounded()
        var out: [Double] = []
        out.reserveCapacity(points)
        for point in 0..<points {
            let shift = anomalies.reduce(0.0) { $1.series == index && $1.points.contains(point) ? $0 + $1.shift : $0 }
            switch kind(series: index) {
            case .gauge:
                let wave = sin(2 * Double.pi * Double(point) / period + phase)
                out.append(scale * (1 + 0.3 * wave) + scale * 0.05 * random.nextGaussian() + shift)
            case .counter:
                total += max(0, (scale * (1 + 0.2 * random.nextGaussian())).rounded() + shift)
                out.append(total)
            }
        }
        return out
    }

    /// `series` series of `points` points each, in columns.
    public func batch(series: Int, points: Int, source: String = "generator") -> SignalBatch {
        let timestamps = (0..<points).map { timestamp(point: $0).milliseconds }
        return SignalBatch(
            series: (0..<series).map {
                SeriesSamples(
                    labels: labels(series: $0), timestamps: timestamps, values: values(series: $0, points: points))
            },
            source: source)
    }

    /// The samples of `batch(series:points:)`, in scrape order: every series at the first
    /// point, then every series at the next.
    public func samples(series: Int, points: Int) -> [Sample] {
        let columns = (0..<series).map { values(series: $0, points: points) }
        let labelSets = (0..<series).map { labels(series: $0) }
        var out: [Sample] = []
        out.reserveCapacity(series * points)
        for point in 0..<points {
            let time = timestamp(point: point)
            for index in 0..<series {
                out.append(Sample(labels: labelSets[index], timestamp: time, value: columns[index][point]))
            }
        }
        return out
    }

    /// The samples of `samples(series:points:)` in the Prometheus text exposition
    /// format, with `# HELP` and `# TYPE` lines and explicit timestamps.
    public func exposition(series: Int, points: Int = 1) -> String {
        var out = ""
        var described: Set<String> = []
        for sample in samples(series: series, points: points) {
            let name = sample.labels.name ?? ""
            if described.insert(name).inserted {
                out += "# HELP \(name) Generated by SignalGenerator.\n"
                out += "# TYPE \(name) \(name.hasSuffix("_total") ? "counter" : "gauge")\n"
            }
            let rest = sample.labels.pairs.filter { $0.name != Labels.metricName }
            out += name
            if !rest.isEmpty {
                out += "{" + rest.map { "\($0.name)=\"\(Labels.escape($0.value))\"" }.joined(separator: ",") + "}"
            }
            out += " \(sample.value) \(sample.timestamp.milliseconds)\n"
        }
        return out
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
