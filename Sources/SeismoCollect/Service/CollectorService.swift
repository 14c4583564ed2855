import Logging
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle
import Synchronization

/// Runs one collector: reads its source in event-time order, paces it against a clock,
/// encodes with `SignalBatcher` (partitioned by the topic's key labels) and produces to
/// Kafka, awaiting the broker's acknowledgement of every record.
///
/// Pacing: a batch at event time `t` is sent once `(t − first) / speed` has elapsed on the
/// clock; speed 0 sends as fast as the broker takes it. Batches that are already due are
/// sent together (up to `Options.maxSamplesPerSend`).
///
/// Back-pressure: at most `Options.maxInFlight` sends wait for acknowledgement; beyond
/// that the loop waits for the oldest. When the producer's queue is full the record waits
/// for room and is retried. A record the broker fails is retried up to
/// `Options.maxAttempts` times, then its samples are counted as `dropped`.
///
/// Stops at the end of the source (a synthetic run's `duration`, a file's end), at graceful
/// shutdown or on cancellation; in each case it waits for every record in flight before it
/// returns. The synthetic collector writes its ground truth (if asked) at start and at end.
public final class CollectorService: Service, Sendable {
    /// Tuning of the publish loop.
    public struct Options: Sendable, Hashable {
        /// Most samples in one Kafka record.
        public var maxSamplesPerRecord: Int
        /// Most samples sent together when several batches are due.
        public var maxSamplesPerSend: Int
        /// Most sends awaiting acknowledgement.
        public var maxInFlight: Int
        /// Attempts per record before its samples are dropped.
        public var maxAttempts: Int

        public init(maxSamplesPerRecord: Int = 1000, maxSamplesPerSend: Int = 10_000, maxInFlight: Int = 8, maxAttempts: Int = 5) {
            self.maxSamplesPerRecord = max(1, maxSamplesPerRecord)
            self.maxSamplesPerSend = max(1, maxSamplesPerSend)
            self.maxInFlight = max(1, maxInFlight)
            self.maxAttempts = max(1, maxAttempts)
        }
    }

    /// The collector's name (written as each batch's `source`).
    public let name: String
    public let topic: TopicSpec
    /// Event-time seconds per clock second; 0 does not wait.
    public let speed: Double

    private let open: @Sendable () throws -> OpenedSource
    private let producer: KafkaProducer
    private let makePacer: @Sendable () -> any Pacer
    let options: Options
    let logger: Logger
    let state = Mutex(CollectorStatistics())
    private let stopping = Atomic<Bool>(false)
    /// The events of a running live source (batches, and the stop request).
    let liveEvents = Mutex<AsyncStream<LiveEvent>.Continuation?>(nil)
    let metrics: CollectorMetrics

    /// The service for `spec`, publishing to `topic` (its partition count and key labels)
    /// through `producer`, paced by `clock`.
    public static func make(
        spec: CollectorSpec, topic: TopicSpec, producer: KafkaProducer, clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "seismo.collect"), options: Options = Options()
    ) -> CollectorService {
        var logger = logger
        logger[metadataKey: "collector"] = "\(spec.name)"
        switch spec.kind {
        case .synthetic(let synthetic):
            return CollectorService(
                name: spec.name, topic: topic, speed: synthetic.speed, producer: producer, clock: clock, logger: logger,
                options: options
            ) { [logger] in
                let source = try SyntheticSource(spec: synthetic, fallbackStart: .now)
                let path = synthetic.groundTruthPath
                if let path { try source.writeGroundTruth(to: path) }
                logger.info(
                    "synthetic collector starts",
                    metadata: [
                        "series": "\(source.seriesLabels.count)", "start": "\(Timestamp(milliseconds: source.start))",
                        "anomalies": "\(source.groundTruth.count)",
                    ])
                return OpenedSource(source: source) { last in
                    guard let path else { return }
                    let horizon = source.end ?? (last.map { $0 + 1 } ?? source.start)
                    try source.writeGroundTruth(to: path, before: horizon)
                }
            }
        case .file(let file):
            return CollectorService(
                name: spec.name, topic: topic, speed: file.speed, producer: producer, clock: clock, logger: logger,
                options: options
            ) { [logger] in
                let source = try FileReplaySource(spec: file)
                for issue in source.issues.prefix(20) {
                    logger.warning("skipped \(file.path):\(issue.line): \(issue.message)")
                }
                if source.issues.count > 20 {
                    logger.warning("skipped \(source.issues.count - 20) more line(s) of \(file.path)")
                }
                return OpenedSource(source: source, parseIssues: source.issues.count)
            }
        case .prometheusScrape, .host, .probe:
            return live(spec: spec, topic: topic, producer: producer, clock: clock, logger: logger, options: options)
        case .remoteWrite, .otlp, .lokiPush, .logs:
            preconditionFailure("a \(spec.kind.typeName) collector runs as its own service: use Collectors.service")
        }
    }

    /// A service that publishes `source`.
    public convenience init(
        name: String, source: some CollectorSource, speed: Double, topic: TopicSpec, producer: KafkaProducer,
        clock: some Clock<Duration> = ContinuousClock(), logger: Logger = Logger(label: "seismo.collect"),
        options: Options = Options()
    ) {
        self.init(
            name: name, topic: topic, speed: speed, producer: producer, clock: clock, logger: logger, options: options
        ) { OpenedSource(source: source) }
    }

    init(
        name: String, topic: TopicSpec, speed: Double, producer: KafkaProducer, clock: some Clock<Duration>,
        logger: Logger, options: Options, open: @escaping @Sendable () throws -> OpenedSource
    ) {
        self.name = name
        self.topic = topic
        self.speed = speed.isFinite ? max(0, speed) : 0
        self.producer = producer
        self.makePacer = { ClockPacer(clock: clock) }
        self.options = options
        self.logger = logger
        self.open = open
        self.metrics = CollectorMetrics(collector: name)
    }

    /// A snapshot of the counters.
    public var statistics: CollectorStatistics { state.withLock { $0 } }

    /// Asks the run to stop after the batch in hand; it still waits for records in flight.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        liveEvents.withLock { _ = $0?.yield(.stop) }
    }

    /// Publishes until the source ends, graceful shutdown or cancellation. Throws
    /// `CollectError` when the source cannot be opened or its end hook (ground truth) fails.
    public func run() async throws {
        let opened: OpenedSource
        do {
            opened = try open()
        } catch {
            state.withLock { $0.errors += 1 }
            metrics.errors.increment()
            logger.error("cannot start the collector: \(error)")
            throw error
        }
        state.withLock { $0.parseIssues = opened.parseIssues }
        var source = opened.source
        let batcher = SignalBatcher(
            partitionCount: Int32(clamping: max(1, topic.partitions)), maxSamplesPerRecord: options.maxSamplesPerRecord,
            source: name, keyLabels: topic.keyLabels)
        var inFlight = InFlight()

        await withGracefulShutdownHandler {
            if let live = opened.live {
                await pumpLive(live, batcher: batcher, inFlight: &inFlight)
            } else {
                await pump(&source, batcher: batcher, inFlight: &inFlight)
            }
            await drain(&inFlight)
        } onGracefulShutdown: { [weak self] in
            self?.stop()
        }

        let snapshot = statistics
        try opened.finish(snapshot.lastEventTime?.milliseconds)
        logger.info(
            "collector stopped",
            metadata: [
                "samples": "\(snapshot.publishedSamples)", "records": "\(snapshot.records)",
                "errors": "\(snapshot.errors)", "dropped": "\(snapshot.dropped)",
            ])
    }

    var shouldStop: Bool { stopping.load(ordering: .acquiring) || Task.isCancelled }

    /// Reads, paces and hands batches to the publisher.
    private func pump(_ source: inout any CollectorSource, batcher: SignalBatcher, inFlight: inout InFlight) async {
        let pacer = makePacer()
        var origin: Int64?
        var carry: SourceBatch?
        while !shouldStop {
            guard let first = carry ?? source.next() else { return }
            carry = nil
            let base = origin ?? first.time.milliseconds
            origin = base
            if speed > 0 {
                let due = Duration.milliseconds(Double(first.time.milliseconds - base) / speed)
                if pacer.elapsed() < due {
                    do {
                        try await cancelWhenGracefulShutdown { try await pacer.sleep(until: due) }
                    } catch {
                        return  // shutdown or cancellation: the batch is not sent
                    }
                    if shouldStop { return }
                }
            }
            // Everything else already due goes along, up to the size limit.
            var samples = first.samples
            var batches = 1
            var time = first.time
            while samples.count < options.maxSamplesPerSend, let next = source.next() {
                let due = speed > 0 ? Duration.milliseconds(Double(next.time.milliseconds - base) / speed) : .zero
                guard speed == 0 || pacer.elapsed() >= due else {
                    carry = next
                    break
                }
                guard samples.count + next.samples.count <= options.maxSamplesPerSend else {
                    carry = next
                    break
                }
                samples += next.samples
                batches += 1
                time = next.time
            }
            state.withLock {
                $0.batches += batches
                $0.lastEventTime = time
            }
            await publish(samples, time: time, batcher: batcher, inFlight: &inFlight)
        }
    }
}

/// A source opened by `run`, with what to do when the run ends.
struct OpenedSource: Sendable {
    var source: any CollectorSource
    var parseIssues = 0
    /// A source that runs by itself (scrapes, probes) instead of `source`.
    var live: (any LiveCollectorSource)? = nil
    var finish: @Sendable (_ lastEventTime: Int64?) throws -> Void = { _ in }
}

/// Records sent and awaiting acknowledgement, oldest first.
struct InFlight {
    struct Sent {
        var record: ProducerRecord
        var samples: Int
        var delivery: DeliveryBatch?
        var attempt: Int
    }

    var sends: [[Sent]] = []
}

extension CollectorService {
    /// Encodes and sends `samples`; first waits for the oldest send when
    /// `maxInFlight` are outstanding.
    func publish(_ samples: [Sample], time: Timestamp, batcher: SignalBatcher, inFlight: inout InFlight) async {
        while inFlight.sends.count >= options.maxInFlight {
            await settle(inFlight.sends.removeFirst())
        }
        let header = KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)
        var sent: [InFlight.Sent] = []
        for encoded in batcher.records(samples: samples) {
            let record = ProducerRecord(
                topic: topic.name, partition: encoded.partition, key: encoded.key, value: encoded.payload,
                headers: [header], timestamp: time.milliseconds)
            sent.append(await send(InFlight.Sent(record: record, samples: encoded.sampleCount, attempt: 0), inFlight: &inFlight))
        }
        inFlight.sends.append(sent)
    }

    /// Enqueues one record, waiting for room while the producer's queue is full (settling
    /// the oldest send, else backing off). A record that cannot be enqueued for another
    /// reason comes back without a delivery, to be counted when settled.
    private func send(_ item: InFlight.Sent, inFlight: inout InFlight) async -> InFlight.Sent {
        var item = item
        item.attempt += 1
        var backoff = Duration.milliseconds(5)
        while true {
            do {
                item.delivery = try await producer.sendBatch([item.record])
                return item
            } catch {
                if error.code == .queueFull, !Task.isCancelled {
                    logger.debug("producer queue full; waiting")
                    if !inFlight.sends.isEmpty {
                        await settle(inFlight.sends.removeFirst())
                    } else {
                        try? await Task.sleep(for: backoff)
                        backoff = min(backoff * 2, .milliseconds(500))
                    }
                    continue
                }
                logger.warning("cannot enqueue a record: \(error)")
                state.withLock { $0.errors += 1 }
                metrics.errors.increment()
                item.delivery = nil
                return item
            }
        }
    }

    /// Awaits the reports of one send; retries failed records up to `maxAttempts`.
    private func settle(_ sends: [InFlight.Sent]) async {
        for var item in sends {
            while true {
                let error: KafkaError?
                if let delivery = item.delivery {
                    error = await delivery.reports().first?.error
                    if let error {
                        state.withLock { $0.errors += 1 }
                        metrics.errors.increment()
                        logger.warning("record not delivered: \(error)")
                    }
                } else {
                    error = KafkaError(.other, "not enqueued")
                }
                guard let error else {
                    state.withLock {
                        $0.publishedSamples += item.samples
                        $0.records += 1
                    }
                    metrics.published.increment(by: item.samples)
                    break
                }
                let permanent: Set<KafkaError.Code> = [.closed, .fatal, .messageTooLarge, .configuration]
                if item.attempt >= options.maxAttempts || permanent.contains(error.code) || Task.isCancelled {
                    logger.error("dropping \(item.samples) sample(s) after \(item.attempt) attempt(s): \(error)")
                    state.withLock { $0.dropped += item.samples }
                    metrics.dropped.increment(by: item.samples)
                    break
                }
                try? await Task.sleep(for: .milliseconds(50 << min(item.attempt, 6)))
                var none = InFlight()
                item = await send(item, inFlight: &none)
            }
        }
    }

    /// Waits for every send in flight.
    private func drain(_ inFlight: inout InFlight) async {
        while !inFlight.sends.isEmpty { await settle(inFlight.sends.removeFirst()) }
    }
}
