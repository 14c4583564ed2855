import SeismoPipeline
import Testing

@testable import SeismoAlert

/// How notifications come out of `AlertCore` and `Dispatcher` when inputs arrive in batches
/// and deliveries take time: every alert that fires while its group is due is announced
/// firing, and a group never has two notifications on their way.
@Suite("Notification flow: batched inputs and notifications in flight")
struct NotificationFlowTests {
    func spec(groupWait: Duration) -> AlertingSpec {
        AlertingSpec(
            rules: [anomalyRule()],
            route: RouteSpec(receiver: "hook", groupBy: ["service"], groupWait: groupWait, groupInterval: .seconds(1)),
            receivers: [ReceiverSpec(name: "hook", kind: .webhook(url: "http://x"))], topic: "alerts.demo")
    }

    @Test("with group_wait 0, an alert that fires and resolves within one input is still notified firing, then resolved")
    func firedAndResolvedInOneInput() throws {
        var core = AlertCore(pipeline: "demo", spec: spec(groupWait: .zero))
        // One worker flush that closed two windows: the anomalous one and the normal one after it.
        core.observe(windows: [Windows.window(1), Windows.window(2)], events: [Windows.event(1)], now: 5_000)
        #expect(core.takeTransitions().map(\.status) == ["firing", "resolved"])
        let first = core.flush(now: 5_000)
        try #require(first.count == 1)
        #expect(first[0].firing.count == 1)
        #expect(first[0].resolved.isEmpty)
        core.dispatcher.delivered(first[0], at: 5_100)
        let second = core.flush(now: 6_000)
        try #require(second.count == 1)
        #expect(second[0].firing.isEmpty)
        #expect(second[0].resolved.count == 1)
        core.dispatcher.delivered(second[0], at: 6_100)
        #expect(core.dispatcher.state.groups.isEmpty)
    }

    @Test("the same input split in two gives the same notifications")
    func splitInputsAgree() throws {
        var core = AlertCore(pipeline: "demo", spec: spec(groupWait: .zero))
        core.observe(windows: [Windows.window(1)], events: [Windows.event(1)], now: 5_000)
        core.observe(windows: [Windows.window(2)], events: [], now: 5_000)
        let first = core.flush(now: 5_000)
        try #require(first.count == 1)
        #expect(first[0].firing.count == 1)
    }

    @Test("while group_wait has not passed, a fired-and-resolved alert stays unsent (Alertmanager's deduplication)")
    func withinGroupWait() {
        var core = AlertCore(pipeline: "demo", spec: spec(groupWait: .seconds(10)))
        core.observe(windows: [Windows.window(1), Windows.window(2)], events: [Windows.event(1)], now: 5_000)
        let sent = core.flush(now: 15_000)
        #expect(sent.isEmpty)
        #expect(core.dispatcher.state.groups.isEmpty)
    }

    @Test("a notification left in the outbox survives a snapshot and restore")
    func outboxPersisted() throws {
        var core = AlertCore(pipeline: "demo", spec: spec(groupWait: .zero))
        core.observe(windows: [Windows.window(1), Windows.window(2)], events: [Windows.event(1)], now: 5_000)
        var restarted = AlertCore(pipeline: "demo", spec: spec(groupWait: .zero))
        try restarted.restore(core.snapshot())
        let sent = restarted.flush(now: 5_050)
        try #require(sent.count == 1)
        #expect(sent[0].firing.count == 1)
    }

    /// A dispatcher (group_wait 0, group_interval 1 s) that has just flushed alert A of group web.
    func dispatcherWithOneSent() throws -> (Dispatcher, AlertNotification) {
        let root = Route(receiver: "hook", groupBy: ["service"], groupWait: 0, groupInterval: 1_000, repeatInterval: 3_600_000)
        var d = Dispatcher(root: root)
        d.insert(alert(["alertname": "A", "service": "web"]), now: 0)
        let first = d.flush(now: 0, silences: SilenceSet())
        try #require(first.count == 1)
        return (d, first[0])
    }

    @Test("a group whose notification is in flight is not flushed; once delivered, the due flush happens at once")
    func inFlightWaits() throws {
        let (sent, first) = try dispatcherWithOneSent()
        var d = sent
        d.insert(alert(["alertname": "B", "service": "web"]), now: 500)
        // group_interval has passed, but the first notification is still on its way.
        let r1 = d.flush(now: 1_000, silences: SilenceSet())
        #expect(r1.isEmpty)
        #expect(!d.hasDue(now: 1_000))
        d.delivered(first, at: 1_500)
        #expect(d.hasDue(now: 1_500))
        let second = d.flush(now: 1_500, silences: SilenceSet())
        try #require(second.count == 1)
        #expect(Set(second[0].firing.compactMap { $0.labels["alertname"] }) == ["A", "B"])
    }

    @Test("an abandoned notification lets its group flush again and, the log unchanged, sends the same alerts")
    func abandonedIsRetried() throws {
        let (sent, first) = try dispatcherWithOneSent()
        var d = sent
        d.abandoned(first)
        let again = d.flush(now: 1_000, silences: SilenceSet())
        #expect(again == [first])
    }
}
