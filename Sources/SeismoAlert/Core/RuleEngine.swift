import SeismoCore
import SeismoPipeline
import SeismoWire

/// A scored window of a stream: the rule engine sees every one, anomalous or not, so that
/// "the score stayed over the threshold" and "k of the last n windows" are exact.
public struct ScoredWindow: Sendable, Hashable, Codable {
    public var stream: String
    public var group: AlertLabels
    /// Event time, Unix milliseconds.
    public var windowStart: Int64
    public var windowEnd: Int64
    /// The window's feature values (only those predictive rules read need be present).
    public var features: [String: Double]
    /// For predictive rules that use a detector's forecast: rule name → seconds from the
    /// window's end until that forecast reaches the rule's threshold (absent: not within
    /// the rule's horizon, or no forecast for this group).
    public var crossings: [String: Double]

    public init(
        stream: String, group: AlertLabels, windowStart: Int64, windowEnd: Int64, features: [String: Double] = [:],
        crossings: [String: Double] = [:]
    ) {
        self.stream = stream
        self.group = group
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.features = features
        self.crossings = crossings
    }
}

/// Evaluates a query rule's expression: one sample per series of the result, as PromQL's
/// instant vector. `seismo run` plugs in the PromQL engine over the pipeline's store.
public protocol RuleEvaluator: Sendable {
    func evaluate(_ expression: String, at time: Int64) async throws -> [(labels: AlertLabels, value: Double)]
}

/// Every rule's per-group state: windows seen, the state machine, the announced alert.
/// Anomaly and predictive rules run in event time (the window ends); query rules in the
/// time they are evaluated at. Announced times (`startsAt`, `endsAt`) are the wall time
/// passed in. A value type: persisted whole, tested without I/O.
public struct RuleEngine: Sendable {
    /// One rule × group.
    public struct Track: Sendable, Hashable, Codable {
        public var group: AlertLabels
        public var machine = AlertStateMachine()
        /// Anomalous or not, for the last `n` windows, oldest first.
        var recent: [Bool] = []
        var lastWindowEnd: Int64 = .min
        /// Start of the first window of the current run of holding windows.
        var runStart: Int64?
        /// The alert as announced (firing, or resolved until it fires again).
        public var alert: Alert?
        /// Predictive rules: (time in seconds, value) of the last windows.
        var history: [[Double]] = []
    }

    public let pipeline: String
    public let rules: [AlertRuleSpec]
    /// Rule name → group fingerprint → track.
    public var tracks: [String: [String: Track]] = [:]

    public init(pipeline: String, rules: [AlertRuleSpec]) {
        self.pipeline = pipeline
        self.rules = rules
    }

    /// Every announced alert, firing ones and resolved ones not yet fired again.
    public var alerts: [Alert] {
        tracks.values.flatMap(\.values).compactMap(\.alert).sorted { $0.fingerprint < $1.fingerprint }
    }

    /// Feeds scored windows and the anomaly events found in them; returns the alerts that
    /// fired, changed or resolved, in that order of evaluation.
    public mutating func observe(windows: [ScoredWindow], events: [AnomalyEvent], now: Int64) -> [Alert] {
        var changed: [Alert] = []
        let byKey = Dictionary(
            events.map { (Self.key($0.detector, Fingerprint.of($0.group), $0.windowEnd.milliseconds), $0) },
            uniquingKeysWith: { a, b in a.score >= b.score ? a : b })
        for rule in rules {
            switch rule.condition {
            case .anomaly(let condition):
                var seen: Set<String> = []
                var ordered = windows.filter { $0.stream == condition.stream }
                for window in ordered {
                    seen.insert(Self.key(condition.detector, Fingerprint.of(window.group), window.windowEnd))
                }
                // An event whose window was not passed in still counts.
                for event in events where event.detector == condition.detector {
                    let key = Self.key(event.detector, Fingerprint.of(event.group), event.windowEnd.milliseconds)
                    if !seen.contains(key) {
                        ordered.append(
                            ScoredWindow(
                                stream: condition.stream, group: event.group, windowStart: event.windowStart.milliseconds,
                                windowEnd: event.windowEnd.milliseconds))
                    }
                }
                ordered.sort { $0.windowEnd < $1.windowEnd }
                for window in ordered {
                    let fp = Fingerprint.of(window.group)
                    var event = byKey[Self.key(condition.detector, fp, window.windowEnd)]
                    if let min = condition.minSeverity, let e = event, let floor = AnomalyEvent.Severity(rawValue: min),
                        e.severity < floor
                    {
                        event = nil
                    }
                    if let alert = anomalyStep(rule, condition, window, fp, event, now: now) { changed.append(alert) }
                }
            case .predictive(let condition):
                for window in windows.filter({ $0.stream == condition.stream }).sorted(by: { $0.windowEnd < $1.windowEnd }) {
                    if let alert = predictiveStep(rule, condition, window, now: now) { changed.append(alert) }
                }
            case .query:
                continue
            }
        }
        return changed
    }

    /// Applies one evaluation of query rule `ruleName`: each series of `vector` holds, every
    /// other tracked series does not.
    public mutating func apply(rule ruleName: String, vector: [(labels: AlertLabels, value: Double)], at time: Int64, now: Int64)
        -> [Alert]
    {
        guard let rule = rules.first(where: { $0.name == ruleName }) else { return [] }
        var changed: [Alert] = []
        var present: Set<String> = []
        for (labels, value) in vector {
            let fp = Fingerprint.of(labels)
            present.insert(fp)
            var track = tracks[rule.name]?[fp] ?? Track(group: labels)
            let context = TemplateContext(labels: baseLabels(rule, group: labels, detector: nil, severity: nil), value: value)
            if let alert = step(rule, &track, holds: true, at: time, context: context, value: value, now: now) { changed.append(alert) }
            tracks[rule.name, default: [:]][fp] = track
        }
        for (fp, var track) in tracks[rule.name] ?? [:] where !present.contains(fp) {
            let context = TemplateContext(
                labels: baseLabels(rule, group: track.group, detector: nil, severity: nil), value: track.alert?.value)
            if let alert = step(rule, &track, holds: false, at: time, context: context, value: track.alert?.value ?? 0, now: now) {
                changed.append(alert)
            }
            tracks[rule.name]?[fp] = track
        }
        return changed
    }

    // MARK: Steps

    private mutating func anomalyStep(
        _ rule: AlertRuleSpec, _ condition: AnomalyCondition, _ window: ScoredWindow, _ fp: String, _ event: AnomalyEvent?,
        now: Int64
    ) -> Alert? {
        var track = tracks[rule.name]?[fp] ?? Track(group: window.group)
        if window.windowEnd < track.lastWindowEnd { return nil }
        if window.windowEnd == track.lastWindowEnd {
            // A late update of the newest window: its verdict replaces the earlier one.
            if !track.recent.isEmpty { track.recent[track.recent.count - 1] = event != nil }
        } else {
            track.recent.append(event != nil)
            if track.recent.count > condition.n { track.recent.removeFirst(track.recent.count - condition.n) }
        }
        track.lastWindowEnd = window.windowEnd
        var holds = track.recent.filter { $0 }.count >= condition.k
        if holds {
            if track.runStart == nil { track.runStart = window.windowStart }
            if window.windowEnd - (track.runStart ?? window.windowStart) < condition.minDuration.milliseconds { holds = false }
        } else {
            track.runStart = nil
        }
        let labels = baseLabels(rule, group: window.group, detector: condition.detector, severity: event?.severity.rawValue)
        let context =
            event.map { TemplateContext(event: $0, labels: labels) }
            ?? TemplateContext(labels: labels, value: track.alert?.value, detector: condition.detector)
        let alert = step(rule, &track, holds: holds, at: window.windowEnd, context: context, value: event?.score ?? track.alert?.value ?? 0, now: now)
        tracks[rule.name, default: [:]][fp] = track
        return alert
    }

    private mutating func predictiveStep(_ rule: AlertRuleSpec, _ condition: PredictiveCondition, _ window: ScoredWindow, now: Int64)
        -> Alert?
    {
        let fp = Fingerprint.of(window.group)
        var track = tracks[rule.name]?[fp] ?? Track(group: window.group)
        guard window.windowEnd > track.lastWindowEnd else { return nil }
        track.lastWindowEnd = window.windowEnd
        if let value = window.features[condition.feature], value.isFinite {
            track.history.append([Double(window.windowEnd) / 1000, value])
            if track.history.count > condition.history { track.history.removeFirst(track.history.count - condition.history) }
        }
        let crossing =
            condition.detector != nil
            ? window.crossings[rule.name]
            : LinearForecast(points: track.history)?.timeToCross(
                condition.threshold, after: Double(window.windowEnd) / 1000, below: condition.below)
        let holds = crossing.map { $0 * 1000 <= Double(condition.within.milliseconds) } ?? false
        let labels = baseLabels(rule, group: window.group, detector: nil, severity: nil)
        let context = TemplateContext(
            labels: labels, value: crossing, threshold: condition.threshold,
            observed: window.features.filter { $0.key == condition.feature })
        let alert = step(rule, &track, holds: holds, at: window.windowEnd, context: context, value: crossing ?? 0, now: now)
        tracks[rule.name, default: [:]][fp] = track
        return alert
    }

    /// Drives the state machine and keeps the announced alert in step; returns it when it
    /// fired, was updated while firing, or resolved.
    private func step(
        _ rule: AlertRuleSpec, _ track: inout Track, holds: Bool, at time: Int64, context: TemplateContext, value: Double,
        now: Int64
    ) -> Alert? {
        let timing = AlertStateMachine.Timing(holdFor: rule.holdFor.milliseconds, keepFiringFor: rule.keepFiringFor.milliseconds)
        switch track.machine.evaluate(holds: holds, at: time, timing: timing) {
        case .fired:
            let (labels, annotations) = render(rule, context)
            track.alert = Alert(
                labels: labels, annotations: annotations, startsAt: now, activeAt: track.machine.activeAt ?? time, value: value,
                rule: rule.name)
            return track.alert
        case .resolved:
            track.alert?.endsAt = now
            return track.alert
        case .none where holds && track.machine.phase == .firing:
            guard var alert = track.alert else { return nil }
            // Annotations follow the newest window; the labels (the identity) stay.
            let (_, annotations) = render(rule, context)
            alert.annotations = annotations
            alert.value = value
            guard alert != track.alert else { return nil }
            track.alert = alert
            return alert
        case .none, .pending, .cleared:
            return nil
        }
    }

    private func baseLabels(_ rule: AlertRuleSpec, group: AlertLabels, detector: String?, severity: String?) -> AlertLabels {
        var labels = group
        labels["alertname"] = rule.name
        labels["pipeline"] = pipeline
        if let detector { labels["detector"] = detector }
        if let severity { labels["severity"] = severity }
        return labels
    }

    private func render(_ rule: AlertRuleSpec, _ context: TemplateContext) -> (AlertLabels, AlertLabels) {
        var labels = context.labels
        for (name, template) in rule.labels { labels[name] = template.render(context) }
        labels = labels.filter { !$0.value.isEmpty }
        var withLabels = context
        withLabels.labels = labels
        var annotations: AlertLabels = [:]
        for (name, template) in rule.annotations { annotations[name] = template.render(withLabels) }
        return (labels, annotations)
    }

    private static func key(_ detector: String, _ group: String, _ windowEnd: Int64) -> String {
        "\(detector)\u{1}\(group)\u{1}\(windowEnd)"
    }
}

/// A least-squares line through (time, value) points, as PromQL's `predict_linear`.
struct LinearForecast {
    let slope: Double
    let intercept: Double
    let lastTime: Double

    init?(points: [[Double]]) {
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let meanT = points.map { $0[0] }.reduce(0, +) / n
        let meanV = points.map { $0[1] }.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0
        for p in points {
            sxx += (p[0] - meanT) * (p[0] - meanT)
            sxy += (p[0] - meanT) * (p[1] - meanV)
        }
        guard sxx > 0 else { return nil }
        slope = sxy / sxx
        intercept = meanV - slope * meanT
        lastTime = points[points.count - 1][0]
    }

    func value(at t: Double) -> Double { intercept + slope * t }

    /// Seconds after `time` until the line reaches `threshold` from below (or, with
    /// `below`, from above): 0 when it already has, nil when it moves away or is flat.
    func timeToCross(_ threshold: Double, after time: Double, below: Bool = false) -> Double? {
        let now = value(at: time)
        if below ? now <= threshold : now >= threshold { return 0 }
        guard below ? slope < 0 : slope > 0 else { return nil }
        return (threshold - now) / slope
    }
}
