import Foundation
import Logging
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle
import Synchronization

/// Where alert state is kept between runs (the store's `alert_state` table in `seismo run`).
public protocol AlertStatePersistence: Sendable {
    func load() async throws -> [UInt8]?
    func save(_ state: [UInt8]) async throws
}

/// Where alert records and dead letters are published (Kafka in `seismo run`).
public protocol AlertPublisher: Sendable {
    /// Publishes `(topic, key, value)` records, returning once they are acknowledged.
    func publish(_ records: [(topic: String, key: String, value: [UInt8])]) async throws
}

/// Publishes through a `KafkaProducer`.
public struct KafkaAlertPublisher: AlertPublisher {
    let producer: KafkaProducer

    public init(producer: KafkaProducer) { self.producer = producer }

    public func publish(_ records: [(topic: String, key: String, value: [UInt8])]) async throws {
        let reports = try await producer.send(
            records.map {
                ProducerRecord(
                    topic: $0.topic, key: Array($0.key.utf8), value: $0.value,
                    headers: [KafkaHeader(WireHeaders.contentType, "application/json")])
            })
        if let failed = reports.first(where: { !$0.isDelivered }) {
            throw failed.error ?? KafkaError(.other, "alert record not delivered")
        }
    }
}

/// What the pipeline hands to alerting after each flush: the windows it scored and the
/// anomalies found among them.
public struct AlertInput: Sendable {
    public var windows: [ScoredWindow]
    public var events: [AnomalyEvent]

    public init(windows: [ScoredWindow], events: [AnomalyEvent]) {
        self.windows = windows
        self.events = events
    }
}

/// Runs alerting: evaluates rules on each input, then flushes due notification groups to
/// receivers, resends to Alertmanagers, publishes fired and resolved alerts and dead
/// letters, and persists the state after every change. A round runs on every tick of
/// `clock`, and at once after an input that made a group due (so `group_wait: 0s` costs no
/// tick); persisting runs beside the rounds, at most once a tick, and never holds them up.
///
/// Input arrives through `submit`, into a buffer of `bufferCapacity` inputs; when it is full
/// the newest input is dropped and counted in `droppedInputs` (the anomalies themselves are
/// still stored and on the anomaly topic).
public final class AlertService<C: Clock>: Service, Sendable where C.Duration == Duration {
    public struct Configuration: Sendable {
        public var pipeline: String
        public var spec: AlertingSpec
        /// Dead letters go here.
        public var deadLetterTopic: String
        /// How often due notifications are looked for.
        public var tick: Duration
        public var bufferCapacity: Int
        /// Sent as the webhook's `externalURL` and Alertmanager's `generatorURL`.
        public var externalURL: String

        public init(
            pipeline: String, spec: AlertingSpec, deadLetterTopic: String, tick: Duration = .milliseconds(50),
            bufferCapacity: Int = 1_024, externalURL: String = "http://127.0.0.1:9464"
        ) {
            self.pipeline = pipeline
            self.spec = spec
            self.deadLetterTopic = deadLetterTopic
            self.tick = tick
            self.bufferCapacity = bufferCapacity
            self.externalURL = externalURL
        }
    }

    public let configuration: Configuration
    private let core: Mutex<AlertCore>
    private let clock: C
    private let wallTime: @Sendable () -> Int64
    private let persistence: (any AlertStatePersistence)?
    private let publisher: (any AlertPublisher)?
    private let evaluator: (any RuleEvaluator)?
    private let delivery: ReceiverDelivery<C>
    private let poster: HTTPPoster
    private let logger: Logger
    private let inputs: AsyncStream<AlertInput>
    private let continuation: AsyncStream<AlertInput>.Continuation
    private let dropped = Atomic<Int>(0)
    private let deadLettered = Atomic<Int>(0)
    private let dirty = Atomic<Bool>(false)
    /// Wakes the round loop: every tick, and after an input that made a group due.
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    public init(
        configuration: Configuration, clock: C, wallTime: @escaping @Sendable () -> Int64 = { Timestamp.now.milliseconds },
        persistence: (any AlertStatePersistence)?, publisher: (any AlertPublisher)?, evaluator: (any RuleEvaluator)? = nil,
        poster: HTTPPoster = HTTPPoster(), logger: Logger
    ) {
        self.configuration = configuration
        core = Mutex(AlertCore(pipeline: configuration.pipeline, spec: configuration.spec))
        self.clock = clock
        self.wallTime = wallTime
        self.persistence = persistence
        self.publisher = publisher
        self.evaluator = evaluator
        self.poster = poster
        self.logger = logger
        delivery = ReceiverDelivery(
            receivers: configuration.spec.receivers, poster: poster, clock: clock, externalURL: configuration.externalURL,
            logger: logger)
        let (stream, continuation) = AsyncStream.makeStream(
            of: AlertInput.self, bufferingPolicy: .bufferingOldest(max(1, configuration.bufferCapacity)))
        inputs = stream
        self.continuation = continuation
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Hands one flush's windows and anomalies to alerting; false (and counted) when the buffer is full.
    @discardableResult
    public func submit(_ input: AlertInput) -> Bool {
        if case .dropped = continuation.yield(input) {
            dropped.add(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Inputs dropped because the buffer was full.
    public var droppedInputs: Int { dropped.load(ordering: .relaxed) }
    /// Notifications no attempt delivered.
    public var deadLetters: Int { deadLettered.load(ordering: .relaxed) }

    public func run() async throws {
        if let persistence {
            do {
                if let bytes = try await persistence.load() { try core.withLock { try $0.restore(bytes) } }
            } catch {
                logger.error("alert state not restored, starting empty: \(error)")
            }
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.consume() }
                group.addTask { await self.queryLoop() }
                group.addTask { await self.every(self.configuration.tick) { _ = self.wake.yield() } }
                group.addTask { await self.every(self.configuration.tick) { await self.persist() } }
                // Each round's deliveries run as child tasks, so a slow or retrying receiver
                // holds up neither the next round nor the other receivers.
                for await _ in self.wakes {
                    if Task.isCancelled { break }
                    self.round(into: &group)
                }
            }
        }
        continuation.finish()
        await persist()
    }

    // MARK: API (HTTP and CLI)

    /// Current alerts, with what mutes them.
    public func listing() -> [(alert: Alert, silencedBy: [String], inhibited: Bool)] {
        let now = wallTime()
        return core.withLock { $0.listing(now: now) }
    }

    public func silences() -> [Silence] { core.withLock { $0.silences.silences } }

    /// Creates a silence from now (or `startsAt`) until `endsAt`; returns it with its id.
    public func addSilence(
        matchers: [String], startsAt: Int64?, endsAt: Int64, createdBy: String, comment: String
    ) async throws(AlertError) -> Silence {
        let silence = Silence(
            id: UUID().uuidString.lowercased(), matchers: matchers, startsAt: startsAt ?? wallTime(), endsAt: endsAt,
            createdBy: createdBy, comment: comment)
        let refused = core.withLock { core -> AlertError? in
            do {
                try core.silences.add(silence)
                return nil
            } catch {
                return error as? AlertError ?? AlertError(.invalidInput, "\(error)")
            }
        }
        if let refused { throw refused }
        dirty.store(true, ordering: .relaxed)
        await persist()
        return silence
    }

    /// Ends a silence now; false when there is no such active or pending silence.
    public func expireSilence(id: String) async -> Bool {
        let now = wallTime()
        let done = core.withLock { $0.silences.expire(id: id, at: now) }
        if done {
            dirty.store(true, ordering: .relaxed)
            await persist()
        }
        return done
    }

    // MARK: Loops

    private func consume() async {
        for await input in inputs {
            let now = wallTime()
            let (changed, due) = core.withLock { core in
                let changed = core.observe(windows: input.windows, events: input.events, now: now)
                return (changed, !core.outbox.isEmpty || core.dispatcher.hasDue(now: now))
            }
            if !changed.isEmpty { dirty.store(true, ordering: .relaxed) }
            if due { wake.yield() }
        }
    }

    private func queryLoop() async {
        guard let evaluator else { return }
        let rules = configuration.spec.rules.compactMap { rule -> (String, String)? in
            if case .query(let expression) = rule.condition { return (rule.name, expression) }
            return nil
        }
        guard !rules.isEmpty else { return }
        while !Task.isCancelled {
            let now = wallTime()
            for (name, expression) in rules {
                do {
                    let vector = try await evaluator.evaluate(expression, at: now)
                    let changed = core.withLock { $0.apply(rule: name, vector: vector, at: now, now: now) }
                    if !changed.isEmpty { dirty.store(true, ordering: .relaxed) }
                } catch {
                    logger.warning("rule \(name): evaluation failed: \(error)")
                }
            }
            do { try await clock.sleep(for: configuration.spec.evaluationInterval, tolerance: nil) } catch { return }
        }
    }

    /// One round: Kafka records for transitions, Alertmanager resends, receiver notifications
    /// (a group whose previous notification is still being delivered is left due by the
    /// dispatcher, and flushed in the first round after that delivery ends).
    private func round(into group: inout DiscardingTaskGroup) {
        let now = wallTime()
        let sendsToAlertmanager = !configuration.spec.alertmanagers.isEmpty
        let (notifications, transitions, resend) = core.withLock { core in
            (
                core.flush(now: now), core.takeTransitions(),
                sendsToAlertmanager ? core.resend.due(now: now) : (alerts: [], validUntil: now)
            )
        }
        if !notifications.isEmpty || !resend.alerts.isEmpty { dirty.store(true, ordering: .relaxed) }
        if let publisher, !transitions.isEmpty {
            let records = transitions.map {
                (topic: configuration.spec.topic, key: $0.fingerprint, value: Payloads.kafka($0, pipeline: configuration.pipeline))
            }
            group.addTask {
                do { try await publisher.publish(records) } catch {
                    self.logger.error("alert records not published to \(self.configuration.spec.topic): \(error)")
                }
            }
        }
        if !resend.alerts.isEmpty {
            let body = Payloads.alertmanager(resend.alerts, validUntil: resend.validUntil, generatorURL: configuration.externalURL)
            for base in configuration.spec.alertmanagers {
                group.addTask {
                    do { try await self.poster.post(AlertService.alertsURL(base), body: body, timeout: .seconds(10)) } catch {
                        self.logger.warning("alertmanager \(base): \(error)")
                    }
                }
            }
        }
        for notification in notifications {
            group.addTask { await self.send(notification) }
        }
    }

    private func send(_ notification: AlertNotification) async {
        guard let failure = await delivery.deliver(notification) else {
            let now = wallTime()
            let due = core.withLock { core in
                core.dispatcher.delivered(notification, at: now)
                return core.dispatcher.hasDue(now: now)
            }
            dirty.store(true, ordering: .relaxed)
            if due { wake.yield() }
            return
        }
        core.withLock { $0.dispatcher.abandoned(notification) }
        deadLettered.add(1, ordering: .relaxed)
        let letter = Payloads.DeadLetter(
            receiver: notification.receiver, groupKey: notification.groupKey, attempts: failure.attempts, error: failure.last,
            failedAtMilliseconds: wallTime(),
            alerts: notification.alerts.map { Payloads.record($0, pipeline: configuration.pipeline) })
        do {
            try await publisher?.publish([
                (topic: configuration.deadLetterTopic, key: notification.groupKey, value: Payloads.encode(letter))
            ])
        } catch {
            logger.error("dead letter for receiver \(notification.receiver) not published: \(error)")
        }
    }

    /// Runs `body` every `interval` of the clock until cancelled.
    private func every(_ interval: Duration, _ body: () async -> Void) async {
        while true {
            do { try await clock.sleep(for: interval, tolerance: nil) } catch { return }
            await body()
        }
    }

    private func persist() async {
        guard let persistence, dirty.exchange(false, ordering: .relaxed) else { return }
        // Encoded outside the lock (a copy of the value), so inputs and rounds do not wait on it.
        let bytes = core.withLock { $0 }.snapshot()
        do { try await persistence.save(bytes) } catch {
            dirty.store(true, ordering: .relaxed)
            logger.error("alert state not saved: \(error)")
        }
    }

    static func alertsURL(_ base: String) -> String {
        var trimmed = Substring(base)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        return trimmed.hasSuffix("/api/v2/alerts") ? String(trimmed) : "\(trimmed)/api/v2/alerts"
    }
}
