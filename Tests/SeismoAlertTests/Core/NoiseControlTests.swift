import Foundation
import SeismoCore
import Testing

@testable import SeismoAlert

func alert(_ labels: AlertLabels, startsAt: Int64 = 0, endsAt: Int64? = nil) -> Alert {
    Alert(labels: labels, startsAt: startsAt, endsAt: endsAt, activeAt: startsAt, value: 1, rule: labels["alertname"] ?? "A")
}

func matchers(_ texts: String...) -> [Matcher] { texts.map { try! Matcher(parsing: $0) } }

@Suite("Routing tree: matchers → receivers, continue, grouping per route (Alertmanager's semantics)")
struct RoutingTests {
    let root = Route(
        receiver: "default", groupBy: ["alertname"],
        routes: [
            Route(id: "0.0", receiver: "pager", matchers: matchers("severity=\"critical\""), groupBy: ["alertname"], continue: true),
            Route(id: "0.1", receiver: "team-web", matchers: matchers("service=~\"web|checkout\""), groupBy: ["service"]),
            Route(id: "0.2", receiver: "team-any", matchers: matchers("service=~\".+\"")),
        ])

    @Test("the first matching child wins; a `continue` child lets later siblings match too")
    func firstMatchAndContinue() {
        #expect(root.match(["service": "checkout", "severity": "critical"]).map(\.receiver) == ["pager", "team-web"])
        #expect(root.match(["service": "checkout"]).map(\.receiver) == ["team-web"])
        #expect(root.match(["service": "db"]).map(\.receiver) == ["team-any"])
    }

    @Test("an alert no child matches stays at the node itself")
    func fallsBackToParent() {
        #expect(root.match(["alertname": "X"]).map(\.receiver) == ["default"])
    }

    @Test("group labels are the route's group_by; nil groups by every label")
    func groupLabels() {
        #expect(root.routes[1].groupLabels(["service": "web", "x": "1"]) == ["service": "web"])
        let all = Route(receiver: "r", groupBy: nil)
        #expect(all.groupLabels(["a": "1", "b": "2"]) == ["a": "1", "b": "2"])
    }
}

@Suite("Silences: matchers, start and expiry")
struct SilenceTests {
    @Test("an active silence mutes alerts its matchers all match, and only while active")
    func mutesWhileActive() throws {
        var set = SilenceSet()
        try set.add(Silence(id: "s1", matchers: ["service=\"checkout\"", "severity=~\"warn.*\""], startsAt: 100, endsAt: 200))
        #expect(set.silencing(["service": "checkout", "severity": "warning"], at: 150) == ["s1"])
        #expect(set.silencing(["service": "checkout", "severity": "critical"], at: 150).isEmpty)
        #expect(set.silencing(["service": "checkout", "severity": "warning"], at: 99).isEmpty)
        #expect(set.silencing(["service": "checkout", "severity": "warning"], at: 200).isEmpty)
        #expect(set.silences[0].state(at: 50) == .pending)
        #expect(set.silences[0].state(at: 250) == .expired)
    }

    @Test("expiring ends a silence now; expiring it again does nothing")
    func expire() throws {
        var set = SilenceSet()
        try set.add(Silence(id: "s1", matchers: ["a=\"1\""], startsAt: 0, endsAt: 1_000))
        let expired = set.expire(id: "s1", at: 500)
        #expect(expired)
        #expect(set.silencing(["a": "1"], at: 600).isEmpty)
        let again = set.expire(id: "s1", at: 700)
        let unknown = set.expire(id: "nope", at: 700)
        #expect(!again)
        #expect(!unknown)
    }

    @Test("bad silences are refused with a reason")
    func invalid() {
        var set = SilenceSet()
        #expect(throws: AlertError.self) { try set.add(Silence(id: "x", matchers: [], startsAt: 0, endsAt: 1)) }
        #expect(throws: AlertError.self) { try set.add(Silence(id: "x", matchers: ["a=\"1\""], startsAt: 5, endsAt: 1)) }
        #expect(throws: AlertError.self) { try set.add(Silence(id: "x", matchers: ["a=~\"(\""], startsAt: 0, endsAt: 1)) }
        #expect(throws: AlertError.self) { try set.add(Silence(id: "x", matchers: ["a=~\".*\""], startsAt: 0, endsAt: 1)) }
        #expect(set.silences.isEmpty)
    }

    @Test("a silence set survives encoding, matchers included")
    func codable() throws {
        var set = SilenceSet()
        try set.add(Silence(id: "s1", matchers: ["a=\"1\""], startsAt: 0, endsAt: 1_000))
        let copy = try JSONDecoder().decode(SilenceSet.self, from: JSONEncoder().encode(set))
        #expect(copy.silencing(["a": "1"], at: 10) == ["s1"])
    }
}

@Suite("Inhibition: a firing critical alert mutes warnings that share its `equal` labels")
struct InhibitionTests {
    let inhibitor = Inhibitor(rules: [
        .init(source: matchers("severity=\"critical\""), target: matchers("severity=\"warning\""), equal: ["service"])
    ])

    @Test("muted when the source fires with the same service; not for another service")
    func equalLabels() {
        let critical = alert(["alertname": "A", "severity": "critical", "service": "checkout"])
        let warning = alert(["alertname": "B", "severity": "warning", "service": "checkout"])
        let other = alert(["alertname": "B", "severity": "warning", "service": "search"])
        #expect(inhibitor.isInhibited(warning, among: [critical, warning, other]))
        #expect(!inhibitor.isInhibited(other, among: [critical, warning, other]))
        #expect(!inhibitor.isInhibited(critical, among: [critical, warning, other]))
    }

    @Test("a resolved source inhibits nothing")
    func resolvedSource() {
        let critical = alert(["severity": "critical", "service": "checkout"], endsAt: 10)
        let warning = alert(["severity": "warning", "service": "checkout"])
        #expect(!inhibitor.isInhibited(warning, among: [critical, warning]))
    }

    @Test("an alert matching source and target does not inhibit itself")
    func notItself() {
        let both = Inhibitor(rules: [.init(source: matchers("a=\"1\""), target: matchers("a=\"1\""), equal: [])])
        let one = alert(["a": "1"])
        #expect(!both.isInhibited(one, among: [one]))
    }
}

@Suite("Dispatcher: group_wait, group_interval, repeat_interval, deduplication, muting")
struct DispatcherTests {
    let root = Route(receiver: "hook", groupBy: ["service"], groupWait: 30_000, groupInterval: 300_000, repeatInterval: 3_600_000)

    @Test("a new group waits group_wait, then notifies once with every alert that arrived meanwhile")
    func groupWait() {
        var d = Dispatcher(root: root)
        d.insert(alert(["alertname": "A", "service": "web"]), now: 0)
        d.insert(alert(["alertname": "B", "service": "web"]), now: 10_000)
        let r17 = d.flush(now: 29_999, silences: SilenceSet())
        #expect(r17.isEmpty)
        let sent = d.flush(now: 30_000, silences: SilenceSet())
        #expect(sent.count == 1)
        #expect(sent[0].groupLabels == ["service": "web"])
        #expect(sent[0].alerts.count == 2)
        #expect(sent[0].receiver == "hook")
    }

    @Test("nothing new: no second notification until repeat_interval; a new firing alert waits for group_interval")
    func dedupAndRepeat() {
        var d = Dispatcher(root: root)
        d.insert(alert(["alertname": "A", "service": "web"]), now: 0)
        let first = d.flush(now: 30_000, silences: SilenceSet())
        d.delivered(first[0], at: 30_000)
        let r18 = d.flush(now: 330_000, silences: SilenceSet())
        #expect(r18.isEmpty)
        d.insert(alert(["alertname": "B", "service": "web"]), now: 340_000)
        let r19 = d.flush(now: 340_000, silences: SilenceSet())
        #expect(r19.isEmpty)
        let second = d.flush(now: 630_000, silences: SilenceSet())
        #expect(second.count == 1)
        #expect(second[0].firing.count == 2)
        d.delivered(second[0], at: 630_000)
        // Repeat after repeat_interval, at the next group_interval tick past it.
        let r20 = d.flush(now: 930_000, silences: SilenceSet())
        #expect(r20.isEmpty)
        let r21 = d.flush(now: 4_230_000, silences: SilenceSet())
        #expect(r21.count == 1)
    }

    @Test("a resolved alert is notified once, then the emptied group goes away")
    func resolved() {
        var d = Dispatcher(root: root)
        d.insert(alert(["alertname": "A", "service": "web"]), now: 0)
        d.delivered(d.flush(now: 30_000, silences: SilenceSet())[0], at: 30_000)
        d.insert(alert(["alertname": "A", "service": "web"], endsAt: 100_000), now: 100_000)
        let sent = d.flush(now: 330_000, silences: SilenceSet())
        #expect(sent.count == 1)
        #expect(sent[0].firing.isEmpty)
        #expect(sent[0].resolved.count == 1)
        d.delivered(sent[0], at: 330_000)
        #expect(d.state.groups.isEmpty)
        #expect(d.nextDeadline == nil)
    }

    @Test("an alert that fired and resolved between two flushes of a new group is never sent")
    func firedAndResolvedUnseen() {
        var d = Dispatcher(root: root)
        d.insert(alert(["alertname": "A", "service": "web"]), now: 0)
        d.insert(alert(["alertname": "A", "service": "web"], endsAt: 5_000), now: 5_000)
        let r22 = d.flush(now: 30_000, silences: SilenceSet())
        #expect(r22.isEmpty)
        #expect(d.state.groups.isEmpty)
    }

    @Test("silenced and inhibited alerts are left out of notifications")
    func muting() throws {
        var silences = SilenceSet()
        try silences.add(Silence(id: "s", matchers: ["alertname=\"Silenced\""], startsAt: 0, endsAt: 1_000_000))
        let inhibitor = Inhibitor(rules: [
            .init(source: matchers("severity=\"critical\""), target: matchers("severity=\"warning\""), equal: ["service"])
        ])
        var d = Dispatcher(root: root, inhibitor: inhibitor)
        d.insert(alert(["alertname": "Silenced", "service": "web"]), now: 0)
        d.insert(alert(["alertname": "Crit", "service": "web", "severity": "critical"]), now: 0)
        d.insert(alert(["alertname": "Warn", "service": "web", "severity": "warning"]), now: 0)
        d.insert(alert(["alertname": "Silenced", "service": "db"]), now: 0)
        let sent = d.flush(now: 30_000, silences: silences)
        #expect(sent.count == 1)
        #expect(sent[0].alerts.map { $0.labels["alertname"] } == ["Crit"])
    }

    @Test("with continue, one alert is grouped under each matching route")
    func perRoute() {
        let tree = Route(
            receiver: "default", groupWait: 0,
            routes: [
                Route(id: "0.0", receiver: "a", matchers: matchers("x=\"1\""), groupBy: ["x"], groupWait: 0, continue: true),
                Route(id: "0.1", receiver: "b", matchers: matchers("x=\"1\""), groupBy: [], groupWait: 0),
            ])
        var d = Dispatcher(root: tree)
        d.insert(alert(["alertname": "A", "x": "1"]), now: 0)
        let r23 = d.flush(now: 0, silences: SilenceSet())
        #expect(Set(r23.map(\.receiver)) == ["a", "b"])
    }
}

@Suite("Alertmanager client contract: resend firing and resolved alerts")
struct AlertmanagerResendTests {
    @Test("a firing alert is sent at once, then every resend delay, with endsAt four delays ahead")
    func firing() {
        var table = AlertmanagerResend(resendDelay: 60_000, resolvedRetention: 900_000)
        table.update(alert(["a": "1"], startsAt: 0))
        let first = table.due(now: 1_000)
        #expect(first.alerts.count == 1)
        #expect(first.validUntil == 241_000)
        let r24 = table.due(now: 60_999)
        #expect(r24.alerts.isEmpty)
        let r25 = table.due(now: 61_000)
        #expect(r25.alerts.count == 1)
    }

    @Test("a resolution is sent at once, resent until the retention passes, then dropped")
    func resolved() {
        var table = AlertmanagerResend(resendDelay: 60_000, resolvedRetention: 120_000)
        table.update(alert(["a": "1"], startsAt: 0))
        _ = table.due(now: 0)
        table.update(alert(["a": "1"], startsAt: 0, endsAt: 10_000))
        let r26 = table.due(now: 10_000)
        #expect(r26.alerts.first?.endsAt == 10_000)
        let r27 = table.due(now: 70_000)
        #expect(r27.alerts.count == 1)
        let r28 = table.due(now: 130_001)
        #expect(r28.alerts.isEmpty)
        #expect(table.nextDeadline == nil)
    }
}

@Suite("Retry policy: exponential backoff with a cap")
struct RetryPolicyTests {
    @Test("delays double from the initial one up to the maximum; none after the last attempt")
    func delays() {
        let policy = RetryPolicy(attempts: 6, initial: .milliseconds(100), maximum: .milliseconds(1_000))
        #expect((1...6).map { policy.delay(after: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1_000), nil,
        ])
    }
}
