import Logging
import Metrics
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle
import Synchronization

/// Settings of one stream worker.
public struct WorkerConfiguration: Sendable {
    public var pipeline: String
    /// The signal topics the worker consumes (with their partition counts and keys).
    public var topics: [TopicSpec]
    public var streams: [StreamSpec]
    /// Hand raw samples of selected series to the sink.
    public var storeRaw: Bool
    /// Records that cannot be decoded go here, with the reason in the `seismo-error` header.
    public var deadLetterTopic: String
    /// The longest time between two flushes (and offset commits) while records arrive.
    public var flushInterval: Duration
    /// Raw samples buffered before a flush is forced; bounds the worker's memory.
    public var maxBufferedSamples: Int
    /// Records per poll.
    public var pollBatch: Int
    /// Called after each flush that stored window outputs, with how long after the windows
    /// closed they became queryable and how many there were (benchmarks, tests).
    public var onFlush: (@Sendable (_ closeToStored: Duration, _ outputs: Int) -> Void)?

    public init(
        pipeline: String, topics: [TopicSpec], streams: [StreamSpec], storeRaw: Bool, deadLetterTopic: String,
        flushInterval: Duration = .milliseconds(500), maxBufferedSamples: Int = 200_000, pollBatch: Int = 2000
    ) {
        self.pipeline = pipeline
        self.topics = topics
        self.streams = streams
        self.storeRaw = storeRaw
        self.deadLetterTopic = deadLetterTopic
        self.flushInterval = flushInterval
        self.maxBufferedSamples = maxBufferedSamples
        self.pollBatch = pollBatch
        onFlush = nil
    }
}

/// A stream worker: one consumer of the pipeline's group, its partitions' windows, and the
/// commit protocol.
///
/// The loop polls records, decodes them, feeds every stream that reads their topic, and
/// sends records it cannot decode to the dead-letter topic. At each flush (when windows
/// close, when the raw buffer fills, or every `flushInterval`) it hands closed windows and
/// raw samples to the sink, waits until they are durable, waits for dead letters to be
/// acknowledged, and only then commits, per partition, the offset that `StreamWindows`
/// says every open window still needs. On revoke and on graceful shutdown it flushes the
/// windows that can close, commits, and drops the partitions' state.
public final class StreamWorker: Service, Sendable {
    public let id: Int
    private let configuration: WorkerConfiguration
    private let consumer: KafkaConsumer
    private let producer: KafkaProducer
    private let sink: any WindowSink
    private let logger: Logger
    private let metrics: WorkerMetrics
    private let consuming = Atomic<Bool>(false)

    /// True once the worker has subscribed and polls, until it stops.
    public var isConsuming: Bool { consuming.load(ordering: .relaxed) }

    public init(
        id: Int, configuration: WorkerConfiguration, consumer: KafkaConsumer, producer: KafkaProducer,
        sink: any WindowSink, logger: Logger = Logger(label: "seismo.worker")
    ) {
        self.id = id
        self.configuration = configuration
        self.consumer = consumer
        self.producer = producer
        self.sink = sink
        var logger = logger
        logger[metadataKey: "worker"] = "\(id)"
        self.logger = logger
        metrics = WorkerMetrics(worker: id)
    }

    public func run() async throws {
        do {
            try await consume()
        } catch {
            // Leave the group on every way out, so that the partitions move on at once.
            await consumer.close()
            throw error
        }
    }

    private func consume() async throws {
        try consumer.subscribe(configuration.topics.map(\.name))
        consuming.store(true, ordering: .relaxed)
        defer { consuming.store(false, ordering: .relaxed) }
        var loop = WorkerLoop(configuration: configuration)
        let start = ContinuousClock.now
        func now() -> Int64 { (ContinuousClock.now - start).milliseconds }
        var lastFlush = ContinuousClock.now
        var lastLagReport = ContinuousClock.now

        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let event: ConsumerEvent
            do {
                event = try await consumer.poll(maxRecords: configuration.pollBatch, timeout: .milliseconds(100))
            } catch {
                if error.code == .closed { break }
                throw error
            }
            switch event {
            case .partitionsAssigned(let partitions):
                loop.assign(partitions)
                metrics.assignedPartitions.record(loop.assignedPartitions.count)
                logger.info("assigned \(partitions.map(\.description).joined(separator: ", "))")
            case .partitionsRevoked(let partitions):
                let offsets = loop.committableOffsets(partitions)
                let outputs = loop.revoke(partitions, now: now())
                try await flush(&loop, closed: outputs, commit: offsets)
                metrics.assignedPartitions.record(loop.assignedPartitions.count)
                logger.info("revoked \(partitions.map(\.description).joined(separator: ", "))")
            case .records(let records):
                if !records.isEmpty {
                    loop.ingest(records, now: now(), metrics: metrics, logger: logger)
                }
                let closed = loop.advance(now: now())
                let due = ContinuousClock.now - lastFlush >= configuration.flushInterval
                if !closed.isEmpty || due || loop.bufferedSamples >= configuration.maxBufferedSamples
                    || !loop.deadLetters.isEmpty
                {
                    try await flush(&loop, closed: closed, commit: loop.committableOffsets(nil))
                    lastFlush = ContinuousClock.now
                }
            }
            if ContinuousClock.now - lastLagReport >= .seconds(1) {
                reportLag()
                lastLagReport = ContinuousClock.now
            }
        }

        // Graceful shutdown: close what can close, store it, commit, leave the group.
        let assigned = loop.assignedPartitions
        let offsets = loop.committableOffsets(assigned)
        let outputs = loop.revoke(assigned, now: now())
        try await flush(&loop, closed: outputs, commit: offsets)
        metrics.assignedPartitions.record(0)
        await consumer.close()
        logger.info("stopped")
    }

    /// Writes closed windows, then buffered raw samples, delivers dead letters, then commits.
    ///
    /// Windows go to the sink on their own, ahead of the raw samples of the same flush, so
    /// they are queryable without waiting for the larger raw write; the offsets are
    /// committed only after both.
    private func flush(_ loop: inout WorkerLoop, closed: [WindowOutput], commit offsets: [TopicPartition: Int64]) async throws {
        let closedAt = ContinuousClock.now
        let raw = loop.takeRaw()
        if !closed.isEmpty || !raw.isEmpty {
            let started = ContinuousClock.now
            if !closed.isEmpty {
                try await sink.write(WorkerFlush(outputs: closed), worker: id)
                configuration.onFlush?(ContinuousClock.now - closedAt, closed.count)
                metrics.windowOutputs.increment(by: Int64(closed.count))
                metrics.lateUpdates.increment(by: Int64(closed.count { $0.emission == .update }))
            }
            if !raw.isEmpty { try await sink.write(WorkerFlush(raw: raw), worker: id) }
            metrics.flushDuration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        }
        let letters = loop.takeDeadLetters()
        if !letters.isEmpty {
            let reports = try await producer.send(letters)
            if let failed = reports.first(where: { !$0.isDelivered }) {
                throw failed.error ?? KafkaError(.other, "dead letter not delivered")
            }
            metrics.deadLetters.increment(by: Int64(letters.count))
        }
        let changed = loop.offsetsToCommit(offsets)
        if !changed.isEmpty {
            do {
                try await consumer.commit(changed)
                loop.committed(changed)
            } catch {
                // A rebalance can refuse the commit; the next owner replays from the last
                // committed offset, and idempotent writes absorb the repeat.
                logger.warning("commit refused: \(error)")
            }
        }
    }

    private func reportLag() {
        guard let lags = try? consumer.lag() else { return }
        for lag in lags {
            guard let value = lag.lag else { continue }
            Gauge(
                label: "seismo_consumer_lag",
                dimensions: [("topic", lag.topicPartition.topic), ("partition", "\(lag.topicPartition.partition)")]
            ).record(value)
        }
    }
}

/// The worker's state between polls, apart from I/O: decoding, routing records to the
/// streams of their topic, the raw and dead-letter buffers, and offset bookkeeping.
struct WorkerLoop {
    let configuration: WorkerConfiguration
    private var decoder = SignalDecoder()
    /// Per topic, the indices of the streams that read it.
    private let streamsByTopic: [String: [Int]]
    private var windows: [StreamWindows]
    private var raw: [SeriesSamples] = []
    private(set) var bufferedSamples = 0
    private(set) var deadLetters: [ProducerRecord] = []
    /// Per partition, the next offset after the last record handled (for topics no stream reads).
    private var nextOffset: [TopicPartition: Int64] = [:]
    private var lastCommitted: [TopicPartition: Int64] = [:]
    private(set) var assignedPartitions: [TopicPartition] = []

    init(configuration: WorkerConfiguration) {
        self.configuration = configuration
        windows = configuration.streams.map { try! StreamWindows(stream: $0) }
        var byTopic: [String: [Int]] = [:]
        for (index, stream) in configuration.streams.enumerated() { byTopic[stream.topic, default: []].append(index) }
        streamsByTopic = byTopic
    }

    mutating func assign(_ partitions: [TopicPartition]) {
        for tp in partitions {
            if !assignedPartitions.contains(tp) { assignedPartitions.append(tp) }
            for index in streamsByTopic[tp.topic] ?? [] { windows[index].assign(tp.partition) }
        }
    }

    /// Flushes and drops the partitions' state; returns the outputs of windows that could close.
    mutating func revoke(_ partitions: [TopicPartition], now: Int64) -> [WindowOutput] {
        var outputs: [WindowOutput] = []
        for tp in partitions {
            for index in streamsByTopic[tp.topic] ?? [] {
                outputs += windows[index].revoke(tp.partition, now: now)
            }
            nextOffset[tp] = nil
            lastCommitted[tp] = nil
        }
        assignedPartitions.removeAll { partitions.contains($0) }
        return outputs
    }

    mutating func ingest(_ records: [ConsumerRecord], now: Int64, metrics: WorkerMetrics, logger: Logger) {
        var samples = 0
        for record in records {
            let tp = record.topicPartition
            nextOffset[tp] = record.offset + 1
            let streams = streamsByTopic[record.topic] ?? []
            defer {
                for index in streams { windows[index].recordDone(partition: record.partition, offset: record.offset, now: now) }
            }
            guard let batch = decode(record, logger: logger) else { continue }
            for series in batch.series {
                samples += series.count
                var selected = false
                for index in streams {
                    let counts = windows[index].ingest(series, partition: record.partition, offset: record.offset, now: now)
                    if counts.filtered < series.count { selected = true }
                    if counts.lateDropped > 0 { metrics.lateDropped.increment(by: Int64(counts.lateDropped)) }
                    if counts.lateUpdated > 0 { metrics.lateAccepted.increment(by: Int64(counts.lateUpdated)) }
                }
                if selected && configuration.storeRaw {
                    raw.append(series)
                    bufferedSamples += series.count
                }
            }
        }
        metrics.records.increment(by: Int64(records.count))
        metrics.samples.increment(by: Int64(samples))
    }

    /// The record's signals, or nil after queueing it as a dead letter.
    private mutating func decode(_ record: ConsumerRecord, logger: Logger) -> SignalBatch? {
        let contentType = record.header(WireHeaders.contentType)
        guard contentType == nil || contentType == WireHeaders.signalBatchV1 else {
            deadLetter(record, reason: "unsupported content-type \(contentType!)", logger: logger)
            return nil
        }
        guard let value = record.value, !value.isEmpty else {
            deadLetter(record, reason: "empty record", logger: logger)
            return nil
        }
        do {
            return try decoder.decode(value)
        } catch {
            deadLetter(record, reason: "undecodable signals: \(error)", logger: logger)
            return nil
        }
    }

    private mutating func deadLetter(_ record: ConsumerRecord, reason: String, logger: Logger) {
        logger.warning("dead letter \(record.topicPartition)@\(record.offset): \(reason)")
        var headers = record.headers
        headers.append(KafkaHeader(DeadLetter.reasonHeader, reason))
        headers.append(KafkaHeader(DeadLetter.topicHeader, record.topic))
        headers.append(KafkaHeader(DeadLetter.partitionHeader, "\(record.partition)"))
        headers.append(KafkaHeader(DeadLetter.offsetHeader, "\(record.offset)"))
        deadLetters.append(
            ProducerRecord(topic: configuration.deadLetterTopic, key: record.key, value: record.value, headers: headers))
    }

    mutating func advance(now: Int64) -> [WindowOutput] {
        var outputs: [WindowOutput] = []
        for index in windows.indices { outputs += windows[index].advance(now: now) }
        return outputs
    }

    /// For each partition (all assigned ones when nil), the offset safe to commit: the
    /// smallest that any stream reading its topic still needs.
    func committableOffsets(_ partitions: [TopicPartition]?) -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for tp in partitions ?? assignedPartitions {
            let streams = streamsByTopic[tp.topic] ?? []
            var offset = nextOffset[tp]
            for index in streams {
                guard let needed = windows[index].committableOffset(tp.partition) else { continue }
                offset = min(offset ?? needed, needed)
            }
            if let offset { result[tp] = offset }
        }
        return result
    }

    /// The offsets that moved since the last commit.
    func offsetsToCommit(_ offsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        offsets.filter { tp, offset in lastCommitted[tp].map { offset > $0 } ?? true }
    }

    mutating func committed(_ offsets: [TopicPartition: Int64]) {
        for (tp, offset) in offsets { lastCommitted[tp] = offset }
    }

    mutating func takeRaw() -> [SeriesSamples] {
        defer {
            raw = []
            bufferedSamples = 0
        }
        return raw
    }

    mutating func takeDeadLetters() -> [ProducerRecord] {
        defer { deadLetters = [] }
        return deadLetters
    }
}

/// Headers of a dead-letter record (its key, value and original headers are kept).
public enum DeadLetter {
    /// Why the record could not be processed.
    public static let reasonHeader = "seismo-error"
    public static let topicHeader = "seismo-source-topic"
    public static let partitionHeader = "seismo-source-partition"
    public static let offsetHeader = "seismo-source-offset"
}

/// The worker's own metrics (swift-metrics; `seismo run` exports them on `/metrics`).
struct WorkerMetrics: Sendable {
    let records: Counter
    let samples: Counter
    let windowOutputs: Counter
    let lateDropped: Counter
    let lateAccepted: Counter
    let lateUpdates: Counter
    let deadLetters: Counter
    let flushDuration: Metrics.Timer
    /// Partitions the worker owns now (the group's assignment, as rebalances change it).
    let assignedPartitions: Gauge

    init(worker: Int) {
        let dims = [("worker", "\(worker)")]
        records = Counter(label: "seismo_worker_records_total", dimensions: dims)
        samples = Counter(label: "seismo_worker_samples_total", dimensions: dims)
        windowOutputs = Counter(label: "seismo_worker_window_outputs_total", dimensions: dims)
        lateDropped = Counter(label: "seismo_worker_late_samples_total", dimensions: dims + [("action", "dropped")])
        lateAccepted = Counter(label: "seismo_worker_late_samples_total", dimensions: dims + [("action", "updated")])
        lateUpdates = Counter(label: "seismo_worker_window_updates_total", dimensions: dims)
        deadLetters = Counter(label: "seismo_worker_dead_letters_total", dimensions: dims)
        flushDuration = Metrics.Timer(label: "seismo_worker_flush_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        assignedPartitions = Gauge(label: "seismo_worker_assigned_partitions", dimensions: dims)
    }
}
