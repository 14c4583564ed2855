import CRdKafka
import Dispatch
import Logging
import Synchronization

/// A one-slot wake-up latch between a librdkafka thread and one async waiter.
///
/// `fire()` is called from librdkafka threads when a queue becomes non-empty; `wait`
/// suspends until then or until the timeout. A fire with nobody waiting is remembered,
/// so no wake-up is lost; spurious wake-ups are possible and callers re-check.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func fire() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next `fire()`, after `timeout`, or at once if a fire is pending.
    func wait(timeout: Duration) async {
        if state.withLock({ state in
            defer { state.pending = false }
            return state.pending
        }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                // Always fire, even when cancelled, so that the waiter above returns.
                self.fire()
            }
            await group.next()
            group.cancelAll()
        }
    }
}

/// The C trampoline for `rd_kafka_queue_cb_event_enable`: its opaque is a `WakeSignal`.
let wakeSignalTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, opaque in
    guard let opaque else { return }
    Unmanaged<WakeSignal>.fromOpaque(opaque).takeUnretainedValue().fire()
}

/// A private librdkafka queue that an async task can await events from.
final class EventQueue: @unchecked Sendable {
    let queue: OpaquePointer
    private let signal = WakeSignal()

    /// Creates a queue on `handle` (`rd_kafka_queue_new`).
    init(handle: OpaquePointer) {
        queue = rd_kafka_queue_new(handle)
        rd_kafka_queue_cb_event_enable(queue, wakeSignalTrampoline, Unmanaged.passUnretained(signal).toOpaque())
    }

    /// Waits for the next event, up to `timeout`. The caller destroys the event.
    func next(timeout: Duration) async -> OpaquePointer? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let event = rd_kafka_queue_poll(queue, 0) { return event }
            let now = ContinuousClock.now
            if now >= deadline { return nil }
            await signal.wait(timeout: min(deadline - now, .milliseconds(250)))
        }
    }

    deinit {
        rd_kafka_queue_cb_event_enable(queue, nil, nil)
        rd_kafka_queue_destroy(queue)
    }
}

/// Runs a blocking librdkafka call on a dispatch thread, off the cooperative pool.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
    let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            do throws(KafkaError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}

/// Routes librdkafka's log lines to swift-log. Installed on every handle we create.
let logTrampoline: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
    handle, level, facility, message in
    guard let handle, let opaque = rd_kafka_opaque(handle) else { return }
    let owner = Unmanaged<HandleOwner>.fromOpaque(opaque).takeUnretainedValue()
    let text = message.map { String(cString: $0) } ?? ""
    let fac = facility.map { String(cString: $0) } ?? ""
    let swiftLevel: Logger.Level =
        switch level {
        case ...3: .error
        case 4: .warning
        case 5, 6: .info
        default: .debug
        }
    owner.logger.log(level: swiftLevel, "\(text)", metadata: ["rdkafka.facility": "\(fac)"])
}

/// The object whose unretained pointer is the `rd_kafka_t` opaque: it outlives the handle
/// and carries what callbacks need.
class HandleOwner: @unchecked Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

/// Creates an `rd_kafka_t` of `type` from `properties`, with logs routed to `owner.logger`.
/// `configure` may install more callbacks on the conf before the handle is created.
func makeHandle(
    type: rd_kafka_type_t, properties: [String: String], owner: HandleOwner,
    configure: (OpaquePointer) -> Void = { _ in }
) throws(KafkaError) -> OpaquePointer {
    let conf = try makeConf(properties)
    rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(owner).toOpaque())
    rd_kafka_conf_set_log_cb(conf, logTrampoline)
    configure(conf)
    var errbuf = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(type, conf, &errbuf, errbuf.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(.configuration, "cannot create Kafka client: \(String(cBuffer: errbuf))")
    }
    return handle
}

/// Converts a librdkafka partition list (borrowed) into Swift values.
func topicPartitionOffsets(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?)
    -> [(TopicPartition, Int64, rd_kafka_resp_err_t)]
{
    guard let list else { return [] }
    var out: [(TopicPartition, Int64, rd_kafka_resp_err_t)] = []
    out.reserveCapacity(Int(list.pointee.cnt))
    for i in 0..<Int(list.pointee.cnt) {
        let element = list.pointee.elems[i]
        out.append((TopicPartition(String(cString: element.topic), element.partition), element.offset, element.err))
    }
    return out
}

/// Builds a librdkafka partition list; the caller destroys it.
func makePartitionList(_ entries: [(TopicPartition, Int64?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
    let list = rd_kafka_topic_partition_list_new(Int32(max(1, entries.count)))!
    for (tp, offset) in entries {
        let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
        if let offset { element.pointee.offset = offset }
    }
    return list
}

extension String {
    /// Decodes a NUL-terminated C buffer filled by librdkafka.
    init(cBuffer buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
