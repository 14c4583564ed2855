import SeismoCore

/// A silence: alerts whose labels satisfy every matcher are muted from `startsAt` until
/// `endsAt` (wall time, Unix milliseconds).
public struct Silence: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Codable { case pending, active, expired }

    public var id: String
    /// Matchers as written (`service="checkout"`, `severity=~"warn.*"`).
    public var matchers: [String]
    public var startsAt: Int64
    public var endsAt: Int64
    public var createdBy: String
    public var comment: String

    public init(
        id: String, matchers: [String], startsAt: Int64, endsAt: Int64, createdBy: String = "", comment: String = ""
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.createdBy = createdBy
        self.comment = comment
    }

    public func state(at now: Int64) -> State {
        now < startsAt ? .pending : now < endsAt ? .active : .expired
    }
}

/// Every silence, with the parsed matchers. Expired silences are kept for `retention` so
/// they can still be listed, then forgotten.
public struct SilenceSet: Sendable, Hashable, Codable {
    public private(set) var silences: [Silence] = []
    /// How long an expired silence stays listed (milliseconds).
    public var retention: Int64

    public init(retention: Int64 = 5 * 86_400_000) { self.retention = retention }

    /// Adds `silence` (replacing one with the same id); throws for a matcher that does not parse,
    /// an empty matcher list or an end before the start.
    public mutating func add(_ silence: Silence) throws(AlertError) {
        guard !silence.matchers.isEmpty else { throw AlertError(.invalidInput, "a silence needs at least one matcher") }
        guard silence.endsAt > silence.startsAt else {
            throw AlertError(.invalidInput, "a silence must end after it starts", context: silence.id)
        }
        let parsed = try Self.parse(silence.matchers)
        guard parsed.contains(where: { !$0.matchesEmpty }) else {
            throw AlertError(.invalidInput, "at least one matcher must not match the empty string", context: silence.matchers.joined(separator: ","))
        }
        silences.removeAll { $0.id == silence.id }
        silences.append(silence)
        compiled[silence.id] = parsed
    }

    /// Ends the silence `id` at `now`; false when there is no such silence or it already ended.
    @discardableResult
    public mutating func expire(id: String, at now: Int64) -> Bool {
        guard let index = silences.firstIndex(where: { $0.id == id }), silences[index].endsAt > now else { return false }
        silences[index].endsAt = now
        if silences[index].startsAt > now { silences[index].startsAt = now }
        return true
    }

    /// The active silences that mute `labels` at `now` (their ids).
    public func silencing(_ labels: AlertLabels, at now: Int64) -> [String] {
        silences.filter { $0.state(at: now) == .active && (compiled[$0.id] ?? []).matches(labels) }.map(\.id)
    }

    /// Forgets silences expired for longer than `retention`.
    public mutating func collectGarbage(at now: Int64) {
        let dropped = silences.filter { $0.endsAt + retention < now }.map(\.id)
        silences.removeAll { dropped.contains($0.id) }
        for id in dropped { compiled[id] = nil }
    }

    static func parse(_ matchers: [String]) throws(AlertError) -> [Matcher] {
        var out: [Matcher] = []
        for text in matchers {
            do { out.append(try Matcher(parsing: text)) } catch {
                throw AlertError(.invalidInput, "invalid matcher: \(error)", context: text)
            }
        }
        return out
    }

    private var compiled: [String: [Matcher]] = [:]

    enum CodingKeys: String, CodingKey { case silences, retention }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        retention = try container.decode(Int64.self, forKey: .retention)
        for silence in try container.decode([Silence].self, forKey: .silences) { try add(silence) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(retention, forKey: .retention)
        try container.encode(silences, forKey: .silences)
    }
}

/// Inhibition: an alert matching a rule's target matchers is muted while a *firing* alert
/// matching its source matchers has the same values of the `equal` labels (an absent
/// label counts as equal to an absent label). An alert never inhibits itself.
public struct Inhibitor: Sendable {
    public struct Rule: Sendable {
        public var source: [Matcher]
        public var target: [Matcher]
        public var equal: [String]

        public init(source: [Matcher], target: [Matcher], equal: [String]) {
            self.source = source
            self.target = target
            self.equal = equal
        }
    }

    public var rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// True when some firing alert of `alerts` inhibits `alert`.
    public func isInhibited(_ alert: Alert, among alerts: some Sequence<Alert>) -> Bool {
        let fingerprint = alert.fingerprint
        for rule in rules where rule.target.matches(alert.labels) {
            for source in alerts where !source.isResolved && rule.source.matches(source.labels) {
                if source.fingerprint == fingerprint { continue }
                if rule.equal.allSatisfy({ source.labels[$0] == alert.labels[$0] }) { return true }
            }
        }
        return false
    }
}
