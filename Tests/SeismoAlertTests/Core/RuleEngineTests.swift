import SeismoCore
import SeismoPipeline
import SeismoWire
import Testing

@testable import SeismoAlert

/// One-minute windows hopping by a minute, for group `service=checkout`.
enum Windows {
    static let minute: Int64 = 60_000
    static let group: AlertLabels = ["service": "checkout"]

    static func window(_ i: Int64, features: [String: Double] = [:], group: AlertLabels = group) -> ScoredWindow {
        ScoredWindow(stream: "http", group: group, windowStart: (i - 1) * minute, windowEnd: i * minute, features: features)
    }

    static func event(_ i: Int64, score: Double = 3, severity: AnomalyEvent.Severity = .warning, group: AlertLabels = group)
        -> AnomalyEvent
    {
        AnomalyEvent(
            pipeline: "demo", detector: "latency_z", detectorType: "zscore", group: group,
            windowStart: Timestamp(milliseconds: (i - 1) * minute), windowEnd: Timestamp(milliseconds: i * minute),
            observed: ["latency_p99": 0.9], expected: 0.2, band: .init(lower: 0.1, upper: 0.3), score: score, threshold: 1,
            severity: severity, contributions: [.init(feature: "latency_p99", weight: 0.8), .init(feature: "errors", weight: 0.2)],
            detectedAt: Timestamp(milliseconds: i * minute))
    }
}

func anomalyRule(
    for holdFor: Duration = .zero, k: Int = 1, n: Int = 1, minDuration: Duration = .zero, keepFiringFor: Duration = .zero,
    labels: [String: String] = [:], annotations: [String: String] = [:]
) -> AlertRuleSpec {
    AlertRuleSpec(
        name: "LatencyAnomaly",
        condition: .anomaly(.init(detector: "latency_z", stream: "http", hop: .seconds(60), k: k, n: n, minDuration: minDuration)),
        holdFor: holdFor, keepFiringFor: keepFiringFor, labels: labels.mapValues { try! AlertTemplate(parsing: $0) },
        annotations: annotations.mapValues { try! AlertTemplate(parsing: $0) })
}

@Suite("Anomaly rules: per group, `for`, k of n windows, minimum duration, templated labels")
struct AnomalyRuleTests {
    /// Feeds windows 1…count; `anomalous` says which carry an event. Returns what changed per window.
    func run(_ rule: AlertRuleSpec, _ anomalous: Set<Int64>, count: Int64, engine: inout RuleEngine) -> [Int64: [Alert]] {
        var out: [Int64: [Alert]] = [:]
        for i in 1...count {
            let events = anomalous.contains(i) ? [Windows.event(i)] : []
            let changed = engine.observe(windows: [Windows.window(i)], events: events, now: 1_000 * i)
            if !changed.isEmpty { out[i] = changed }
        }
        return out
    }

    @Test("fires when the score has stayed over the threshold for `for`, resolves at the first normal window")
    func forDuration() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule(for: .seconds(120))])
        let changed = run(engine.rules[0], [3, 4, 5, 6], count: 8, engine: &engine)
        // Windows 3 (active), 4, 5 (held 2 min): fires at 5; 6 updates nothing new; 7 resolves.
        #expect(changed[5]?.first?.isResolved == false)
        #expect(changed[5]?.first?.activeAt == 3 * Windows.minute)
        #expect(changed[5]?.first?.startsAt == 5_000)
        #expect(changed[7]?.first?.endsAt == 7_000)
        #expect(changed[3] == nil && changed[4] == nil)
    }

    @Test("an anomaly shorter than `for` never fires")
    func tooShort() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule(for: .seconds(180))])
        let r29 = run(engine.rules[0], [3, 4, 5], count: 8, engine: &engine)
        #expect(r29.isEmpty)
        #expect(engine.alerts.isEmpty)
    }

    @Test("k of the last n windows: 2 of 3 fires, and holds across a one-window gap")
    func kOfN() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule(k: 2, n: 3)])
        let changed = run(engine.rules[0], [2, 4, 5, 7], count: 9, engine: &engine)
        // 2 of 3 from window 4 (2, 4) through 7 (5, 7 around normal 6); 8 leaves only 7.
        #expect(changed[4]?.first?.isResolved == false)
        #expect(changed[8]?.first?.isResolved == true)
        #expect(changed.keys.sorted() == [4, 8])
    }

    @Test("a minimum anomaly duration holds back short anomalies")
    func minimumDuration() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule(minDuration: .seconds(180))])
        let r30 = run(engine.rules[0], [2, 3], count: 5, engine: &engine)
        #expect(r30.isEmpty)
        var longer = RuleEngine(pipeline: "demo", rules: [anomalyRule(minDuration: .seconds(180))])
        // Windows 2..4 span 1 min … 4 min: three minutes at the end of window 4.
        let r31 = run(longer.rules[0], [2, 3, 4], count: 5, engine: &longer)
        #expect(r31.keys.sorted() == [4, 5])
    }

    @Test("each group has its own alert")
    func perGroup() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule()])
        let other: AlertLabels = ["service": "search"]
        let changed = engine.observe(
            windows: [Windows.window(1), Windows.window(1, group: other)],
            events: [Windows.event(1), Windows.event(1, group: other)], now: 0)
        #expect(Set(changed.map { $0.labels["service"] }) == ["checkout", "search"])
        #expect(Set(changed.map(\.fingerprint)).count == 2)
    }

    @Test("labels and annotations are templated from the event; group, alertname, detector and severity are labels")
    func templates() {
        let rule = anomalyRule(
            labels: ["team": "web-{{ $labels.service }}"],
            annotations: [
                "summary": "p99 {{ $observed.latency_p99 }} vs {{ $expected }} (band {{ $band.lower }}–{{ $band.upper }})",
                "top": "{{ $features }}", "score": "{{ $value | printf \"%.1f\" }}",
            ])
        var engine = RuleEngine(pipeline: "demo", rules: [rule])
        let alert = engine.observe(windows: [Windows.window(1)], events: [Windows.event(1)], now: 0)[0]
        #expect(alert.labels == [
            "service": "checkout", "alertname": "LatencyAnomaly", "pipeline": "demo", "detector": "latency_z",
            "severity": "warning", "team": "web-checkout",
        ])
        #expect(alert.annotations["summary"] == "p99 0.9 vs 0.2 (band 0.1–0.3)")
        #expect(alert.annotations["top"] == "latency_p99, errors")
        #expect(alert.annotations["score"] == "3.0")
    }

    @Test("an event without its window still counts; a replayed older window is ignored")
    func eventsAloneAndReplays() {
        var engine = RuleEngine(pipeline: "demo", rules: [anomalyRule()])
        let r32 = engine.observe(windows: [], events: [Windows.event(5)], now: 0)
        #expect(r32.count == 1)
        let r33 = engine.observe(windows: [Windows.window(4)], events: [], now: 1)
        #expect(r33.isEmpty)
        #expect(engine.alerts.first?.isResolved == false)
    }
}

@Suite("Predictive rules: the forecast crosses the threshold within the horizon")
struct PredictiveRuleTests {
    func rule(within: Duration) -> AlertRuleSpec {
        AlertRuleSpec(
            name: "DiskFull",
            condition: .predictive(.init(stream: "http", feature: "disk", threshold: 100, within: within, history: 5)),
            annotations: ["summary": try! AlertTemplate(parsing: "full in {{ $value | humanizeDuration }}")])
    }

    @Test("a feature growing 1 per minute toward 100 fires once it is within the horizon")
    func linearGrowth() {
        var engine = RuleEngine(pipeline: "demo", rules: [rule(within: .seconds(30 * 60))])
        var firedAt: Int64?
        for i in Int64(1)...80 {
            let changed = engine.observe(windows: [Windows.window(i, features: ["disk": Double(i)])], events: [], now: i)
            if firedAt == nil, changed.contains(where: { !$0.isResolved }) { firedAt = i }
        }
        // At window i the line reaches 100 after (100 − i) minutes: within 30 minutes from i = 70.
        #expect(firedAt == 70)
        #expect(engine.alerts.first?.annotations["summary"] == "full in 20m")
    }

    @Test("`below`: free space falling toward the threshold fires")
    func falling() {
        var engine = RuleEngine(
            pipeline: "demo",
            rules: [
                AlertRuleSpec(
                    name: "DiskFree",
                    condition: .predictive(.init(stream: "http", feature: "disk", threshold: 10, within: .seconds(600), history: 5, below: true)))
            ])
        var firedAt: Int64?
        for i in Int64(1)...60 {
            let changed = engine.observe(windows: [Windows.window(i, features: ["disk": 60 - Double(i)])], events: [], now: i)
            if firedAt == nil, !changed.isEmpty { firedAt = i }
        }
        // 60 − i reaches 10 at i = 50; within 10 minutes from i = 40.
        #expect(firedAt == 40)
    }

    @Test("with a detector, the detector's forecast decides: a crossing within the horizon fires, none resolves")
    func detectorForecast() {
        let rule = AlertRuleSpec(
            name: "DiskFull",
            condition: .predictive(.init(stream: "http", feature: "disk", threshold: 100, within: .seconds(3600), detector: "season")))
        var engine = RuleEngine(pipeline: "demo", rules: [rule])
        func window(_ i: Int64, crossing: Double?) -> ScoredWindow {
            var w = Windows.window(i, features: ["disk": 50])
            if let crossing { w.crossings = ["DiskFull": crossing] }
            return w
        }
        // The feature itself is flat: a line through it would never fire.
        #expect(engine.observe(windows: [window(1, crossing: 7200)], events: [], now: 1).isEmpty)
        let fired = engine.observe(windows: [window(2, crossing: 1800)], events: [], now: 2)
        #expect(fired.map(\.value) == [1800])
        #expect(fired.first?.labels["alertname"] == "DiskFull")
        let resolved = engine.observe(windows: [window(3, crossing: nil)], events: [], now: 3)
        #expect(resolved.first?.isResolved == true)
    }

    @Test("a flat or falling feature never fires")
    func flat() {
        var engine = RuleEngine(pipeline: "demo", rules: [rule(within: .seconds(3600))])
        for i in Int64(1)...20 {
            _ = engine.observe(windows: [Windows.window(i, features: ["disk": 50 - Double(i)])], events: [], now: i)
        }
        #expect(engine.alerts.isEmpty)
    }
}

@Suite("Query rules through RuleEvaluator's vectors")
struct QueryRuleTests {
    @Test("every series of the vector is an alert; one that leaves the vector resolves")
    func vectors() {
        let rule = AlertRuleSpec(name: "HighErrors", condition: .query(expression: "errors > 1"), holdFor: .seconds(30))
        var engine = RuleEngine(pipeline: "demo", rules: [rule])
        let r34 = engine.apply(rule: "HighErrors", vector: [(["job": "a"], 2)], at: 0, now: 0)
        #expect(r34.isEmpty)
        let fired = engine.apply(rule: "HighErrors", vector: [(["job": "a"], 3)], at: 30_000, now: 30_000)
        #expect(fired.map { $0.labels["job"] } == ["a"])
        #expect(fired.first?.value == 3)
        let resolved = engine.apply(rule: "HighErrors", vector: [], at: 45_000, now: 45_000)
        #expect(resolved.first?.endsAt == 45_000)
    }
}

@Suite("Templates")
struct TemplateTests {
    @Test("printf, humanize and humanizeDuration")
    func functions() throws {
        let context = TemplateContext(labels: ["a": "x"], value: 12_345.678)
        #expect(try AlertTemplate(parsing: "{{$value | printf \"%.2f\"}}").render(context) == "12345.68")
        #expect(try AlertTemplate(parsing: "{{ $value | humanize }}").render(context) == "12.35k")
        #expect(try AlertTemplate(parsing: "{{ $value | humanizeDuration }}").render(context) == "3h25m46s")
        #expect(try AlertTemplate(parsing: "{{ $labels.a }}-{{ $labels.b }}").render(context) == "x-")
        #expect(try AlertTemplate(parsing: "{{ $expected }}").render(context) == "")
    }

    @Test("malformed actions are refused with where they start")
    func errors() {
        #expect(throws: AlertTemplate.ParseError.self) { try AlertTemplate(parsing: "x {{ $valeu }}") }
        #expect(throws: AlertTemplate.ParseError.self) { try AlertTemplate(parsing: "x {{ $value") }
        #expect(throws: AlertTemplate.ParseError.self) { try AlertTemplate(parsing: "{{ $labels }}") }
        #expect(throws: AlertTemplate.ParseError.self) { try AlertTemplate(parsing: "{{ $value | upper }}") }
        do {
            _ = try AlertTemplate(parsing: "ab {{ $valeu }}")
        } catch {
            #expect(error.offset == 3)
            #expect(error.message.contains("did you mean '$value'"))
        }
    }
}
