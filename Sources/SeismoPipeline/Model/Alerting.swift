import SeismoCore

/// The `alerts:` section: rules that turn anomalies (and, later, queries) into alerts, and
/// where those alerts go — Alertmanager's routing tree, receivers and inhibition rules.
public struct AlertingSpec: Sendable, Hashable {
    public var rules: [AlertRuleSpec]
    public var route: RouteSpec
    public var receivers: [ReceiverSpec]
    public var inhibitRules: [InhibitRuleSpec]
    /// Alertmanager base URLs (`http://host:9093`); alerts are posted to `/api/v2/alerts` of each.
    public var alertmanagers: [String]
    /// Firing and resolved alerts are produced here as JSON (default `alerts.<pipeline>`).
    public var topic: String
    /// How often firing (and recently resolved) alerts are resent to Alertmanager.
    public var resendDelay: Duration
    /// How long a resolved alert is still resent as resolved.
    public var resolvedRetention: Duration
    /// How often rules are evaluated against the clock (query rules; resolving stalled anomalies).
    public var evaluationInterval: Duration

    public init(
        rules: [AlertRuleSpec] = [], route: RouteSpec = RouteSpec(), receivers: [ReceiverSpec] = [],
        inhibitRules: [InhibitRuleSpec] = [], alertmanagers: [String] = [], topic: String,
        resendDelay: Duration = .seconds(60), resolvedRetention: Duration = .seconds(900),
        evaluationInterval: Duration = .seconds(15)
    ) {
        self.rules = rules
        self.route = route
        self.receivers = receivers
        self.inhibitRules = inhibitRules
        self.alertmanagers = alertmanagers
        self.topic = topic
        self.resendDelay = resendDelay
        self.resolvedRetention = resolvedRetention
        self.evaluationInterval = evaluationInterval
    }
}

/// One alerting rule; its `name` is the alert's `alertname` label.
public struct AlertRuleSpec: Sendable, Hashable {
    public enum Condition: Sendable, Hashable {
        /// Fires while a detector finds the group anomalous.
        case anomaly(AnomalyCondition)
        /// Fires when a feature's forecast crosses a threshold within a horizon.
        case predictive(PredictiveCondition)
        /// A PromQL expression: every series of its result is an alert (evaluated once the
        /// query engine is available to the runtime).
        case query(expression: String)
    }

    public var name: String
    public var condition: Condition
    /// Prometheus `for`: how long the condition must hold before the alert fires.
    public var holdFor: Duration
    /// Prometheus `keep_firing_for`.
    public var keepFiringFor: Duration
    public var labels: [String: AlertTemplate]
    public var annotations: [String: AlertTemplate]

    public init(
        name: String, condition: Condition, holdFor: Duration = .zero, keepFiringFor: Duration = .zero,
        labels: [String: AlertTemplate] = [:], annotations: [String: AlertTemplate] = [:]
    ) {
        self.name = name
        self.condition = condition
        self.holdFor = holdFor
        self.keepFiringFor = keepFiringFor
        self.labels = labels
        self.annotations = annotations
    }
}

/// When an anomaly rule's condition holds for a group.
public struct AnomalyCondition: Sendable, Hashable {
    public var detector: String
    /// The detector's stream, and that stream's hop (one window per hop and group).
    public var stream: String
    public var hop: Duration
    /// Holds when at least `k` of the last `n` windows are anomalous (1 of 1 by default).
    public var k: Int
    public var n: Int
    /// The anomaly (first anomalous window's start to the last one's end) must last at
    /// least this long before the alert fires.
    public var minDuration: Duration
    /// Only events at least this severe count.
    public var minSeverity: String?

    public init(
        detector: String, stream: String, hop: Duration, k: Int = 1, n: Int = 1, minDuration: Duration = .zero,
        minSeverity: String? = nil
    ) {
        self.detector = detector
        self.stream = stream
        self.hop = hop
        self.k = k
        self.n = n
        self.minDuration = minDuration
        self.minSeverity = minSeverity
    }
}

/// "Disk full within 4 h": holds while the forecast of `feature` reaches `threshold`
/// within `within`, fitted over the last `history` windows of each group.
public struct PredictiveCondition: Sendable, Hashable {
    public var stream: String
    public var feature: String
    public var threshold: Double
    public var within: Duration
    public var history: Int
    /// Fires when the forecast falls to the threshold (free space running out) instead of rising to it.
    public var below: Bool
    /// A `seasonal` detector of the stream reading the feature: when set, the forecast is that
    /// detector's (trend, seasonality and level, per group) instead of a line through the
    /// last `history` windows.
    public var detector: String?

    public init(
        stream: String, feature: String, threshold: Double, within: Duration, history: Int = 30, below: Bool = false,
        detector: String? = nil
    ) {
        self.below = below
        self.detector = detector
        self.stream = stream
        self.feature = feature
        self.threshold = threshold
        self.within = within
        self.history = history
    }
}

/// A node of the routing tree, as in Alertmanager: an alert goes to the first child whose
/// matchers it satisfies (and on to later siblings when that child has `continue`), and to
/// the node itself when no child matches. Unset fields are inherited from the parent.
public struct RouteSpec: Sendable, Hashable {
    public var receiver: String?
    public var matchers: [Matcher]
    /// Labels that group alerts into one notification; `["..."]` groups by every label.
    public var groupBy: [String]?
    public var groupWait: Duration?
    public var groupInterval: Duration?
    public var repeatInterval: Duration?
    public var `continue`: Bool
    public var routes: [RouteSpec]

    public init(
        receiver: String? = nil, matchers: [Matcher] = [], groupBy: [String]? = nil, groupWait: Duration? = nil,
        groupInterval: Duration? = nil, repeatInterval: Duration? = nil, continue: Bool = false, routes: [RouteSpec] = []
    ) {
        self.receiver = receiver
        self.matchers = matchers
        self.groupBy = groupBy
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.repeatInterval = repeatInterval
        self.continue = `continue`
        self.routes = routes
    }
}

/// Where notifications go, with how hard to try.
public struct ReceiverSpec: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Alertmanager's webhook payload (version 4), POSTed as JSON.
        case webhook(url: String)
        /// A Slack incoming webhook.
        case slack(url: String, channel: String?)
        /// PagerDuty Events API v2 (`url` defaults to PagerDuty's own endpoint).
        case pagerDuty(url: String, routingKey: String)
    }

    public var name: String
    /// Nil for a receiver that drops what it gets (Alertmanager's "null" receiver).
    public var kind: Kind?
    /// Time allowed for one attempt.
    public var timeout: Duration
    /// Attempts in all before the notification goes to the dead-letter topic.
    public var attempts: Int
    /// First retry delay; each next one doubles, up to `maxBackoff`.
    public var backoff: Duration
    public var maxBackoff: Duration

    public init(
        name: String, kind: Kind?, timeout: Duration = .seconds(10), attempts: Int = 5, backoff: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(30)
    ) {
        self.name = name
        self.kind = kind
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
    }
}

/// Alerts matching `target` are muted while an alert matching `source` fires with the same
/// values of the `equal` labels.
public struct InhibitRuleSpec: Sendable, Hashable {
    public var sourceMatchers: [Matcher]
    public var targetMatchers: [Matcher]
    public var equal: [String]

    public init(sourceMatchers: [Matcher], targetMatchers: [Matcher], equal: [String] = []) {
        self.sourceMatchers = sourceMatchers
        self.targetMatchers = targetMatchers
        self.equal = equal
    }
}
