import SeismoCore

/// A collector: a source of signals that publishes to one topic.
public struct CollectorSpec: Sendable, Hashable {
    public var name: String
    /// The signal topic it publishes to.
    public var topic: String
    public var kind: Kind

    /// The collector types; the YAML `type:` picks one. Later issues add the real collectors.
    public enum Kind: Sendable, Hashable {
        case synthetic(SyntheticSpec)
        case file(FileReplaySpec)
        case prometheusScrape(ScrapeSpec)
        case host(HostSpec)
        case probe(ProbeSpec)
        case remoteWrite(RemoteWriteSpec)
        case otlp(OTLPSpec)
        case lokiPush(LokiPushSpec)
        case logs(LogsSpec)

        /// The YAML `type:` value.
        public var typeName: String {
            switch self {
            case .synthetic: "synthetic"
            case .file: "file"
            case .prometheusScrape: "prometheus_scrape"
            case .host: "host"
            case .probe: "probe"
            case .remoteWrite: "remote_write"
            case .otlp: "otlp"
            case .lokiPush: "loki_push"
            case .logs: "logs"
            }
        }
    }

    public init(name: String, topic: String, kind: Kind) {
        self.name = name
        self.topic = topic
        self.kind = kind
    }
}

/// Realistic service metrics with daily and weekly seasonality, noise, counters that
/// reset, and anomalies injected at declared or random times.
///
/// Each service has `instances` instances; each instance exposes:
/// - `http_requests_total{code="200"|"500"}` (counters; reset when the instance restarts),
/// - `http_request_duration_seconds` (a latency gauge),
/// - `process_cpu_usage` (a 0…1 gauge) and `process_resident_memory_bytes` (a gauge).
/// Every series carries `service`, `instance` and `job="synthetic"`.
public struct SyntheticSpec: Sendable, Hashable {
    public var seed: UInt64
    /// Event time of the first point; `nil` is the wall clock when the collector starts.
    public var start: Timestamp?
    /// Event-time distance between points of one series.
    public var step: Duration
    /// Event-time seconds per wall-clock second (a compressed time scale); `0` publishes as
    /// fast as the broker takes it.
    public var speed: Double
    /// Event-time length of the run; `nil` runs until stopped.
    public var duration: Duration?
    public var services: [String]
    public var instances: Int
    /// Relative amplitude of the daily cycle (0.3 = ±30 % around the mean).
    public var dailyAmplitude: Double
    /// Relative amplitude of the weekly cycle (weekends lower).
    public var weeklyAmplitude: Double
    /// Relative standard deviation of the noise.
    public var noise: Double
    /// Mean event time between instance restarts (counter resets); `nil` never restarts.
    public var restartEvery: Duration?
    public var anomalies: [AnomalyInjection]
    public var randomAnomalies: RandomAnomalies?
    /// Where the ground truth (every injected anomaly with its series and time range) is
    /// written as JSON, for backtests; `nil` writes none.
    public var groundTruthPath: String?

    public init(
        seed: UInt64 = 1, start: Timestamp? = nil, step: Duration = .seconds(10), speed: Double = 1,
        duration: Duration? = nil, services: [String] = ["api"], instances: Int = 2,
        dailyAmplitude: Double = 0.3, weeklyAmplitude: Double = 0.1, noise: Double = 0.05,
        restartEvery: Duration? = nil, anomalies: [AnomalyInjection] = [], randomAnomalies: RandomAnomalies? = nil,
        groundTruthPath: String? = nil
    ) {
        self.seed = seed
        self.start = start
        self.step = step
        self.speed = speed
        self.duration = duration
        self.services = services
        self.instances = instances
        self.dailyAmplitude = dailyAmplitude
        self.weeklyAmplitude = weeklyAmplitude
        self.noise = noise
        self.restartEvery = restartEvery
        self.anomalies = anomalies
        self.randomAnomalies = randomAnomalies
        self.groundTruthPath = groundTruthPath
    }
}

/// The named kinds of injected anomaly.
public enum AnomalyKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A short excursion up by `magnitude` × the series' typical level.
    case spike
    /// A short excursion down.
    case dip
    /// The level moves by `magnitude` × typical level for the duration.
    case levelShift = "level_shift"
    /// The level drifts linearly, reaching `magnitude` × typical level at the end.
    case trendDrift = "trend_drift"
    /// The noise is multiplied by `magnitude`.
    case varianceChange = "variance_change"
    /// The value stops changing.
    case stuckValue = "stuck_value"
    /// No samples are published.
    case missingData = "missing_data"
}

/// One anomaly injected at a declared time.
public struct AnomalyInjection: Sendable, Hashable {
    public var kind: AnomalyKind
    /// Offset from the collector's start (event time).
    public var at: Duration
    public var duration: Duration
    /// Relative size (see `AnomalyKind`).
    public var magnitude: Double
    /// The affected service; `nil` picks the first.
    public var service: String?
    /// The affected instance index; `nil` affects every instance of the service.
    public var instance: Int?
    /// The affected metric name; `nil` picks the latency gauge.
    public var metric: String?

    public init(
        kind: AnomalyKind, at: Duration, duration: Duration, magnitude: Double = 3, service: String? = nil,
        instance: Int? = nil, metric: String? = nil
    ) {
        self.kind = kind
        self.at = at
        self.duration = duration
        self.magnitude = magnitude
        self.service = service
        self.instance = instance
        self.metric = metric
    }
}

/// Anomalies placed at random (seeded) times, services and metrics.
public struct RandomAnomalies: Sendable, Hashable {
    /// Injections per day of event time.
    public var perDay: Double
    public var kinds: [AnomalyKind]
    public var duration: Duration
    public var magnitude: Double

    public init(perDay: Double, kinds: [AnomalyKind] = AnomalyKind.allCases, duration: Duration = .seconds(600), magnitude: Double = 3) {
        self.perDay = perDay
        self.kinds = kinds
        self.duration = duration
        self.magnitude = magnitude
    }
}

/// Replays a CSV or Prometheus exposition file.
public struct FileReplaySpec: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, CaseIterable { case csv, exposition }

    public var path: String
    public var format: Format
    /// Event-time seconds per wall-clock second; `0` replays as fast as possible.
    public var speed: Double
    /// Start again from the top at the end (timestamps shifted forward).
    public var loop: Bool

    public init(path: String, format: Format, speed: Double = 0, loop: Bool = false) {
        self.path = path
        self.format = format
        self.speed = speed
        self.loop = loop
    }
}
