import SeismoCore
import Testing

@testable import SeismoWire

@Suite("Loki push decoding")
struct LokiPushTests {
    @Test("protobuf: encode and decode agree, with structured metadata")
    func protobuf() throws {
        let logs = [
            LogRecord(labels: ["job": "api", "pod": "p-1"], unixNanos: 1_700_000_000_123_456_789, body: "GET / 200", attributes: ["trace_id": "abc"]),
            LogRecord(labels: ["job": "api", "pod": "p-1"], unixNanos: 1_700_000_001_000_000_000, body: "line with \"quotes\" and ünïcode"),
            LogRecord(labels: ["job": "db"], unixNanos: 5, body: ""),
        ]
        let decoded = try LokiPush.decodeProtobuf(LokiPush.encodeProtobuf(logs))
        #expect(decoded.logs == logs)
        #expect(decoded.rejected == 0)
    }

    @Test("JSON: streams with values, optional metadata")
    func json() throws {
        let body = """
            {"streams":[{"stream":{"job":"api","level":"info"},"values":[["1700000000000000001","hello"],
              ["1700000000000000002","world",{"user":"u1"}]]}]}
            """
        let decoded = try LokiPush.decodeJSON(Array(body.utf8))
        #expect(decoded.logs == [
            LogRecord(labels: ["job": "api", "level": "info"], unixNanos: 1_700_000_000_000_000_001, body: "hello"),
            LogRecord(labels: ["job": "api", "level": "info"], unixNanos: 1_700_000_000_000_000_002, body: "world", attributes: ["user": "u1"]),
        ])
    }

    @Test("the label text of a stream is parsed with Go quoting, and bad text is rejected")
    func labelText() throws {
        #expect(try LabelSelectorText.parse(#"{job="api", msg="a \"b\" \\ c\n"}"#) == [Label("job", "api"), Label("msg", "a \"b\" \\ c\n")])
        #expect(try LabelSelectorText.parse("{}") == [])
        for bad in ["", "job=\"x\"", "{job=x}", "{job=\"x\"", "{job=\"x\"} extra", "{=\"x\"}", "{job=\"x\",,}"] {
            #expect(throws: WireError.self, "\(bad)") { try LabelSelectorText.parse(bad) }
        }
    }

    @Test("invalid streams are rejected and counted, valid ones kept; hostile bodies fail cleanly")
    func hostile() throws {
        let body = """
            {"streams":[{"stream":{"bad-name":"x"},"values":[["1","a"],["2","b"]]},{"stream":{"job":"ok"},"values":[["3","c"]]}]}
            """
        let decoded = try LokiPush.decodeJSON(Array(body.utf8))
        #expect(decoded.logs.map(\.body) == ["c"])
        #expect(decoded.rejected == 2)
        for bad in ["{}", "[]", "{\"streams\":[{\"values\":[[1,\"x\"]]}]}", "{\"streams\":[{\"values\":[[\"x\",\"y\"]]}]}",
                    String(repeating: "[", count: 50_000)] {
            #expect(throws: WireError.self) { try LokiPush.decodeJSON(Array(bad.utf8)) }
        }
        let valid = LokiPush.encodeProtobuf([LogRecord(labels: ["job": "a"], unixNanos: 1, body: "x")])
        for length in 1..<valid.count {
            #expect(throws: WireError.self) { try LokiPush.decodeProtobuf(Array(valid[0..<length])) }
        }
        var labels: [String] = []
        for i in 0..<1000 { labels.append("l\(i)=\"v\"") }
        let text = "{" + labels.joined(separator: ",") + "}"
        var stream = OTLPDecodingTests.field(1, Array(text.utf8))
        stream += OTLPDecodingTests.field(2, OTLPDecodingTests.field(2, Array("line".utf8)))
        let request = try LokiPush.decodeProtobuf(OTLPDecodingTests.field(1, stream))
        #expect(request.logs.isEmpty && request.rejected == 1)
    }
}
