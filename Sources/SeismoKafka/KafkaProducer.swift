import CRdKafka
import Logging
import SeismoCore
import ServiceLifecycle
import Synchronization

/// An asynchronous Kafka producer over librdkafka.
///
/// Records are enqueued without blocking and batched by librdkafka (`linger`,
/// `batchRecords`, `compression`). Delivery reports arrive on librdkafka's background
/// thread and complete the `DeliveryBatch` they belong to, so no task has to poll.
///
/// ```swift
/// let producer = try KafkaProducer(configuration: .init(bootstrapServers: brokers))
/// let reports = try await producer.send(records)     // waits for the broker's acks
/// try await producer.shutdown()                        // flushes, then closes
/// ```
///
/// As a `Service`, it runs until graceful shutdown and then flushes and closes.
/// librdkafka handles are thread-safe; all mutable Swift state is behind a `Mutex` or atomic.
public final class KafkaProducer: Service, @unchecked Sendable {
    private let owner: ProducerOwner
    private let handle: OpaquePointer
    private let configuration: KafkaProducerConfiguration
    private let topics: Mutex<[String: OpaquePointer]> = Mutex([:])
    private let closed = Atomic<Bool>(false)

    /// Creates the producer. Throws `.configuration` for a rejected setting.
    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "seismo.kafka.producer"))
        throws(KafkaError)
    {
        self.configuration = configuration
        owner = ProducerOwner(logger: logger)
        handle = try makeHandle(type: RD_KAFKA_PRODUCER, properties: configuration.rdkafkaProperties, owner: owner) {
            conf in
            rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR))
            rd_kafka_conf_set_background_event_cb(conf, producerEventTrampoline)
        }
        // Route delivery reports and errors from the main queue to the background thread.
        let main = rd_kafka_queue_get_main(handle)
        let background = rd_kafka_queue_get_background(handle)
        rd_kafka_queue_forward(main, background)
        rd_kafka_queue_destroy(main)
        rd_kafka_queue_destroy(background)
    }

    deinit {
        if !closed.load(ordering: .acquiring) {
            destroyHandle()
        }
    }

    /// Enqueues `records` and returns at once; await the batch for the broker's reports.
    /// Throws `.queueFull` when the local queue has no room for every record (records
    /// before the first that did not fit are enqueued; their reports still arrive).
    @discardableResult
    public func enqueue(_ records: [ProducerRecord]) throws(KafkaError) -> DeliveryBatch {
        let batch = DeliveryBatch(records: records)
        let failedAt = try produce(records, into: batch, from: 0)
        if let failedAt {
            batch.fail(from: failedAt, KafkaError(.queueFull, "producer queue full (\(configuration.queueRecords) records)"))
            throw KafkaError(.queueFull, "producer queue full: \(failedAt) of \(records.count) records enqueued")
        }
        return batch
    }

    /// Enqueues `records`, waiting for room while the local queue is full (up to
    /// `queueFullTimeout`), then waits for every delivery report. Reports are in the
    /// order of `records`; a record that failed carries its error.
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) -> [DeliveryReport] {
        try await sendBatch(records).reports()
    }

    /// Like `send`, but returns the batch once every record is enqueued, so callers can
    /// pipeline several batches and await their reports later.
    public func sendBatch(_ records: [ProducerRecord]) async throws(KafkaError) -> DeliveryBatch {
        let batch = DeliveryBatch(records: records)
        var next = 0
        let deadline = ContinuousClock.now + configuration.queueFullTimeout
        var backoff = Duration.microseconds(200)
        while let failedAt = try produce(records, into: batch, from: next) {
            next = failedAt
            if ContinuousClock.now >= deadline || Task.isCancelled {
                let error = KafkaError(
                    .queueFull, "producer queue still full after \(configuration.queueFullTimeout)")
                batch.fail(from: failedAt, error)
                throw error
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .milliseconds(20))
        }
        return batch
    }

    /// Waits until every enqueued record has a delivery report, up to `timeout`.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let deadline = ContinuousClock.now + timeout
        while rd_kafka_outq_len(handle) > 0 {
            if ContinuousClock.now >= deadline {
                throw KafkaError(
                    .timedOut, "flush timed out with \(rd_kafka_outq_len(handle)) records still in flight")
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Flushes, then releases the client. Further sends throw `.closed`.
    public func shutdown(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        defer { close() }
        try await flush(timeout: timeout)
    }

    /// Runs until graceful shutdown, then flushes and closes.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Records waiting in librdkafka's queues (not yet acknowledged).
    public var inFlight: Int { Int(rd_kafka_outq_len(handle)) }

    /// The fatal error that stopped the producer, if any (e.g. an idempotence violation).
    public var fatalError: KafkaError? { owner.fatal.withLock { $0 } }

    private func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            destroyHandle()
        }
    }

    private func destroyHandle() {
        topics.withLock { topics in
            for (_, topic) in topics { rd_kafka_topic_destroy(topic) }
            topics.removeAll()
        }
        rd_kafka_destroy(handle)
    }

    private func topicHandle(_ name: String) -> OpaquePointer? {
        topics.withLock { topics in
            if let existing = topics[name] { return existing }
            guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
            topics[name] = created
            return created
        }
    }

    /// Produces `records[start...]`; returns the index of the first record that did not
    /// fit in the queue, or nil when all were enqueued. Other errors fail that record's
    /// report and go on.
    private func produce(_ records: [ProducerRecord], into batch: DeliveryBatch, from start: Int) throws(KafkaError)
        -> Int?
    {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "producer is closed") }
        if let fatal = fatalError { throw fatal }
        var index = start
        var cachedName: String?
        var cachedTopic: OpaquePointer?
        while index < records.count {
            let record = records[index]
            if record.topic != cachedName {
                cachedName = record.topic
                cachedTopic = topicHandle(record.topic)
            }
            guard let topic = cachedTopic else {
                batch.fail(index, KafkaError(.configuration, "invalid topic name \(record.topic.debugDescription)"))
                index += 1
                continue
            }
            let err = produceOne(record, topic: topic, opaque: batch.slot(index))
            if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { return index }
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                batch.fail(index, KafkaError(rdkafka: err, "cannot produce to \(record.topic)"))
            }
            index += 1
        }
        return nil
    }

    private func produceOne(_ record: ProducerRecord, topic: OpaquePointer, opaque: UnsafeMutableRawPointer)
        -> rd_kafka_resp_err_t
    {
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7 + record.headers.count) { vus in
            vus.initialize(repeating: rd_kafka_vu_t())
            vus[0].vtype = RD_KAFKA_VTYPE_RKT
            vus[0].u.rkt = topic
            vus[1].vtype = RD_KAFKA_VTYPE_PARTITION
            vus[1].u.i32 = record.partition ?? RD_KAFKA_PARTITION_UA
            vus[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
            vus[2].u.i = RD_KAFKA_MSG_F_COPY
            vus[3].vtype = RD_KAFKA_VTYPE_OPAQUE
            vus[3].u.ptr = opaque
            vus[4].vtype = RD_KAFKA_VTYPE_TIMESTAMP
            vus[4].u.i64 = record.timestamp ?? 0
            return withOptionalBytes(record.key) { key in
                withOptionalBytes(record.value) { value in
                    vus[5].vtype = RD_KAFKA_VTYPE_KEY
                    vus[5].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                    vus[5].u.mem.size = key.count
                    vus[6].vtype = RD_KAFKA_VTYPE_VALUE
                    vus[6].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    vus[6].u.mem.size = value.count
                    return withHeaders(record.headers, 0, vus, 7)
                }
            }
        }
    }

    /// Adds header `index` and the rest (their strings must stay alive for the call),
    /// then produces.
    private func withHeaders(
        _ headers: [KafkaHeader], _ index: Int, _ vus: UnsafeMutableBufferPointer<rd_kafka_vu_t>, _ count: Int
    ) -> rd_kafka_resp_err_t {
        if index == headers.count {
            guard let error = rd_kafka_produceva(handle, vus.baseAddress, count) else {
                return RD_KAFKA_RESP_ERR_NO_ERROR
            }
            let code = rd_kafka_error_code(error)
            rd_kafka_error_destroy(error)
            return code
        }
        let header = headers[index]
        return header.key.withCString { name in
            withOptionalBytes(header.value) { value in
                vus[count].vtype = RD_KAFKA_VTYPE_HEADER
                vus[count].u.header.name = name
                vus[count].u.header.val = UnsafeRawPointer(value.baseAddress)
                vus[count].u.header.size = header.value == nil ? -1 : value.count
                return withHeaders(headers, index + 1, vus, count + 1)
            }
        }
    }
}

@inline(__always)
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let bytes { return bytes.withUnsafeBytes(body) }
    return body(UnsafeRawBufferPointer(start: nil, count: 0))
}

/// The reports of one `enqueue`/`send` call, completed by librdkafka's background thread.
/// Its slots are written once at init and only read afterwards.
public final class DeliveryBatch: @unchecked Sendable {
    private struct State {
        var reports: [DeliveryReport]
        var remaining: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>
    /// One slot per record: the per-message opaque points at its slot.
    private let slots: UnsafeMutablePointer<Slot>
    private let count: Int

    struct Slot {
        var batch: Unmanaged<DeliveryBatch>
        var index: Int
    }

    init(records: [ProducerRecord]) {
        count = records.count
        state = Mutex(
            State(
                reports: records.map { DeliveryReport(topic: $0.topic, partition: $0.partition ?? -1, offset: -1) },
                remaining: records.count))
        slots = .allocate(capacity: max(1, records.count))
        for i in 0..<records.count {
            (slots + i).initialize(to: Slot(batch: Unmanaged.passUnretained(self), index: i))
        }
        if !records.isEmpty {
            // Kept alive by librdkafka's pending messages until the last report.
            _ = Unmanaged.passRetained(self)
        }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func slot(_ index: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(slots + index) }

    /// The number of records in the batch.
    public var recordCount: Int { count }

    /// True when every record has a report.
    public var isComplete: Bool { state.withLock { $0.remaining == 0 } }

    /// Waits for every record's report; they are in the order the records were given.
    public func reports() async -> [DeliveryReport] {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.remaining == 0 { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
        return state.withLock { $0.reports }
    }

    /// Waits for every report and throws the first failure, if any.
    public func confirm() async throws(KafkaError) {
        for report in await reports() {
            if let error = report.error { throw error }
        }
    }

    func complete(_ index: Int, partition: Int32, offset: Int64, error: KafkaError?) {
        let (waiters, finished) = state.withLock { state -> ([CheckedContinuation<Void, Never>], Bool) in
            guard state.reports[index].offset == -1, state.reports[index].error == nil else { return ([], false) }
            state.reports[index].partition = partition
            state.reports[index].offset = error == nil ? offset : -1
            state.reports[index].error = error
            state.remaining -= 1
            guard state.remaining == 0 else { return ([], false) }
            defer { state.waiters = [] }
            return (state.waiters, true)
        }
        for waiter in waiters { waiter.resume() }
        if finished { Unmanaged.passUnretained(self).release() }
    }

    func fail(_ index: Int, _ error: KafkaError) {
        complete(index, partition: -1, offset: -1, error: error)
    }

    func fail(from index: Int, _ error: KafkaError) {
        for i in index..<count { fail(i, error) }
    }
}

final class ProducerOwner: HandleOwner, @unchecked Sendable {
    let fatal = Mutex<KafkaError?>(nil)
}

/// Receives delivery reports and errors on librdkafka's background thread.
let producerEventTrampoline: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeMutableRawPointer?) -> Void = {
    handle, event, _ in
    guard let handle, let event else { return }
    defer { rd_kafka_event_destroy(event) }
    switch rd_kafka_event_type(event) {
    case Int32(RD_KAFKA_EVENT_DR):
        while let message = rd_kafka_event_message_next(event) {
            guard let opaque = message.pointee._private else { continue }
            let slot = opaque.assumingMemoryBound(to: DeliveryBatch.Slot.self).pointee
            let err = message.pointee.err
            let error: KafkaError? =
                err == RD_KAFKA_RESP_ERR_NO_ERROR
                ? nil
                : KafkaError(rdkafka: err, "delivery to \(String(cString: rd_kafka_topic_name(message.pointee.rkt)))")
            slot.batch.takeUnretainedValue().complete(
                slot.index, partition: message.pointee.partition, offset: message.pointee.offset, error: error)
        }
    case Int32(RD_KAFKA_EVENT_ERROR):
        guard let opaque = rd_kafka_opaque(handle) else { return }
        let owner = Unmanaged<ProducerOwner>.fromOpaque(opaque).takeUnretainedValue()
        let err = rd_kafka_event_error(event)
        let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
        if rd_kafka_event_error_is_fatal(event) != 0 {
            var buffer = [CChar](repeating: 0, count: 512)
            let fatalCode = rd_kafka_fatal_error(handle, &buffer, buffer.count)
            let error = KafkaError(.fatal, "fatal producer error: \(String(cBuffer: buffer))", rdkafkaCode: fatalCode.rawValue)
            owner.fatal.withLock { $0 = error }
            owner.logger.critical("\(error)")
        } else {
            owner.logger.warning("Kafka producer error: \(text)", metadata: ["code": "\(err.rawValue)"])
        }
    default:
        break
    }
}
