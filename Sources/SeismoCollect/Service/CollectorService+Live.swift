import Logging
import Metrics
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle

/// A source that runs by itself at its own pace (a scrape loop, a prober) and hands its
/// batches to the publisher, instead of being pulled in event-time order.
public protocol LiveCollectorSource: Sendable {
    /// Runs until cancelled; hands every batch to `emit`. `emit` returns false when the
    /// batch was dropped because the publisher's buffer was full (counted as dropped).
    func run(emit: @escaping @Sendable (SourceBatch) -> Bool) async throws
}

/// The clock a live source paces its rounds with: time since it was made, and sleeping
/// out the rest of a round.
struct RoundClock: Sendable {
    private let sleep: @Sendable (Duration) async throws -> Void
    let elapsed: @Sendable () -> Duration

    init(_ clock: some Clock<Duration>) {
        let origin = clock.now
        sleep = { try await clock.sleep(for: $0) }
        elapsed = { origin.duration(to: clock.now) }
    }

    /// Sleeps until `interval` after `started` (at once when the round took longer).
    func waitForNextRound(started: Duration, interval: Duration) async throws {
        let spent = elapsed() - started
        if spent < interval { try await sleep(interval - spent) }
    }
}

/// What a live source sends the publish loop.
enum LiveEvent: Sendable {
    case batch(SourceBatch)
    case stop
}

/// The swift-metrics instruments of one collector, labelled `collector=<name>`.
struct CollectorMetrics: Sendable {
    let received: Counter
    let published: Counter
    let dropped: Counter
    let errors: Counter

    init(collector: String) {
        let dims = [("collector", collector)]
        received = Counter(label: "seismo_collector_received_samples_total", dimensions: dims)
        published = Counter(label: "seismo_collector_published_samples_total", dimensions: dims)
        dropped = Counter(label: "seismo_collector_dropped_samples_total", dimensions: dims)
        errors = Counter(label: "seismo_collector_errors_total", dimensions: dims)
    }
}

extension CollectorService.Options {
    /// Batches a live source may have waiting for the publisher; when full, new batches are
    /// dropped and counted (a scrape is not worth blocking the next one for).
    static let liveBuffer = 64
}

extension CollectorService {
    /// The service of a live collector (`prometheus_scrape`, `host`, `probe`).
    static func live(
        spec: CollectorSpec, topic: TopicSpec, producer: KafkaProducer, clock: some Clock<Duration>, logger: Logger,
        options: Options
    ) -> CollectorService {
        let name = spec.name
        return CollectorService(
            name: name, topic: topic, speed: 0, producer: producer, clock: clock, logger: logger, options: options
        ) { [logger] in
            let source: any LiveCollectorSource
            switch spec.kind {
            case .prometheusScrape(let scrape):
                source = try ScrapeSource(name: name, spec: scrape, clock: clock, logger: logger)
            case .host(let host):
                source = HostSource(name: name, spec: host, clock: clock, logger: logger)
            case .probe(let probe):
                source = ProbeSource(name: name, spec: probe, clock: clock, logger: logger)
            default:
                throw CollectError(.invalidSpec, "not a live collector", context: spec.kind.typeName)
            }
            return OpenedSource(source: NoSource(), live: source)
        }
    }

    /// A service that publishes what `source` emits.
    public convenience init(
        name: String, live source: some LiveCollectorSource, topic: TopicSpec, producer: KafkaProducer,
        logger: Logger = Logger(label: "seismo.collect"), options: Options = Options()
    ) {
        self.init(
            name: name, topic: topic, speed: 0, producer: producer, clock: ContinuousClock(), logger: logger,
            options: options
        ) { OpenedSource(source: NoSource(), live: source) }
    }

    /// Runs `live` in a child task and publishes its batches until it ends, `stop()`,
    /// graceful shutdown or cancellation; batches already buffered are still published.
    func pumpLive(_ live: any LiveCollectorSource, batcher: SignalBatcher, inFlight: inout InFlight) async {
        let (events, continuation) = AsyncStream.makeStream(
            of: LiveEvent.self, bufferingPolicy: .bufferingOldest(Options.liveBuffer))
        liveEvents.withLock { $0 = continuation }
        defer { liveEvents.withLock { $0 = nil } }
        if shouldStop { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                do {
                    try await cancelWhenGracefulShutdown {
                        try await live.run { batch in
                            self.state.withLock { $0.receivedSamples += batch.samples.count }
                            self.metrics.received.increment(by: batch.samples.count)
                            if case .dropped = continuation.yield(.batch(batch)) {
                                self.state.withLock { $0.dropped += batch.samples.count }
                                self.metrics.dropped.increment(by: batch.samples.count)
                                return false
                            }
                            return true
                        }
                    }
                } catch is CancellationError {
                } catch {
                    if !Task.isCancelled {
                        self.state.withLock { $0.errors += 1 }
                        metrics.errors.increment()
                        logger.error("collector source failed: \(error)")
                    }
                }
                continuation.finish()
            }
            var iterator = events.makeAsyncIterator()
            while let event = await iterator.next() {
                guard case .batch(let batch) = event else { break }
                state.withLock {
                    $0.batches += 1
                    $0.lastEventTime = batch.time
                }
                if !batch.samples.isEmpty {
                    await publish(batch.samples, time: batch.time, batcher: batcher, inFlight: &inFlight)
                }
                if shouldStop { break }
            }
            group.cancelAll()
            // What the source emitted before it saw the cancellation is still published.
            while let event = await iterator.next() {
                guard case .batch(let batch) = event, !batch.samples.isEmpty else { continue }
                await publish(batch.samples, time: batch.time, batcher: batcher, inFlight: &inFlight)
            }
        }
    }
}

/// The pull source of a live collector: nothing.
struct NoSource: CollectorSource {
    mutating func next() -> SourceBatch? { nil }
}
