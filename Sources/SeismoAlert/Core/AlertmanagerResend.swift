/// Prometheus's side of the Alertmanager client contract, as a value: every firing alert
/// is sent when it fires and then again every `resendDelay`, with `endsAt` four resend
/// delays ahead (so Alertmanager resolves it by itself if the sender disappears); a resolved
/// alert is sent when it resolves and again every `resendDelay` until `resolvedRetention`
/// has passed. Times are wall-clock Unix milliseconds.
public struct AlertmanagerResend: Sendable, Hashable, Codable {
    struct Entry: Sendable, Hashable, Codable {
        var alert: Alert
        var lastSentAt: Int64?
    }

    public var resendDelay: Int64
    public var resolvedRetention: Int64
    var entries: [String: Entry] = [:]

    public init(resendDelay: Int64 = 60_000, resolvedRetention: Int64 = 900_000) {
        self.resendDelay = resendDelay
        self.resolvedRetention = resolvedRetention
    }

    /// Takes the newest version of `alert` (a change is sent at the next `due`).
    public mutating func update(_ alert: Alert) {
        let fp = alert.fingerprint
        let previous = entries[fp]
        let changedState = previous.map { $0.alert.isResolved != alert.isResolved || $0.alert.startsAt != alert.startsAt } ?? true
        entries[fp] = Entry(alert: alert, lastSentAt: changedState ? nil : previous?.lastSentAt)
    }

    /// The alerts to send at `now`, and the `endsAt` to give the firing ones; marks them sent.
    public mutating func due(now: Int64) -> (alerts: [Alert], validUntil: Int64) {
        var out: [Alert] = []
        for fp in entries.keys.sorted() {
            guard var entry = entries[fp] else { continue }
            if let end = entry.alert.endsAt, now - end > resolvedRetention {
                entries[fp] = nil
                continue
            }
            if let last = entry.lastSentAt, now - last < resendDelay { continue }
            entry.lastSentAt = now
            entries[fp] = entry
            out.append(entry.alert)
        }
        return (out, now + 4 * resendDelay)
    }

    /// When the next alert is due (nil when there is none).
    public var nextDeadline: Int64? {
        entries.values.map { entry in entry.lastSentAt.map { $0 + resendDelay } ?? .min }.min()
    }
}
