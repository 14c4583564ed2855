import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import SeismoCore
import SeismoPipeline
import SeismoWire

/// The `prometheus_scrape` collector: every `scrape_interval` it refreshes discovery
/// (static targets, `file_sd` files that changed, Kubernetes at its refresh interval),
/// builds the targets, scrapes them all concurrently (each within `scrape_timeout`, the
/// body bounded by `body_size_limit`), and emits one batch per target: its samples, stale
/// markers for vanished series, and `up` / `scrape_*`. A target that leaves discovery gets
/// stale markers for all its series.
public struct ScrapeSource: LiveCollectorSource {
    public let name: String
    public let spec: ScrapeSpec
    private let relabeler: Relabeler
    private let metricRelabeler: Relabeler
    private let rounds: RoundClock
    private let logger: Logger

    /// Throws `.invalidSpec` for a relabel regex that does not compile.
    public init(name: String, spec: ScrapeSpec, clock: some Clock<Duration> = ContinuousClock(), logger: Logger) throws(CollectError) {
        self.name = name
        self.spec = spec
        relabeler = try Relabeler(spec.relabelConfigs)
        metricRelabeler = try Relabeler(spec.metricRelabelConfigs)
        rounds = RoundClock(clock)
        self.logger = logger
    }

    /// The `Accept` header: text 0.0.4 first (what `curl` shows), OpenMetrics accepted.
    static let accept = "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.75,*/*;q=0.1"

    public func run(emit: @escaping @Sendable (SourceBatch) -> Bool) async throws {
        let client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(redirectConfiguration: .follow(max: 5, allowCycles: false)))
        var discovery = ScrapeDiscovery(spec: spec, logger: logger)
        do {
            try await loop(HTTPFetch(client: client), discovery: &discovery, emit: emit)
        } catch {
            await discovery.shutdown()
            try? await client.shutdown()
            throw error
        }
        await discovery.shutdown()
        try? await client.shutdown()
    }

    private func loop(
        _ fetch: HTTPFetch, discovery: inout ScrapeDiscovery, emit: @escaping @Sendable (SourceBatch) -> Bool
    ) async throws {
        let dims = [("collector", name)]
        let durations = Metrics.Timer(label: "seismo_scrape_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        let failures = Counter(label: "seismo_collector_errors_total", dimensions: dims)
        let targetsGauge = Gauge(label: "seismo_scrape_targets", dimensions: dims)
        var loops: [ScrapeTarget: ScrapeLoopState] = [:]
        var lastFailure: [ScrapeTarget: String] = [:]
        while !Task.isCancelled {
            let started = rounds.elapsed()
            let groups = await discovery.refresh(now: started, fetch: fetch)
            let built = TargetBuilder.build(groups, spec: spec, relabeler: relabeler)
            for problem in built.invalid.prefix(5) { logger.warning("skipped a target: \(problem)") }
            targetsGauge.record(built.targets.count)
            let now = Timestamp.now
            let current = Set(built.targets)
            for (target, var state) in loops where !current.contains(target) {
                _ = emit(SourceBatch(time: now, samples: state.end(at: now)))
                loops[target] = nil
                lastFailure[target] = nil
            }
            let outcomes = await withTaskGroup(of: (ScrapeTarget, ScrapeOutcome, Timestamp, Duration).self) { group in
                for target in built.targets {
                    group.addTask { await scrape(target, fetch) }
                }
                var out: [(ScrapeTarget, ScrapeOutcome, Timestamp, Duration)] = []
                for await result in group { out.append(result) }
                return out
            }
            if Task.isCancelled { return }
            for (target, outcome, time, duration) in outcomes {
                var state =
                    loops[target]
                    ?? ScrapeLoopState(
                        target: target, honorLabels: spec.honorLabels, honorTimestamps: spec.honorTimestamps,
                        sampleLimit: spec.sampleLimit, metricRelabeler: metricRelabeler)
                let report = state.process(outcome, time: time, duration: duration, interval: spec.interval)
                loops[target] = state
                durations.recordNanoseconds(duration.nanoseconds)
                if let failure = report.failure {
                    failures.increment()
                    if lastFailure[target] != failure {
                        logger.warning("scrape of \(target.url) failed: \(failure)")
                    }
                }
                lastFailure[target] = report.failure
                if !report.parseIssues.isEmpty {
                    failures.increment(by: report.parseIssues.count)
                    logger.debug("\(report.parseIssues.count) bad line(s) from \(target.url), first: \(report.parseIssues[0])")
                }
                _ = emit(SourceBatch(time: time, samples: report.samples))
            }
            try await rounds.waitForNextRound(started: started, interval: spec.interval)
        }
    }

    /// One scrape: its outcome, start time and duration.
    private func scrape(_ target: ScrapeTarget, _ fetch: HTTPFetch) async -> (ScrapeTarget, ScrapeOutcome, Timestamp, Duration) {
        let time = Timestamp.now
        let started = rounds.elapsed()
        let headers = [
            ("Accept", Self.accept), ("User-Agent", "seismo-scrape"),
            ("X-Prometheus-Scrape-Timeout-Seconds", String(Double(spec.timeout.milliseconds) / 1000)),
        ]
        let outcome: ScrapeOutcome
        do {
            let response = try await fetch.get(target.url, headers: headers, timeout: spec.timeout, limit: spec.bodySizeLimit)
            if response.status / 100 != 2 {
                outcome = .failed(HTTPFetch.Failure.status(response.status).description)
            } else {
                let format = ExpositionParser.Format(contentType: response.contentType)
                outcome = .parsed(ExpositionParser.parse(response.body, defaultTimestamp: time, format: format))
            }
        } catch {
            outcome = .failed(error.description)
        }
        return (target, outcome, time, rounds.elapsed() - started)
    }
}

/// The discovery mechanisms of one scrape job, refreshed before each round.
struct ScrapeDiscovery: Sendable {
    var staticGroups: [TargetGroup]
    var files: [FileDiscovery]
    var kubernetes: [KubernetesDiscovery]
    /// One API client per `kubernetes_sd_configs` entry; nil when its credentials failed.
    let apis: [KubernetesAPI?]
    let logger: Logger

    init(spec: ScrapeSpec, logger: Logger) {
        staticGroups = spec.staticConfigs.enumerated().map { TargetGroup(source: "static/\($0.offset)", spec: $0.element) }
        files = spec.fileSD.map(FileDiscovery.init(spec:))
        kubernetes = spec.kubernetesSD.map(KubernetesDiscovery.init(spec:))
        apis = spec.kubernetesSD.map { sd in
            do {
                let credentials = try KubernetesCredentials.resolve(
                    sd, environment: ProcessInfo.processInfo.environment,
                    readFile: { FileManager.default.contents(atPath: $0).map(Array.init) })
                return try KubernetesAPI(credentials: credentials)
            } catch {
                logger.error("kubernetes_sd: \(error)")
                return nil
            }
        }
        self.logger = logger
    }

    mutating func refresh(now: Duration, fetch: HTTPFetch) async -> [TargetGroup] {
        var groups = staticGroups
        for index in files.indices {
            let (found, errors) = files[index].check(now: now)
            for error in errors { logger.warning("file_sd: \(error)") }
            groups += found
        }
        for index in kubernetes.indices {
            let (found, error) = await kubernetes[index].refresh(now: now, api: apis[index])
            if let error { logger.warning("kubernetes_sd: \(error)") }
            groups += found
        }
        return groups
    }

    func shutdown() async {
        for api in apis { await api?.shutdown() }
    }
}
