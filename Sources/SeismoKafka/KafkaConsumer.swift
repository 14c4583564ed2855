import CRdKafka
import Logging
import SeismoCore
import Synchronization

/// What one `poll` returns: records, or a change of the partitions this consumer owns.
public enum ConsumerEvent: Sendable, Hashable {
    /// Records in partition order; empty when the poll timed out.
    case records([ConsumerRecord])
    /// The group gave this consumer these partitions (already assigned).
    case partitionsAssigned([TopicPartition])
    /// The group is taking these partitions away. They stay assigned until the next
    /// `poll`, so the caller can flush state and commit their offsets first.
    case partitionsRevoked([TopicPartition])
}

/// Where reading a partition starts.
public enum StartOffset: Sendable, Hashable {
    case beginning
    case end
    /// The group's committed offset, or `offsetReset` when there is none.
    case committed
    case offset(Int64)

    var rawValue: Int64 {
        switch self {
        case .beginning: Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: Int64(RD_KAFKA_OFFSET_END)
        case .committed: Int64(RD_KAFKA_OFFSET_STORED)
        case .offset(let offset): offset
        }
    }
}

/// A Kafka consumer over librdkafka: group subscription with manual commits, or manual
/// assignment.
///
/// The owner drives it with `poll`. Rebalances come back from `poll` as events, in
/// order with the records: on `partitionsRevoked` the partitions are still this
/// consumer's until the next `poll`, so a worker can close its windows, store their
/// output and `commit` before another consumer takes over.
///
/// `poll` never blocks a thread: when there is nothing to return it suspends until
/// librdkafka signals that its queue has data, or until the timeout.
public final class KafkaConsumer: @unchecked Sendable {
    private let owner: ConsumerOwner
    private let handle: OpaquePointer
    private let queue: OpaquePointer
    private let closed = Atomic<Bool>(false)
    private let logger: Logger

    /// Creates the consumer. Throws `.configuration` for a rejected setting.
    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "seismo.kafka.consumer"))
        throws(KafkaError)
    {
        self.logger = logger
        owner = ConsumerOwner(logger: logger)
        handle = try makeHandle(type: RD_KAFKA_CONSUMER, properties: configuration.rdkafkaProperties, owner: owner) {
            conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceTrampoline)
            rd_kafka_conf_set_error_cb(conf, consumerErrorTrampoline)
        }
        rd_kafka_poll_set_consumer(handle)
        // Without a group there is no consumer queue: records arrive on the main queue.
        queue = rd_kafka_queue_get_consumer(handle) ?? rd_kafka_queue_get_main(handle)
        rd_kafka_queue_cb_event_enable(
            queue, wakeSignalTrampoline, Unmanaged.passUnretained(owner.signal).toOpaque())
    }

    /// A consumer released without `close()` does not leave its group (a deinit must not
    /// wait on the group): the coordinator drops it after the session timeout.
    deinit {
        if !closed.load(ordering: .acquiring) {
            rd_kafka_queue_cb_event_enable(queue, nil, nil)
            rd_kafka_queue_destroy(queue)
            rd_kafka_destroy_flags(handle, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
        }
    }

    /// Joins the group and subscribes to `topics` (names, or regexes starting with `^`).
    public func subscribe(_ topics: [String]) throws(KafkaError) {
        let list = makePartitionList(topics.map { (TopicPartition($0, RD_KAFKA_PARTITION_UA), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_subscribe(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "subscribe to \(topics)") }
    }

    /// Reads exactly these partitions from these offsets, without group management.
    public func assign(_ partitions: [TopicPartition: StartOffset]) throws(KafkaError) {
        let list = makePartitionList(partitions.sorted { $0.key < $1.key }.map { ($0.key, $0.value.rawValue) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "assign") }
    }

    /// Returns the next records (up to `maxRecords`) or rebalance event, waiting up to
    /// `timeout`; `.records([])` when nothing arrived in time.
    public func poll(maxRecords: Int = 1000, timeout: Duration = .milliseconds(100)) async throws(KafkaError)
        -> ConsumerEvent
    {
        guard !closed.load(ordering: .acquiring) else { throw KafkaError(.closed, "consumer is closed") }
        completeDeliveredRevoke()
        let deadline = ContinuousClock.now + timeout
        let capacity = max(1, maxRecords)
        while true {
            if let event = owner.nextEvent() { return event }
            if let fatal = owner.fatal.withLock({ $0 }) { throw fatal }
            // The message pointers live on the stack: no heap buffer per poll.
            let (count, records) = try withUnsafeTemporaryAllocation(
                of: UnsafeMutablePointer<rd_kafka_message_t>?.self, capacity: capacity
            ) { buffer throws(KafkaError) -> (Int, [ConsumerRecord]) in
                let count = rd_kafka_consume_batch_queue(queue, 0, buffer.baseAddress, capacity)
                if count < 0 { throw KafkaError(rdkafka: rd_kafka_last_error(), "poll") }
                return (count, convert(UnsafeBufferPointer(rebasing: buffer[0..<count])))
            }
            if !records.isEmpty { return .records(records) }
            if count > 0 { continue }
            if owner.hasEvents { continue }
            let now = ContinuousClock.now
            if now >= deadline { return .records([]) }
            await owner.signal.wait(timeout: deadline - now)
        }
    }

    /// Commits `offsets` (for each partition, the next offset to read: last processed
    /// + 1, as Kafka defines it) and waits for the coordinator's answer.
    public func commit(_ offsets: [TopicPartition: Int64], timeout: Duration = .seconds(30)) async throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let events = EventQueue(handle: handle)
        let list = makePartitionList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit_queue(handle, list, events.queue, nil, nil)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "commit") }
        guard let event = await events.next(timeout: timeout) else {
            throw KafkaError(.timedOut, "commit not acknowledged within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let eventErr = rd_kafka_event_error(event)
        guard eventErr == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: eventErr, "commit") }
        for (tp, _, partitionErr) in topicPartitionOffsets(rd_kafka_event_topic_partition_list(event))
        where partitionErr != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rdkafka: partitionErr, "commit \(tp)")
        }
    }

    /// Commits offsets without waiting; failures are logged.
    public func commitAsync(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        guard !offsets.isEmpty else { return }
        let list = makePartitionList(offsets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let err = rd_kafka_commit(handle, list, 1)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "commit") }
    }

    /// The group's committed offsets for `partitions` (nil where none is committed).
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(10)) async throws(KafkaError)
        -> [TopicPartition: Int64?]
    {
        let entries = partitions
        return try await runBlocking { [self] () throws(KafkaError) -> [TopicPartition: Int64?] in
            let list = makePartitionList(entries.map { ($0, nil) })
            defer { rd_kafka_topic_partition_list_destroy(list) }
            let err = rd_kafka_committed(handle, list, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "committed offsets") }
            var out: [TopicPartition: Int64?] = [:]
            for (tp, offset, _) in topicPartitionOffsets(list) { out[tp] = offset >= 0 ? offset : nil }
            return out
        }
    }

    /// Moves the read position of an assigned partition.
    public func seek(_ partition: TopicPartition, to offset: StartOffset) throws(KafkaError) {
        let list = makePartitionList([(partition, offset.rawValue)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        if let error = rd_kafka_seek_partitions(handle, list, 0) {
            throw KafkaError(consuming: error, "seek \(partition)")
        }
        // With no timeout the seek is asynchronous: "in progress" is success.
        for (tp, _, err) in topicPartitionOffsets(list)
        where err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__IN_PROGRESS {
            throw KafkaError(rdkafka: err, "seek \(tp)")
        }
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "assignment") }
        defer { if let list { rd_kafka_topic_partition_list_destroy(list) } }
        return topicPartitionOffsets(list).map(\.0).sorted()
    }

    /// Lag of every assigned partition, from the consumer's position and the high
    /// watermark of its last fetch (no broker round trip).
    public func lag() throws(KafkaError) -> [PartitionLag] {
        let partitions = try assignment()
        let list = makePartitionList(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = rd_kafka_position(handle, list)
        return topicPartitionOffsets(list).map { tp, position, _ in
            var low: Int64 = -1
            var high: Int64 = -1
            let err = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high)
            return PartitionLag(
                topicPartition: tp, position: position >= 0 ? position : nil,
                highWatermark: err == RD_KAFKA_RESP_ERR_NO_ERROR && high >= 0 ? high : nil)
        }
    }

    /// Leaves the group and releases the client. Commit what must be kept first.
    ///
    /// The close is bounded by `timeout`: librdkafka's own close waits without limit for
    /// the group to let go, so when that takes longer the client is released without a
    /// group leave (the coordinator then drops the member after its session timeout).
    public func close(timeout: Duration = .seconds(30)) async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        owner.closing.store(true, ordering: .releasing)
        _ = try? await runBlocking { [self] () throws(KafkaError) in
            owner.completeRevoke(handle)
            rd_kafka_queue_cb_event_enable(queue, nil, nil)
            let finished = leaveGroup(within: timeout)
            rd_kafka_queue_destroy(queue)
            rd_kafka_destroy_flags(handle, finished ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE)
        }
    }

    /// Starts librdkafka's close on a queue of its own and serves that queue (rebalance
    /// callbacks included) until the close is done or `timeout` passes; true when done.
    private func leaveGroup(within timeout: Duration) -> Bool {
        let closeQueue = rd_kafka_queue_new(handle)
        defer { rd_kafka_queue_destroy(closeQueue) }
        if let error = rd_kafka_consumer_close_queue(handle, closeQueue) {
            logger.warning("consumer close: \(String(cString: rd_kafka_error_string(error)))")
            rd_kafka_error_destroy(error)
            return false
        }
        let deadline = ContinuousClock.now + timeout
        var messages = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: 64)
        while rd_kafka_consumer_closed(handle) == 0 {
            guard ContinuousClock.now < deadline else {
                logger.warning("consumer close did not finish within \(timeout); releasing the client without leaving the group")
                return false
            }
            let count = rd_kafka_consume_batch_queue(closeQueue, 100, &messages, messages.count)
            for index in 0..<max(0, count) { rd_kafka_message_destroy(messages[index]) }
        }
        return true
    }

    private func completeDeliveredRevoke() {
        owner.completeRevoke(handle, onlyIfDelivered: true)
    }

    private func convert(_ messages: UnsafeBufferPointer<UnsafeMutablePointer<rd_kafka_message_t>?>) -> [ConsumerRecord] {
        var records: [ConsumerRecord] = []
        records.reserveCapacity(messages.count)
        var lastTopicHandle: OpaquePointer?
        var topic = ""
        for case let message? in messages {
            defer { rd_kafka_message_destroy(message) }
            let m = message.pointee
            if m.rkt != lastTopicHandle {
                lastTopicHandle = m.rkt
                topic = String(cString: rd_kafka_topic_name(m.rkt))
            }
            if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    logger.warning(
                        "consumer error on \(topic)[\(m.partition)]: \(String(cString: rd_kafka_err2str(m.err)))")
                }
                continue
            }
            var headers: [KafkaHeader] = []
            var hdrs: OpaquePointer?
            if rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
                var index = 0
                var name: UnsafePointer<CChar>?
                var value: UnsafeRawPointer?
                var size = 0
                while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                    headers.append(KafkaHeader(name.map { String(cString: $0) } ?? "", bytes))
                    index += 1
                }
            }
            var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &timestampType)
            records.append(
                ConsumerRecord(
                    topic: topic, partition: m.partition, offset: m.offset,
                    key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
                    value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
                    headers: headers,
                    timestamp: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp))
        }
        return records
    }
}

/// An owned librdkafka partition list, handed between threads under a lock.
struct PartitionList: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
}

/// State the rebalance and error callbacks share with the consumer.
final class ConsumerOwner: HandleOwner, @unchecked Sendable {
    struct Rebalance {
        var events: [ConsumerEvent] = []
        /// A revocation whose unassign waits until the caller has seen the event.
        var deferredRevoke: PartitionList?
        var revokeDelivered = false
    }

    let signal = WakeSignal()
    let state = Mutex(Rebalance())
    let fatal = Mutex<KafkaError?>(nil)
    let closing = Atomic<Bool>(false)

    var hasEvents: Bool { state.withLock { !$0.events.isEmpty } }

    func nextEvent() -> ConsumerEvent? {
        state.withLock { state in
            guard !state.events.isEmpty else { return nil }
            let event = state.events.removeFirst()
            if case .partitionsRevoked = event { state.revokeDelivered = true }
            return event
        }
    }

    /// Performs a deferred unassign (all of it, or only once the caller saw the event).
    func completeRevoke(_ handle: OpaquePointer, onlyIfDelivered: Bool = false) {
        let list = state.withLock { state -> PartitionList? in
            guard let list = state.deferredRevoke, !onlyIfDelivered || state.revokeDelivered else { return nil }
            state.deferredRevoke = nil
            state.revokeDelivered = false
            state.events.removeAll { if case .partitionsRevoked = $0 { true } else { false } }
            return list
        }
        guard let list else { return }
        defer { rd_kafka_topic_partition_list_destroy(list.pointer) }
        unassign(handle, list.pointer)
    }

    func unassign(_ handle: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        if isCooperative(handle) {
            if let error = rd_kafka_incremental_unassign(handle, list) {
                logger.error("\(KafkaError(consuming: error, "incremental unassign"))")
            }
        } else {
            _ = rd_kafka_assign(handle, nil)
        }
    }
}

private func isCooperative(_ handle: OpaquePointer) -> Bool {
    guard let protocolName = rd_kafka_rebalance_protocol(handle) else { return false }
    return String(cString: protocolName) == "COOPERATIVE"
}

let rebalanceTrampoline:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
        UnsafeMutableRawPointer?
    ) -> Void = { handle, err, partitions, opaque in
        guard let handle, let opaque, let partitions else { return }
        let owner = Unmanaged<ConsumerOwner>.fromOpaque(opaque).takeUnretainedValue()
        let list = topicPartitionOffsets(partitions).map(\.0).sorted()
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if isCooperative(handle) {
                if let error = rd_kafka_incremental_assign(handle, partitions) {
                    owner.logger.error("\(KafkaError(consuming: error, "incremental assign"))")
                }
            } else {
                _ = rd_kafka_assign(handle, partitions)
            }
            owner.state.withLock { $0.events.append(.partitionsAssigned(list)) }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if owner.closing.load(ordering: .acquiring) {
                owner.unassign(handle, partitions)
                return
            }
            let copy = PartitionList(pointer: rd_kafka_topic_partition_list_copy(partitions))
            owner.state.withLock { state in
                if let previous = state.deferredRevoke { rd_kafka_topic_partition_list_destroy(previous.pointer) }
                state.deferredRevoke = copy
                state.revokeDelivered = false
                state.events.append(.partitionsRevoked(list))
            }
        default:
            owner.logger.error("rebalance failed: \(String(cString: rd_kafka_err2str(err)!))")
            _ = rd_kafka_assign(handle, nil)
        }
    }

let consumerErrorTrampoline: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?)
    -> Void = { handle, err, reason, opaque in
        guard let handle, let opaque else { return }
        let owner = Unmanaged<ConsumerOwner>.fromOpaque(opaque).takeUnretainedValue()
        let text = reason.map { String(cString: $0) } ?? ""
        if err == RD_KAFKA_RESP_ERR__FATAL.rawValue {
            var buffer = [CChar](repeating: 0, count: 512)
            let code = rd_kafka_fatal_error(handle, &buffer, buffer.count)
            owner.fatal.withLock {
                $0 = KafkaError(.fatal, "fatal consumer error: \(String(cBuffer: buffer))", rdkafkaCode: code.rawValue)
            }
        } else {
            owner.logger.warning("Kafka consumer: \(text)", metadata: ["code": "\(err)"])
        }
    }
