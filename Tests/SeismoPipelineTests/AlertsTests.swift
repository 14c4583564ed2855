import SeismoCore
import Testing

@testable import SeismoPipeline

/// `minimalSpec` with a detector, and `alerts` appended.
func alertSpec(_ alerts: String) -> String {
    minimalSpec + """

        detectors:
          - {name: z, type: zscore, stream: s, features: [n]}
        alerts:
        \(alerts)
        """
}

@Suite("alerts: rules, routing, receivers and inhibition compile with positions and suggestions")
struct AlertsTests {
    @Test("a predictive rule's detector must be a seasonal detector of its stream reading its feature")
    func predictiveDetector() throws {
        let spec = minimalSpec + """

            detectors:
              - {name: z, type: zscore, stream: s, features: [n]}
              - {name: season, type: seasonal, stream: s, features: [n]}
            alerts:
              rules:
                - name: Full
                  predict: {stream: s, feature: n, threshold: 100, within: 4h, detector: season}
                - name: Wrong
                  predict: {stream: s, feature: n, threshold: 100, within: 4h, detector: z}
            """
        let found = issues(spec)
        #expect(found.count == 1)
        #expect(found.first?.path == "alerts.rules[1].predict.detector")
        #expect(found.first?.message.contains("no seasonal detector 'z' reads feature 'n' of stream 's'") == true)
        let fixed = try PipelineLoader.load(yaml: spec.replacingOccurrences(of: "detector: z}", with: "detector: season}"), file: "t.yaml")
        guard case .predictive(let condition) = fixed.alerting?.rules[0].condition else {
            Issue.record("not a predictive rule")
            return
        }
        #expect(condition.detector == "season")
    }

    @Test("a full section compiles into the model, with the alert topic among the topics")
    func compiles() throws {
        let pipeline = try load(
            alertSpec("""
                  alertmanagers: [http://127.0.0.1:9093]
                  resend_delay: 30s
                  rules:
                    - name: Anomalous
                      detector: z
                      for: 2m
                      windows: {k: 2, n: 3}
                      min_duration: 1m
                      keep_firing_for: 5m
                      labels: {team: 'web-{{ $labels.service }}'}
                      annotations: {summary: 'n={{ $observed.n | printf "%.1f" }}'}
                    - name: Growing
                      predict: {stream: s, feature: n, threshold: 100, within: 4h}
                    - name: Query
                      expr: up == 0
                  route:
                    receiver: hook
                    group_by: [alertname, service]
                    group_wait: 0s
                    routes:
                      - {matchers: ['severity="critical"'], receiver: pager, continue: true}
                  receivers:
                    - {name: hook, webhook: {url: 'http://127.0.0.1:5001/'}, attempts: 3, timeout: 2s}
                    - {name: pager, pagerduty: {routing_key: K}}
                  inhibit_rules:
                    - {source_matchers: ['severity="critical"'], target_matchers: ['severity="warning"'], equal: [service]}
                """))
        let alerting = try #require(pipeline.alerting)
        #expect(alerting.topic == "alerts.t")
        #expect(pipeline.kafka.topics.map(\.name).contains("alerts.t"))
        #expect(alerting.resendDelay == .seconds(30))
        #expect(alerting.rules.map(\.name) == ["Anomalous", "Growing", "Query"])
        guard case .anomaly(let condition) = alerting.rules[0].condition else {
            Issue.record("not an anomaly rule")
            return
        }
        #expect(condition.stream == "s")
        #expect(condition.hop == .seconds(60))
        #expect(condition.k == 2)
        #expect(condition.n == 3)
        #expect(alerting.rules[0].holdFor == .seconds(120))
        #expect(alerting.rules[0].keepFiringFor == .seconds(300))
        #expect(alerting.rules[0].labels["team"]?.source == "web-{{ $labels.service }}")
        #expect(alerting.rules[1].condition == .predictive(.init(stream: "s", feature: "n", threshold: 100, within: .seconds(14_400))))
        #expect(alerting.rules[2].condition == .query(expression: "up == 0"))
        #expect(alerting.route.receiver == "hook")
        #expect(alerting.route.groupBy == ["alertname", "service"])
        #expect(alerting.route.groupWait == .zero)
        #expect(alerting.route.routes.first?.continue == true)
        #expect(alerting.route.routes.first?.matchers == [try Matcher(parsing: "severity=\"critical\"")])
        #expect(alerting.receivers.map(\.name) == ["hook", "pager"])
        #expect(alerting.receivers[0].attempts == 3)
        #expect(alerting.receivers[1].kind == .pagerDuty(url: "https://events.pagerduty.com/v2/enqueue", routingKey: "K"))
        #expect(alerting.inhibitRules.first?.equal == ["service"])
    }

    @Test("an unknown detector is reported where it is written, with a suggestion")
    func unknownDetector() throws {
        let issue = try onlyIssue(alertSpec("  rules:\n    - {name: A, detector: zz}"))
        #expect(issue.code == .unknownReference)
        #expect(issue.path == "alerts.rules[0].detector")
        #expect(issue.message.contains("did you mean 'z'"))
        #expect(issue.line > 0 && issue.column > 0)
    }

    @Test("a bad template is reported at the action's column")
    func badTemplate() throws {
        let issue = try onlyIssue(alertSpec("  rules:\n    - name: A\n      detector: z\n      annotations:\n        summary: 'x {{ $valeu }}'"))
        #expect(issue.code == .invalidValue)
        #expect(issue.path == "alerts.rules[0].annotations.summary")
        #expect(issue.message.contains("did you mean '$value'"))
        // `summary: '` starts at column 18; the action at offset 2 inside the quote.
        #expect(issue.column == 21)
    }

    @Test("misspelt keys, unknown receivers, bad matchers and rules of no kind are all reported")
    func manyIssues() {
        let found = issues(
            alertSpec("""
                  rules:
                    - {name: A, detectr: z}
                    - {name: B, detector: z, expr: up}
                  route: {receiver: hok, routes: [{matchers: ['severity=critical']}]}
                  receivers:
                    - {name: hook, webhook: {url: 'ftp://x'}}
                """))
        let messages = found.map(\.message)
        #expect(messages.contains { $0.contains("unknown key 'detectr'; did you mean 'detector'?") })
        #expect(messages.contains { $0.contains("only one of detector, predict and expr") })
        #expect(messages.contains { $0.contains("no receiver is called 'hok'; did you mean 'hook'?") })
        #expect(messages.contains { $0.contains("invalid matcher 'severity=critical'") })
        #expect(messages.contains { $0.contains("expected an http:// or https:// URL") })
        #expect(found.allSatisfy { $0.line > 0 })
    }

    @Test("without a route, alerts go to the first receiver; without receivers, to a null receiver")
    func defaults() throws {
        let none = try #require(try load(alertSpec("  rules:\n    - {name: A, detector: z}")).alerting)
        #expect(none.route.receiver == "default")
        #expect(none.receivers.map(\.name) == ["default"])
        #expect(none.receivers.first?.kind == nil)
        let one = try #require(
            try load(alertSpec("  receivers:\n    - {name: r, slack: {url: 'https://hooks.slack.test/x', channel: '#a'}}")).alerting)
        #expect(one.route.receiver == "r")
    }
}
