import Foundation
import SeismoCore
import SeismoTesting
import Testing

/// `seismo run` with an `alerts:` section: the fixture's latency spike becomes an alert that
/// reaches a real Alertmanager and a webhook receiver, then resolves at both.
@Suite("seismo run, alerting end to end", .serialized)
struct AlertEndToEndTests {
    /// A webhook receiver in python3's standard library: appends each POST body as one line
    /// to `file` and answers 200.
    static let receiverScript = """
        import http.server, sys, json
        out = sys.argv[1]
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                with open(out, 'a') as f: f.write(json.dumps(json.loads(body)) + '\\n')
                self.send_response(200); self.end_headers()
            def log_message(self, *a): pass
        s = http.server.HTTPServer(('127.0.0.1', 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """

    func get(_ url: String) async throws -> [[String: Any]] {
        let curl = try #require(ProcessRunner.which("curl"), "curl is not installed (make deps installs it)")
        let out = try await ProcessRunner.run(curl, ["-sf", url])
        return (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("an anomaly reaches a real Alertmanager and a webhook as an alert, then resolves at both")
    func anomalyToAlertmanagerAndWebhook() async throws {
        let binary = try #require(
            ProcessRunner.which("prometheus-alertmanager") ?? ProcessRunner.which("alertmanager"),
            "prometheus-alertmanager is not installed (make deps installs it)")
        let fixture = try PipelineFixture(name: "alerting")
        defer { fixture.remove() }
        let dir = fixture.directory.path

        // Alertmanager.
        try "route: {receiver: blackhole}\nreceivers: [{name: blackhole}]\n".write(
            toFile: "\(dir)/am.yml", atomically: true, encoding: .utf8)
        let amPort = freeLoopbackPort()
        let am = try BackgroundProcess(
            binary,
            ["--config.file=\(dir)/am.yml", "--storage.path=\(dir)/am", "--web.listen-address=127.0.0.1:\(amPort)",
             "--cluster.listen-address="])
        defer { am.signal(SIGTERM) }
        // The webhook receiver.
        let hooks = "\(dir)/hooks.jsonl"
        let receiver = try BackgroundProcess("/usr/bin/env", ["python3", "-c", Self.receiverScript, hooks])
        defer { receiver.signal(SIGKILL) }
        var hookPort = ""
        for _ in 0..<200 where hookPort.isEmpty {
            hookPort = receiver.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if hookPort.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(!hookPort.isEmpty, "webhook receiver did not start: \(receiver.stderr)")

        let (broker, brokers) = try await PipelineFixture.startBroker(in: fixture.directory, topics: ["signals.alerting:2"])
        defer { broker.signal(SIGKILL) }
        let yaml = fixture.pipelineYAML(consumerGroup: "alerting") + """

            alerts:
              alertmanagers: [http://127.0.0.1:\(amPort)]
              resend_delay: 1s
              rules:
                - name: LatencySpike
                  detector: latency_z
                  labels: {team: 'svc-{{ $labels.service }}'}
                  annotations: {summary: 'latency {{ $observed.latency_avg | printf "%.2f" }}s'}
              route: {receiver: hook, group_by: [service], group_wait: 0s, group_interval: 1s}
              receivers:
                - {name: hook, webhook: {url: 'http://127.0.0.1:\(hookPort)/hook'}}
            """
        let path = "\(dir)/alerting.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)

        // Up to and including the step that closes the spike's window.
        let closing = (PipelineFixture.spikeStep / 6 + 1) * 6
        try await fixture.publish(steps: 0..<(closing + 1), brokers: brokers)
        let run = try fixture.run(pipeline: path, brokers: brokers, dataDir: "\(dir)/data")
        defer { run.signal(SIGKILL) }

        var delivered: [[String: Any]] = []
        for _ in 0..<600 where delivered.isEmpty {
            delivered = lines(hooks)
            if delivered.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let firing = try #require(delivered.first, "no webhook: \(run.stderr.suffix(3000))")
        #expect(firing["version"] as? String == "4")
        #expect(firing["status"] as? String == "firing")
        let alert = try #require((firing["alerts"] as? [[String: Any]])?.first)
        let labels = alert["labels"] as? [String: String] ?? [:]
        #expect(labels["alertname"] == "LatencySpike")
        #expect(labels["service"] == "a")
        #expect(labels["team"] == "svc-a")
        #expect(labels["pipeline"] == "alerting")
        #expect((alert["annotations"] as? [String: String])?["summary"]?.hasPrefix("latency ") == true)

        var inAlertmanager: [[String: Any]] = []
        for _ in 0..<200 where inAlertmanager.isEmpty {
            inAlertmanager = try await get("http://127.0.0.1:\(amPort)/api/v2/alerts")
            if inAlertmanager.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        let amLabels = try #require(inAlertmanager.first?["labels"] as? [String: String])
        #expect(amLabels == labels)

        // The next, normal window resolves it.
        try await fixture.publish(steps: (closing + 1)..<PipelineFixture.steps, brokers: brokers)
        for _ in 0..<600 where delivered.count < 2 {
            delivered = lines(hooks)
            if delivered.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(delivered.count == 2, "firing, then resolved: \(delivered)")
        #expect(delivered.last?["status"] as? String == "resolved")
        for _ in 0..<200 where !inAlertmanager.isEmpty {
            inAlertmanager = try await get("http://127.0.0.1:\(amPort)/api/v2/alerts")
            if !inAlertmanager.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(inAlertmanager.isEmpty, "resolved in Alertmanager")

        // The same alert, firing and resolved, on alerts.alerting (read with kcat).
        let kcat = try #require(Binaries.kcat)
        let consumed = try await ProcessRunner.run(
            kcat, ["-C", "-b", brokers, "-t", "alerts.alerting", "-o", "beginning", "-e", "-q"], timeout: .seconds(30))
        let records = consumed.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(records.map { $0["status"] as? String } == ["firing", "resolved"])

        run.signal(SIGTERM)
        #expect(try await run.wait(timeout: .seconds(30)) == 0, "graceful shutdown: \(run.stderr.suffix(2000))")
    }
}
