import SeismoPipeline
import Testing

@testable import SeismoAlert

@Suite("AlertCore: rules, dispatch and persistence together, without I/O")
struct AlertCoreTests {
    let spec = AlertingSpec(
        rules: [anomalyRule()],
        route: RouteSpec(receiver: "hook", groupBy: ["service"], groupWait: .seconds(10), groupInterval: .seconds(60)),
        receivers: [ReceiverSpec(name: "hook", kind: .webhook(url: "http://x"))], topic: "alerts.demo")

    @Test("restored from a snapshot while firing: no second announcement, the alert is still firing, and it resolves")
    func restartWhileFiring() throws {
        var core = AlertCore(pipeline: "demo", spec: spec)
        core.observe(windows: [Windows.window(1)], events: [Windows.event(1)], now: 0)
        let r35 = core.takeTransitions()
        #expect(r35.map(\.status) == ["firing"])
        let sent = core.flush(now: 10_000)
        try #require(sent.count == 1)
        core.dispatcher.delivered(sent[0], at: 10_000)
        _ = core.resend.due(now: 10_000)

        var restarted = AlertCore(pipeline: "demo", spec: spec)
        try restarted.restore(core.snapshot())
        let r36 = restarted.flush(now: 70_000)
        #expect(r36.isEmpty)
        let r37 = restarted.takeTransitions()
        #expect(r37.isEmpty)
        #expect(restarted.engine.alerts.map(\.isResolved) == [false])
        let r38 = restarted.resend.due(now: 20_000)
        #expect(r38.alerts.isEmpty)
        // A window that is anomalous again continues the same alert.
        restarted.observe(windows: [Windows.window(2)], events: [Windows.event(2)], now: 75_000)
        let r39 = restarted.takeTransitions()
        #expect(r39.isEmpty)
        restarted.observe(windows: [Windows.window(3)], events: [], now: 80_000)
        let r40 = restarted.takeTransitions()
        #expect(r40.map(\.status) == ["resolved"])
        let resolved = restarted.flush(now: 130_000)
        #expect(resolved.count == 1)
        #expect(resolved.first?.firing.isEmpty == true)
    }

    @Test("a snapshot that does not parse is refused with a state error")
    func badSnapshot() {
        var core = AlertCore(pipeline: "demo", spec: spec)
        #expect(throws: AlertError.self) { try core.restore(Array("{".utf8)) }
    }

    @Test("route defaults and inheritance follow Alertmanager")
    func routeDefaults() {
        let route = AlertCore.route(
            RouteSpec(receiver: "a", groupBy: ["x"], groupWait: .seconds(1), routes: [RouteSpec(groupBy: ["..."]), RouteSpec(receiver: "b")]),
            id: "0", parent: nil)
        #expect(route.groupInterval == 300_000)
        #expect(route.repeatInterval == 14_400_000)
        #expect(route.routes[0].receiver == "a")
        #expect(route.routes[0].groupBy == nil)
        #expect(route.routes[0].groupWait == 1_000)
        #expect(route.routes[1].groupBy == ["x"])
        #expect(route.routes[1].id == "0.1")
    }
}
