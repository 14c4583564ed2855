import Foundation
import Logging
import SeismoCore
import SeismoPipeline
import SeismoStore
import SeismoTesting
import ServiceLifecycle
import Testing

@testable import SeismoAlert

/// Alert state in a real SQLite store, as `seismo run` keeps it.
struct StorePersistence: AlertStatePersistence {
    let store: SQLiteStore
    func load() async throws -> [UInt8]? { try await store.alertState(key: "demo") }
    func save(_ state: [UInt8]) async throws { try await store.saveAlertState(key: "demo", state) }
}

/// Runs `service` in a service group while `body` runs, then shuts it down gracefully.
func running<T: Sendable>(_ service: some Service, _ body: @Sendable () async throws -> T) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
    return try await withThrowingTaskGroup(of: T?.self) { tasks in
        tasks.addTask {
            try await group.run()
            return nil
        }
        do {
            let result = try await body()
            await group.triggerGracefulShutdown()
            while let next = try await tasks.next() { _ = next }
            return result
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
    }
}

func makeService(_ spec: AlertingSpec, persistence: (any AlertStatePersistence)? = nil) -> AlertService<ContinuousClock> {
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    return AlertService(
        configuration: .init(pipeline: "demo", spec: spec, deadLetterTopic: "deadletter.demo", tick: .milliseconds(20)),
        clock: ContinuousClock(), persistence: persistence, publisher: nil, logger: logger)
}

func get(_ url: String) async throws -> (Int, [UInt8]) {
    let answer = try await HTTPPoster.send("GET", url, timeout: .seconds(5))
    return (answer.status, answer.body)
}

@Suite("AlertService: delivery to a real Alertmanager and webhooks; state across a restart", .serialized)
struct AlertServiceTests {
    let rule = anomalyRule(annotations: ["summary": "score {{ $value }}"])

    @Test("an alert reaches a real Alertmanager (prometheus-alertmanager) with its labels, then resolves there")
    func realAlertmanager() async throws {
        guard let binary = ProcessRunner.which("prometheus-alertmanager") ?? ProcessRunner.which("alertmanager") else {
            Issue.record("prometheus-alertmanager is not installed (make deps)")
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("alertmanager.yml")
        try "route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n".write(to: config, atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let am = try BackgroundProcess(
            binary,
            [
                "--config.file=\(config.path)", "--storage.path=\(directory.path)", "--web.listen-address=127.0.0.1:\(port)",
                "--cluster.listen-address=",
            ])
        defer { am.signal(SIGTERM) }
        let base = "http://127.0.0.1:\(port)"
        var ready = false
        for _ in 0..<200 where !ready {
            ready = ((try? await get("\(base)/-/ready"))?.0 == 200)
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(ready, "alertmanager did not become ready: \(am.stderr)")

        let service = makeService(AlertingSpec(rules: [rule], alertmanagers: [base], topic: "alerts.demo", resendDelay: .seconds(1)))
        try await running(service) {
            service.submit(AlertInput(windows: [Windows.window(1)], events: [Windows.event(1)]))
            var alerts: [[String: Any]] = []
            for _ in 0..<200 where alerts.isEmpty {
                let (_, body) = try await get("\(base)/api/v2/alerts")
                alerts = (try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? []
                if alerts.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            let first = try #require(alerts.first)
            #expect(first["labels"] as? [String: String] == [
                "alertname": "LatencyAnomaly", "service": "checkout", "pipeline": "demo", "detector": "latency_z",
                "severity": "warning",
            ])
            #expect((first["annotations"] as? [String: String])?["summary"] == "score 3")
            #expect((first["status"] as? [String: Any])?["state"] as? String == "active")

            // A normal window resolves it; Alertmanager drops resolved alerts from its list.
            service.submit(AlertInput(windows: [Windows.window(2)], events: []))
            for _ in 0..<200 where !alerts.isEmpty {
                let (_, body) = try await get("\(base)/api/v2/alerts")
                alerts = (try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? []
                if !alerts.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(alerts.isEmpty)
        }
    }

    @Test("a restart while firing neither re-announces the alert nor loses it; the resolution after it is sent")
    func restartWhileFiring() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-alert-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let received = ReceivedRequests()
        try await withRecordingServer(received) { base in
            let spec = AlertingSpec(
                rules: [rule], route: RouteSpec(receiver: "hook", groupBy: ["service"], groupWait: .zero, groupInterval: .milliseconds(100)),
                receivers: [ReceiverSpec(name: "hook", kind: .webhook(url: "\(base)/hook"))], topic: "alerts.demo")

            let first = makeService(spec, persistence: StorePersistence(store: try SQLiteStore(path: path)))
            let startsAt = try await running(first) {
                first.submit(AlertInput(windows: [Windows.window(1)], events: [Windows.event(1)]))
                let requests = try await received.wait(for: 1)
                try #require(requests.count == 1)
                // Let the delivery be recorded before stopping.
                try await Task.sleep(for: .milliseconds(200))
                return first.listing().first?.alert.startsAt
            }

            let second = makeService(spec, persistence: StorePersistence(store: try SQLiteStore(path: path)))
            try await running(second) {
                try await Task.sleep(for: .milliseconds(500))
                #expect(received.requests.count == 1, "the firing alert was announced again after the restart")
                let listed = second.listing()
                #expect(listed.count == 1)
                #expect(listed.first?.alert.isResolved == false)
                #expect(listed.first?.alert.startsAt == startsAt)

                second.submit(AlertInput(windows: [Windows.window(2)], events: []))
                let requests = try await received.wait(for: 2)
                try #require(requests.count == 2)
                let body = try #require(requests[1].json as? [String: Any])
                #expect(body["status"] as? String == "resolved")
            }
        }
    }

    @Test("silences created through the service mute the next notification and survive in the state")
    func silences() async throws {
        let received = ReceivedRequests()
        try await withRecordingServer(received) { base in
            let spec = AlertingSpec(
                rules: [rule], route: RouteSpec(receiver: "hook", groupWait: .zero, groupInterval: .milliseconds(50)),
                receivers: [ReceiverSpec(name: "hook", kind: .webhook(url: "\(base)/hook"))], topic: "alerts.demo")
            let service = makeService(spec)
            try await running(service) {
                let silence = try await service.addSilence(
                    matchers: ["service=\"checkout\""], startsAt: nil, endsAt: Timestamp.now.milliseconds + 60_000, createdBy: "t",
                    comment: "maintenance")
                service.submit(AlertInput(windows: [Windows.window(1)], events: [Windows.event(1)]))
                try await Task.sleep(for: .milliseconds(400))
                #expect(received.requests.isEmpty)
                #expect(service.listing().first?.silencedBy == [silence.id])
                #expect(await service.expireSilence(id: silence.id))
                #expect(try await received.wait(for: 1).count == 1)
            }
        }
    }
}
