/// A notification for one receiver: the alerts of one aggregation group.
public struct AlertNotification: Sendable, Hashable, Codable {
    public var receiver: String
    /// Identifies the group: route id and group labels (`{}/{service="checkout"}:0.1`).
    public var groupKey: String
    public var groupLabels: AlertLabels
    /// Firing alerts first, then resolved ones; each list by fingerprint.
    public var alerts: [Alert]
    public var firing: [Alert] { alerts.filter { !$0.isResolved } }
    public var resolved: [Alert] { alerts.filter(\.isResolved) }
}

/// Alertmanager's dispatcher as a value: alerts are grouped per route and group labels;
/// a new group is flushed after `group_wait`, then every `group_interval`; a flush notifies
/// only when something changed since the last notification (a new firing alert, a newly
/// resolved one) or `repeat_interval` has passed (deduplication, as Alertmanager's
/// notification log). Silenced and inhibited alerts are left out. As in Alertmanager, a
/// group has at most one notification on its way: while one is in flight the group is not
/// flushed, and once it is `delivered` (or `abandoned`) a flush that fell due meanwhile
/// happens at the next call. Times are wall-clock Unix milliseconds; the dispatcher never
/// reads a clock.
public struct Dispatcher: Sendable {
    /// What was last notified for a group (Alertmanager's notification log entry).
    public struct LogEntry: Sendable, Hashable, Codable {
        public var firing: Set<String>
        public var resolved: Set<String>
        public var at: Int64
    }

    struct Group: Sendable, Hashable, Codable {
        var key: String
        var routeID: String
        var labels: AlertLabels
        var alerts: [String: Alert]
        var nextFlush: Int64
        var flushed: Bool
    }

    /// The persistent part: groups and the notification log.
    public struct State: Sendable, Hashable, Codable {
        var groups: [String: Group] = [:]
        var log: [String: LogEntry] = [:]
        public init() {}
    }

    public let root: Route
    public let inhibitor: Inhibitor
    public var state = State()
    /// Keys of the groups whose last notification is on its way (not persisted: after a
    /// restart nothing is, and the notification log says what still needs sending).
    public private(set) var inFlight: Set<String> = []
    private let routes: [String: Route]

    public init(root: Route, inhibitor: Inhibitor = Inhibitor(rules: [])) {
        self.root = root
        self.inhibitor = inhibitor
        var routes: [String: Route] = [:]
        func walk(_ route: Route) {
            routes[route.id] = route
            route.routes.forEach(walk)
        }
        walk(root)
        self.routes = routes
    }

    /// Adds or updates `alert` in every group its routes give it.
    public mutating func insert(_ alert: Alert, now: Int64) {
        for route in root.match(alert.labels) {
            let labels = route.groupLabels(alert.labels)
            let key = Self.groupKey(route: route.id, labels: labels)
            var group = state.groups[key] ?? Group(key: key, routeID: route.id, labels: labels, alerts: [:], nextFlush: now + route.groupWait, flushed: false)
            group.alerts[alert.fingerprint] = alert
            state.groups[key] = group
        }
    }

    /// The earliest time a group is due, if any.
    public var nextDeadline: Int64? { state.groups.values.map(\.nextFlush).min() }

    /// True when a group not in flight is due at `now`.
    public func hasDue(now: Int64) -> Bool {
        state.groups.values.contains { $0.nextFlush <= now && !inFlight.contains($0.key) }
    }

    /// The notifications due at `now`. Each due group's next flush moves on by its
    /// `group_interval`; a group with a notification in flight waits for it. Call
    /// `delivered` once a notification has gone out, `abandoned` when it could not.
    public mutating func flush(now: Int64, silences: SilenceSet) -> [AlertNotification] {
        var out: [AlertNotification] = []
        let everyAlert = state.groups.values.flatMap(\.alerts.values)
        for key in state.groups.keys.sorted() where !inFlight.contains(key) {
            guard var group = state.groups[key], group.nextFlush <= now, let route = routes[group.routeID] else { continue }
            group.nextFlush = now + route.groupInterval
            group.flushed = true
            state.groups[key] = group
            let unmuted = group.alerts.values.filter {
                silences.silencing($0.labels, at: now).isEmpty && !inhibitor.isInhibited($0, among: everyAlert)
            }
            let firing = Set(unmuted.filter { !$0.isResolved }.map(\.fingerprint))
            let resolved = Set(unmuted.filter(\.isResolved).map(\.fingerprint))
            if Self.needsUpdate(state.log[key], firing: firing, resolved: resolved, repeat: route.repeatInterval, now: now) {
                let sorted = unmuted.sorted { ($0.isResolved ? 1 : 0, $0.fingerprint) < ($1.isResolved ? 1 : 0, $1.fingerprint) }
                out.append(AlertNotification(receiver: route.receiver, groupKey: key, groupLabels: group.labels, alerts: sorted))
                inFlight.insert(key)
            } else {
                dropResolved(key: key, notified: resolved.union(group.alerts.values.filter(\.isResolved).map(\.fingerprint)))
            }
        }
        return out
    }

    /// Records that `notification` reached its receiver at `now`, and forgets the resolved
    /// alerts it carried (a group with nothing left goes away).
    public mutating func delivered(_ notification: AlertNotification, at now: Int64) {
        inFlight.remove(notification.groupKey)
        let firing = Set(notification.firing.map(\.fingerprint))
        let resolved = Set(notification.resolved.map(\.fingerprint))
        state.log[notification.groupKey] = LogEntry(firing: firing, resolved: resolved, at: now)
        dropResolved(key: notification.groupKey, notified: resolved)
    }

    /// Records that `notification` did not reach its receiver (dead-lettered): the group may
    /// flush again, and as the notification log is unchanged its next flush sends it again.
    public mutating func abandoned(_ notification: AlertNotification) {
        inFlight.remove(notification.groupKey)
    }

    /// Current alerts of every group (each alert once), by fingerprint.
    public var alerts: [Alert] {
        var seen: [String: Alert] = [:]
        for group in state.groups.values { for (fp, alert) in group.alerts { seen[fp] = alert } }
        return seen.sorted { $0.key < $1.key }.map(\.value)
    }

    /// The version of `alert` (same labels) that the dispatcher holds, if any. Looks only in
    /// the groups its labels route it to, so it costs the same however many groups there are.
    public func current(_ alert: Alert) -> Alert? {
        let fingerprint = alert.fingerprint
        for route in root.match(alert.labels) {
            let key = Self.groupKey(route: route.id, labels: route.groupLabels(alert.labels))
            if let held = state.groups[key]?.alerts[fingerprint] { return held }
        }
        return nil
    }

    /// True when `alert` is muted at `now` by a silence or an inhibition.
    public func isMuted(_ alert: Alert, silences: SilenceSet, now: Int64) -> Bool {
        !silences.silencing(alert.labels, at: now).isEmpty || inhibitor.isInhibited(alert, among: alerts)
    }

    private mutating func dropResolved(key: String, notified: Set<String>) {
        guard var group = state.groups[key] else { return }
        for fp in notified where group.alerts[fp]?.isResolved == true { group.alerts[fp] = nil }
        if group.alerts.isEmpty {
            state.groups[key] = nil
            // With nothing firing left, the log entry no longer matters.
            if state.log[key]?.firing.isEmpty ?? true { state.log[key] = nil }
        } else {
            state.groups[key] = group
        }
    }

    /// Alertmanager's deduplication rule.
    static func needsUpdate(_ entry: LogEntry?, firing: Set<String>, resolved: Set<String>, repeat: Int64, now: Int64) -> Bool {
        guard let entry else { return !firing.isEmpty }
        if !firing.isSubset(of: entry.firing) { return true }
        if firing.isEmpty { return !entry.firing.isEmpty }
        if !resolved.isSubset(of: entry.resolved) { return true }
        return entry.at + `repeat` <= now
    }

    static func groupKey(route: String, labels: AlertLabels) -> String {
        let pairs = labels.keys.sorted().map { "\($0)=\"\(labels[$0] ?? "")\"" }.joined(separator: ",")
        return "\(route):{\(pairs)}"
    }
}
