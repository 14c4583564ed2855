import Foundation
import SeismoCore
import SeismoPipeline
import SeismoWire

/// Everything alerting keeps, as one value: the rules' state, the dispatcher's groups and
/// notification log, the Alertmanager resend table and the silences. The service drives it
/// and persists it whole after each change; tests drive it directly.
public struct AlertCore: Sendable {
    public var engine: RuleEngine
    public var dispatcher: Dispatcher
    public var resend: AlertmanagerResend
    public var silences: SilenceSet
    /// Alerts that fired or resolved since the last `takeTransitions` (for the Kafka topic).
    public private(set) var transitions: [Alert] = []
    /// Notifications that fell due while an input was applied, not yet taken by `flush`.
    public private(set) var outbox: [AlertNotification] = []

    public init(pipeline: String, spec: AlertingSpec) {
        engine = RuleEngine(pipeline: pipeline, rules: spec.rules)
        dispatcher = Dispatcher(
            root: Self.route(spec.route, id: "0", parent: nil),
            inhibitor: Inhibitor(
                rules: spec.inhibitRules.map { .init(source: $0.sourceMatchers, target: $0.targetMatchers, equal: $0.equal) }))
        resend = AlertmanagerResend(
            resendDelay: spec.resendDelay.milliseconds, resolvedRetention: spec.resolvedRetention.milliseconds)
        silences = SilenceSet()
    }

    /// Feeds scored windows and their anomalies at wall time `now`; returns the alerts changed.
    @discardableResult
    public mutating func observe(windows: [ScoredWindow], events: [AnomalyEvent], now: Int64) -> [Alert] {
        absorb(engine.observe(windows: windows, events: events, now: now), now: now)
    }

    /// Applies one evaluation of a query rule.
    @discardableResult
    public mutating func apply(rule: String, vector: [(labels: AlertLabels, value: Double)], at time: Int64, now: Int64) -> [Alert] {
        absorb(engine.apply(rule: rule, vector: vector, at: time, now: now), now: now)
    }

    /// Hands each changed alert to the dispatcher, in order. Before a resolution is applied,
    /// groups already due are flushed into the outbox, as a flush between the two inputs
    /// would have: an alert that fires and resolves within one input (one worker flush that
    /// closed several windows) is still notified as firing when its group was due, instead
    /// of reaching the dispatcher only as a resolution of something never announced.
    private mutating func absorb(_ changed: [Alert], now: Int64) -> [Alert] {
        for alert in changed {
            if alert.isResolved, dispatcher.hasDue(now: now) { outbox += flushDue(now: now) }
            let previous = dispatcher.current(alert)
            if previous == nil || previous?.isResolved != alert.isResolved || previous?.startsAt != alert.startsAt {
                transitions.append(alert)
            }
            dispatcher.insert(alert, now: now)
            resend.update(alert)
        }
        return changed
    }

    /// The fired and resolved alerts not yet taken.
    public mutating func takeTransitions() -> [Alert] {
        defer { transitions = [] }
        return transitions
    }

    /// Notifications due at `now` (see `Dispatcher.flush`), after those the outbox holds.
    public mutating func flush(now: Int64) -> [AlertNotification] {
        defer { outbox = [] }
        return outbox + flushDue(now: now)
    }

    private mutating func flushDue(now: Int64) -> [AlertNotification] {
        silences.collectGarbage(at: now)
        return dispatcher.flush(now: now, silences: silences)
    }

    /// Current alerts with whether each is muted (silenced or inhibited) at `now`.
    public func listing(now: Int64) -> [(alert: Alert, silencedBy: [String], inhibited: Bool)] {
        let all = engine.alerts
        return all.map { ($0, silences.silencing($0.labels, at: now), dispatcher.inhibitor.isInhibited($0, among: all)) }
    }

    /// The routing tree with Alertmanager's defaults and inheritance filled in.
    static func route(_ spec: RouteSpec, id: String, parent: Route?) -> Route {
        let groupBy: [String]?
        if let own = spec.groupBy {
            groupBy = own.contains("...") ? nil : own
        } else if let parent {
            groupBy = parent.groupBy
        } else {
            groupBy = []
        }
        var node = Route(
            id: id, receiver: spec.receiver ?? parent?.receiver ?? "default", matchers: spec.matchers, groupBy: groupBy,
            groupWait: spec.groupWait?.milliseconds ?? parent?.groupWait ?? 30_000,
            groupInterval: spec.groupInterval?.milliseconds ?? parent?.groupInterval ?? 300_000,
            repeatInterval: spec.repeatInterval?.milliseconds ?? parent?.repeatInterval ?? 14_400_000,
            continue: spec.continue)
        let parentNode = node
        node.routes = spec.routes.enumerated().map { index, child in Self.route(child, id: "\(id).\(index)", parent: parentNode) }
        return node
    }

    // MARK: Persistence

    /// The persisted form.
    struct Snapshot: Codable {
        var version = 1
        var tracks: [String: [String: RuleEngine.Track]]
        var dispatcher: Dispatcher.State
        var resend: AlertmanagerResend
        var silences: SilenceSet
        /// Absent in snapshots written before the outbox existed.
        var outbox: [AlertNotification]?
    }

    /// The state as JSON.
    public func snapshot() -> [UInt8] {
        Payloads.encode(
            Snapshot(tracks: engine.tracks, dispatcher: dispatcher.state, resend: resend, silences: silences, outbox: outbox))
    }

    /// Restores a snapshot taken by `snapshot()`; rules no longer configured are dropped.
    public mutating func restore(_ bytes: [UInt8]) throws(AlertError) {
        let snapshot: Snapshot
        do { snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(bytes)) } catch {
            throw AlertError(.state, "cannot read the persisted alert state: \(error)")
        }
        let names = Set(engine.rules.map(\.name))
        engine.tracks = snapshot.tracks.filter { names.contains($0.key) }
        dispatcher.state = snapshot.dispatcher
        var restoredResend = snapshot.resend
        restoredResend.resendDelay = resend.resendDelay
        restoredResend.resolvedRetention = resend.resolvedRetention
        resend = restoredResend
        silences = snapshot.silences
        outbox = snapshot.outbox ?? []
    }
}
