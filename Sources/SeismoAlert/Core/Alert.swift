import SeismoCore

/// Label names and values of an alert.
public typealias AlertLabels = [String: String]

/// One alert as it is announced: its identity (labels), what it says (annotations), and
/// when it started and ended in wall time (Unix milliseconds).
public struct Alert: Sendable, Hashable, Codable {
    public var labels: AlertLabels
    public var annotations: AlertLabels
    /// Wall time the alert started firing.
    public var startsAt: Int64
    /// Wall time the alert resolved; nil while firing.
    public var endsAt: Int64?
    /// When its condition started holding, in the rule's evaluation time (event time for
    /// anomaly rules).
    public var activeAt: Int64
    /// The rule's value at the last evaluation (an anomaly's score, a forecast's time to cross).
    public var value: Double
    /// The rule that made it.
    public var rule: String

    public init(
        labels: AlertLabels, annotations: AlertLabels = [:], startsAt: Int64, endsAt: Int64? = nil, activeAt: Int64,
        value: Double, rule: String
    ) {
        self.labels = labels
        self.annotations = annotations
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.activeAt = activeAt
        self.value = value
        self.rule = rule
    }

    public var isResolved: Bool { endsAt != nil }

    /// `firing` or `resolved`.
    public var status: String { isResolved ? "resolved" : "firing" }

    /// 16 hex digits identifying the label set (as Alertmanager's fingerprints do).
    public var fingerprint: String { Fingerprint.of(labels) }
}

/// Stable label-set hashing.
public enum Fingerprint {
    /// xxHash64 over the pairs sorted by name, each name and value terminated by 0xFF.
    public static func of(_ labels: AlertLabels) -> String {
        var bytes: [UInt8] = []
        for name in labels.keys.sorted() {
            bytes.append(contentsOf: name.utf8)
            bytes.append(0xFF)
            bytes.append(contentsOf: (labels[name] ?? "").utf8)
            bytes.append(0xFF)
        }
        let digits = String(XXHash64.hash(bytes, seed: 0), radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension Array where Element == Matcher {
    /// True when every matcher matches `labels` (an absent label matches as "").
    public func matches(_ labels: AlertLabels) -> Bool { allSatisfy { $0.matches(labels[$0.name]) } }
}
