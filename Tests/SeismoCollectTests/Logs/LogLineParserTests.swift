import SeismoCore
import SeismoPipeline
import Testing

@testable import SeismoCollect

@Suite("Log line parsing and multi-line joining")
struct LogLineParserTests {
    static func record(_ outcome: LogLineParser.Outcome) -> LogRecord? {
        switch outcome {
        case .parsed(let r): r
        case .unparsed(let r, _): r
        }
    }

    @Test("json: fields, labels from fields and static config, message, level and time")
    func json() throws {
        let spec = LogsSpec(
            paths: [], format: .json, labels: ["job": "app"], labelFields: ["service"], timestampField: "ts", messageField: "msg",
            levelField: "level")
        let parser = try LogLineParser(spec: spec)
        let outcome = parser.parse(
            #"{"ts":"2026-11-22T10:00:00.250Z","level":"WARN","msg":"slow query","service":"db","ms":1234,"ok":false,"tags":["a"]}"#,
            file: "/var/log/a.log", readNanos: 7)
        guard case .parsed(let record) = outcome else { Issue.record("not parsed: \(outcome)"); return }
        #expect(record.labels == (["job": "app", "service": "db", "filename": "/var/log/a.log"] as Labels))
        #expect(record.body == "slow query" && record.severity == .warn)
        #expect(record.unixNanos == 1_795_341_600_250_000_000)
        #expect(record.attributes == ["ms": "1234", "ok": "false", "tags": "[\"a\"]"])
    }

    @Test("logfmt: bare, quoted and escaped values")
    func logfmt() throws {
        let parser = try LogLineParser(spec: LogsSpec(paths: [], format: .logfmt, labelFields: ["level"], messageField: "msg"))
        let record = try #require(Self.record(parser.parse(#"level=info msg="user \"bob\" logged in" user=bob dry_run"#, file: "f", readNanos: 1)))
        #expect(record.labels["level"] == "info")
        #expect(record.body == #"user "bob" logged in"#)
        #expect(record.attributes == ["user": "bob", "dry_run": ""])
    }

    @Test("regex: named groups (both syntaxes); a line that does not match is kept raw and reported")
    func regex() throws {
        let spec = LogsSpec(
            paths: [], format: .regex(#"^(?P<ip>\S+) \S+ \S+ \[[^\]]+\] "(?<method>[A-Z]+) (?<path>\S+)[^"]*" (?<status>\d{3})"#),
            labelFields: ["method", "status"])
        let parser = try LogLineParser(spec: spec)
        let line = #"10.0.0.1 - - [22/Nov/2026:10:00:00 +0000] "GET /cart HTTP/1.1" 503 12"#
        let record = try #require(Self.record(parser.parse(line, file: "access.log", readNanos: 1)))
        #expect(record.labels["method"] == "GET" && record.labels["status"] == "503")
        #expect(record.attributes == ["ip": "10.0.0.1", "path": "/cart"])
        #expect(record.body == line)
        guard case .unparsed(let raw, _) = parser.parse("garbage", file: "access.log", readNanos: 1) else {
            Issue.record("garbage parsed")
            return
        }
        #expect(raw?.body == "garbage")
        #expect(throws: CollectError.self) { try LogLineParser(spec: LogsSpec(paths: [], format: .regex("(unclosed"))) }
    }

    @Test("a parsed field that is not a valid label value set is reported, not crashed on")
    func invalidLabel() throws {
        let parser = try LogLineParser(spec: LogsSpec(paths: [], format: .json, labels: ["bad-name": "x"]))
        guard case .unparsed(nil, let reason) = parser.parse("{}", file: "f", readNanos: 1) else {
            Issue.record("expected a rejection")
            return
        }
        #expect(reason.contains("labels"))
    }

    @Test("multi-line: a start pattern begins an entry, other lines join it; offsets cover whole entries")
    func multiline() throws {
        var joiner = MultilineJoiner(start: try NamedRegex(#"^\d{4}-"#), maxLines: 3)
        var out: [(String, Int64)] = []
        let lines = ["2026-01-01 boom", "  at a()", "  at b()", "2026-01-01 ok", "x", "y", "z", "w"]
        var offset: Int64 = 0
        for line in lines {
            let end = offset + Int64(line.utf8.count) + 1
            if let entry = joiner.add(line, from: offset, to: end) { out.append(entry) }
            offset = end
        }
        #expect(out.map(\.0) == ["2026-01-01 boom\n  at a()\n  at b()", "2026-01-01 ok\nx\ny"])
        #expect(out[0].1 == 34)
        #expect(joiner.hasPending && joiner.pendingStart == 52)
        #expect(joiner.flush()?.0 == "z\nw")
    }
}
