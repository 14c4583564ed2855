import Foundation
import Logging
import SeismoPipeline
import SeismoTesting
import Testing

@testable import SeismoAlert

func notification(_ alerts: [Alert], receiver: String = "hook") -> AlertNotification {
    AlertNotification(receiver: receiver, groupKey: "0:{service=\"checkout\"}", groupLabels: ["service": "checkout"], alerts: alerts)
}

let firingAlert = Alert(
    labels: ["alertname": "LatencyAnomaly", "service": "checkout", "severity": "critical", "pipeline": "demo"],
    annotations: ["summary": "p99 is 0.9s"], startsAt: 1_767_571_200_000, activeAt: 1_767_571_140_000, value: 3, rule: "LatencyAnomaly")

@Suite("Receivers over HTTP: retries, payload shapes (local servers)", .serialized)
struct ReceiverDeliveryTests {
    func delivery(_ receivers: [ReceiverSpec]) -> ReceiverDelivery<ContinuousClock> {
        ReceiverDelivery(receivers: receivers, clock: ContinuousClock(), externalURL: "http://seismo.test", logger: Logger(label: "test"))
    }

    @Test("a receiver that fails 3 times then succeeds gets exactly one delivery")
    func failsThenSucceeds() async throws {
        let received = ReceivedRequests(failFirst: 3)
        let failure = try await withRecordingServer(received) { base in
            await delivery([
                ReceiverSpec(name: "hook", kind: .webhook(url: "\(base)/hook"), attempts: 5, backoff: .milliseconds(10))
            ]).deliver(notification([firingAlert]))
        }
        #expect(failure == nil)
        #expect(received.requests.count == 1)
    }

    @Test("a receiver that stays down fails after its attempts, with the number of attempts")
    func staysDown() async throws {
        let received = ReceivedRequests(failFirst: 100)
        let failure = try await withRecordingServer(received) { base in
            await delivery([
                ReceiverSpec(name: "hook", kind: .webhook(url: "\(base)/hook"), attempts: 3, backoff: .milliseconds(5))
            ]).deliver(notification([firingAlert]))
        }
        #expect(failure?.attempts == 3)
        #expect(received.requests.isEmpty)
    }

    @Test("webhook: Alertmanager's payload, version 4")
    func webhookShape() async throws {
        let received = ReceivedRequests()
        let resolved = Alert(
            labels: ["alertname": "LatencyAnomaly", "service": "checkout", "severity": "warning"], startsAt: 1_000,
            endsAt: 2_000, activeAt: 0, value: 1, rule: "LatencyAnomaly")
        _ = try await withRecordingServer(received) { base in
            await delivery([ReceiverSpec(name: "hook", kind: .webhook(url: "\(base)/hook"))]).deliver(notification([firingAlert, resolved]))
        }
        let request = try #require(received.requests.first)
        #expect(request.path == "/hook")
        let body = try #require(request.json as? [String: Any])
        #expect(body["version"] as? String == "4")
        #expect(body["status"] as? String == "firing")
        #expect(body["receiver"] as? String == "hook")
        #expect(body["groupKey"] as? String == "0:{service=\"checkout\"}")
        #expect(body["groupLabels"] as? [String: String] == ["service": "checkout"])
        #expect(body["commonLabels"] as? [String: String] == ["alertname": "LatencyAnomaly", "service": "checkout"])
        #expect(body["externalURL"] as? String == "http://seismo.test")
        #expect(body["truncatedAlerts"] as? Int == 0)
        let alerts = try #require(body["alerts"] as? [[String: Any]])
        #expect(alerts.map { $0["status"] as? String } == ["firing", "resolved"])
        #expect(alerts[0]["endsAt"] as? String == "0001-01-01T00:00:00Z")
        #expect(alerts[0]["startsAt"] as? String == "2026-01-05T00:00:00.000Z")
        #expect(alerts[0]["fingerprint"] as? String == firingAlert.fingerprint)
        #expect(alerts[1]["endsAt"] as? String == "1970-01-01T00:00:02.000Z")
        #expect((alerts[0]["annotations"] as? [String: String])?["summary"] == "p99 is 0.9s")
    }

    @Test("Slack: an incoming-webhook message with one colored attachment per alert")
    func slackShape() async throws {
        let received = ReceivedRequests()
        _ = try await withRecordingServer(received) { base in
            await delivery([ReceiverSpec(name: "chat", kind: .slack(url: "\(base)/services/T/B/X", channel: "#ops"))])
                .deliver(notification([firingAlert], receiver: "chat"))
        }
        let body = try #require(received.requests.first?.json as? [String: Any])
        #expect(body["channel"] as? String == "#ops")
        #expect((body["text"] as? String)?.hasPrefix("[FIRING:1] ") == true)
        let attachments = try #require(body["attachments"] as? [[String: Any]])
        #expect(attachments.count == 1)
        #expect(attachments[0]["color"] as? String == "danger")
        #expect((attachments[0]["text"] as? String)?.contains("p99 is 0.9s") == true)
        #expect(attachments[0]["fallback"] is String)
    }

    @Test("PagerDuty: an Events v2 trigger, then a resolve with the same dedup key")
    func pagerDutyShape() async throws {
        let received = ReceivedRequests()
        var ended = firingAlert
        ended.endsAt = firingAlert.startsAt + 60_000
        let resolved = ended
        _ = try await withRecordingServer(received) { base in
            let d = delivery([ReceiverSpec(name: "pd", kind: .pagerDuty(url: "\(base)/v2/enqueue", routingKey: "R0UT1NGKEY"))])
            _ = await d.deliver(notification([firingAlert], receiver: "pd"))
            _ = await d.deliver(notification([resolved], receiver: "pd"))
        }
        let bodies = received.requests.compactMap { $0.json as? [String: Any] }
        try #require(bodies.count == 2)
        #expect(bodies[0]["routing_key"] as? String == "R0UT1NGKEY")
        #expect(bodies[0]["event_action"] as? String == "trigger")
        let payload = try #require(bodies[0]["payload"] as? [String: Any])
        #expect(payload["severity"] as? String == "critical")
        #expect((payload["summary"] as? String)?.contains("LatencyAnomaly") == true)
        #expect(payload["source"] as? String == "demo")
        #expect(payload["timestamp"] as? String == "2026-01-05T00:00:00.000Z")
        #expect(bodies[1]["event_action"] as? String == "resolve")
        #expect(bodies[1]["dedup_key"] as? String == bodies[0]["dedup_key"] as? String)
        #expect(["critical", "error", "warning", "info"].contains(payload["severity"] as? String ?? ""))
    }
}

@Suite("Kafka alert records validate against schemas/alert.v1.schema.json (python jsonschema)")
struct AlertRecordSchemaTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("schemas/alert.v1.schema.json")

    @Test("firing and resolved records validate; a resolved one without ends_at does not")
    func validate() async throws {
        var resolved = firingAlert
        resolved.endsAt = firingAlert.startsAt + 5_000
        for alert in [firingAlert, resolved] {
            let result = try await Self.validate(Payloads.kafka(alert, pipeline: "demo"))
            #expect(result.valid, "\(result.output)")
        }
        var broken = try #require(try JSONSerialization.jsonObject(with: Data(Payloads.kafka(resolved, pipeline: "demo"))) as? [String: Any])
        broken["ends_at"] = nil
        broken["ends_at_ms"] = nil
        let result = try await Self.validate(Array(JSONSerialization.data(withJSONObject: broken)))
        #expect(!result.valid)
        let record = try JSONDecoder().decode(Payloads.AlertRecord.self, from: Data(Payloads.kafka(resolved, pipeline: "demo")))
        #expect(record.status == "resolved")
        #expect(record.fingerprint == firingAlert.fingerprint)
    }

    static func validate(_ json: [UInt8]) async throws -> (valid: Bool, output: String) {
        try await JSONSchemaCheck.validate(json, schema: schema.path)
    }
}
