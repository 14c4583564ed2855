import Testing

@testable import SeismoPipeline

@Suite("remote_write, otlp, loki_push and logs collectors in YAML")
struct ReceiverCollectorTests {
    static func spec(_ collector: String) -> String {
        """
        pipeline: t
        kafka:
          topics:
            signals.t: {}
        collectors:
        \(collector)
        """
    }

    @Test("the receivers compile with their listen address and limits")
    func receivers() throws {
        let pipeline = try load(
            Self.spec(
                """
                  - {name: rw, type: remote_write, topic: signals.t, listen: "127.0.0.1:9201", max_body_bytes: 2048, max_labels: 40}
                  - {name: otel, type: otlp, topic: signals.t, listen: ":4318", max_delta_series: 7}
                  - {name: loki, type: loki_push, topic: signals.t, listen: "[::1]:3100"}
                """))
        let kinds = pipeline.collectors.map(\.kind)
        #expect(kinds.map(\.typeName) == ["remote_write", "otlp", "loki_push"])
        guard case .remoteWrite(let rw) = kinds[0], case .otlp(let otlp) = kinds[1], case .lokiPush(let loki) = kinds[2] else {
            Issue.record("kinds: \(kinds)")
            return
        }
        #expect(rw.listen.host == "127.0.0.1" && rw.listen.port == 9201 && rw.listen.maxBodyBytes == 2048 && rw.listen.maxLabels == 40)
        #expect(otlp.listen.host == "0.0.0.0" && otlp.listen.port == 4318 && otlp.maxDeltaSeries == 7)
        #expect(loki.listen.host == "::1" && loki.listen.port == 3100)
    }

    @Test("logs compiles every key")
    func logs() throws {
        let pipeline = try load(
            Self.spec(
                """
                  - name: app
                    type: logs
                    topic: signals.t
                    paths: [/var/log/app/*.log]
                    regex: '^(?P<level>\\w+) (?<msg>.*)$'
                    labels: {job: app}
                    label_fields: [level]
                    message_field: msg
                    multiline: {start: '^\\w+ ', max_lines: 20}
                    positions: /tmp/p.json
                    poll_interval: 1s
                    start_at: end
                """))
        guard case .logs(let logs) = pipeline.collectors.first?.kind else {
            Issue.record("not a logs collector")
            return
        }
        #expect(logs.paths == ["/var/log/app/*.log"])
        #expect(logs.format == .regex("^(?P<level>\\w+) (?<msg>.*)$"))
        #expect(logs.labels == ["job": "app"] && logs.labelFields == ["level"] && logs.messageField == "msg")
        #expect(logs.multilineStart == "^\\w+ " && logs.multilineMaxLines == 20)
        #expect(logs.positionsPath == "/tmp/p.json" && logs.pollInterval == .seconds(1) && logs.startAtEnd)
    }

    @Test("mistakes are reported at their position, with suggestions", arguments: [
        ("  - {name: rw, type: remote_writ, topic: signals.t, listen: ':1'}", "did you mean 'remote_write'", 6),
        ("  - {name: rw, type: remote_write, topic: signals.t}", "listen", 6),
        ("  - {name: rw, type: remote_write, topic: signals.t, listen: 'nohost'}", "host:port", 6),
        ("  - {name: rw, type: remote_write, topic: signals.t, listen: ':1', max_body: 5}", "did you mean 'max_body_bytes'", 6),
        ("  - {name: rw, type: otlp, topic: signals.t, listen: ':1', max_body_bytes: 10}", "1024", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [relative/*.log]}", "absolute", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], format: regex, regex: '(unclosed'}", "regular expression", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], regex: '(\\w+)'}", "named group", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], format: jsn}", "did you mean 'json'", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], label_fields: [level]}", "raw parses no fields", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], labels: {bad-name: x}}", "not a valid label name", 6),
        ("  - {name: l, type: logs, topic: signals.t, paths: [/a], multiline: {begin: x}}", "unknown key 'begin'", 6),
    ])
    func mistakes(yaml: String, message: String, line: Int) {
        let found = issues(Self.spec(yaml))
        #expect(found.contains { $0.description.contains(message) && $0.line == line }, "\(found.map(\.description))")
    }
}
