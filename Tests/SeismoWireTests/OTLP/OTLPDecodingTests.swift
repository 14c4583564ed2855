import SeismoCore
import Testing

@testable import SeismoWire

/// Known bytes below were serialised by the opentelemetry-proto Python package (1.x).
@Suite("OTLP decoding and translation")
struct OTLPDecodingTests {
    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            out.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// Resource {service.name=checkout, host.name=h1}, scope lib 1.2: gauge queue.depth{queue=q1} 2.5,
    /// cumulative monotonic sum requests 7 (as_int), histogram latency count 6 sum 3.5 buckets [1,2,3] bounds [0.1, 1].
    static let metrics = hex(
        "0af2010a2f0a1a0a0c736572766963652e6e616d65120a0a08636865636b6f75740a110a09686f73742e6e616d6512040a02683112be010a0a0a036c69621203312e3212320a0b71756575652e64657074682a230a211900002a36fe9c97172100000000000004403a0d0a05717565756512040a02713112240a0872657175657374733a180a121900002a36fe9c97173107000000000000001002180112560a076c6174656e63794a4b0a471900002a36fe9c9717210600000000000000290000000000000c4032180100000000000000020000000000000003000000000000003a109a9999999999b93f000000000000f03f1002"
    )
    static let traces = hex(
        "0a8a010a1c0a1a0a0c736572766963652e6e616d65120a0a08636865636b6f7574126a12680a100102030405060708090a0b0c0d0e0f1012081112131415161718220821222324252627282a09474554202f6361727430023900002a36fe9c97174180b21045fe9c97174a170a10687474702e7374617475735f636f6465120318f4037a081204626f6f6d1802"
    )
    static let logs = hex(
        "0a750a1c0a1a0a0c736572766963652e6e616d65120a0a08636865636b6f7574125512530900002a36fe9c971710111a054552524f522a100a0e7061796d656e74206661696c656432110a086f726465722e696412050a036f2d314a100102030405060708090a0b0c0d0e0f1052081112131415161718"
    )
    static let t0: Int64 = 1_700_000_000_000
    static let now = Timestamp(milliseconds: 42)

    static func base(_ extra: [String: String]) -> Labels {
        var labels = [
            "service_name": "checkout", "host_name": "h1", "job": "checkout", "otel_scope_name": "lib", "otel_scope_version": "1.2",
        ]
        for (k, v) in extra { labels[k] = v }
        return try! Labels(validating: labels)
    }

    @Test("protobuf metrics: gauge, cumulative counter with _total, histogram as classic buckets")
    func protobufMetrics() throws {
        var translator = OTLPTranslator()
        let result = translator.metrics(try OTLPProtobuf.decodeMetrics(Self.metrics), now: Self.now)
        let got = Dictionary(uniqueKeysWithValues: result.batch.series.map { ($0.labels, $0.values.first!) })
        let expected: [Labels: Double] = [
            Self.base(["__name__": "queue_depth", "queue": "q1"]): 2.5,
            Self.base(["__name__": "requests_total"]): 7,
            Self.base(["__name__": "latency_bucket", "le": "0.1"]): 1,
            Self.base(["__name__": "latency_bucket", "le": "1"]): 3,
            Self.base(["__name__": "latency_bucket", "le": "+Inf"]): 6,
            Self.base(["__name__": "latency_sum"]): 3.5,
            Self.base(["__name__": "latency_count"]): 6,
        ]
        #expect(got == expected)
        #expect(result.batch.series.allSatisfy { $0.timestamps.first == Self.t0 })
        #expect(result.rejected == 0)
    }

    @Test("protobuf traces become spans with ids, times, status and attributes")
    func protobufTraces() throws {
        let result = OTLPTranslator().spans(try OTLPProtobuf.decodeTraces(Self.traces))
        #expect(result.batch.spans.count == 1)
        let span = try #require(result.batch.spans.first)
        #expect(span.traceIDHex == "0102030405060708090a0b0c0d0e0f10")
        #expect(span.spanIDHex == "1112131415161718")
        #expect(span.parentSpanID.map(Span.hex) == "2122232425262728")
        #expect(span.service == "checkout" && span.name == "GET /cart" && span.kind == .server)
        #expect(span.startUnixNanos == Self.t0 * 1_000_000 && span.durationNanos == 250_000_000)
        #expect(span.status == .error && span.statusMessage == "boom")
        #expect(span.attributes["http.status_code"] == "500" && span.attributes["service.name"] == "checkout")
    }

    @Test("protobuf logs become log records with labels, severity and trace context")
    func protobufLogs() throws {
        let result = OTLPTranslator().logs(try OTLPProtobuf.decodeLogs(Self.logs), now: Self.now)
        let log = try #require(result.batch.logs.first)
        #expect(log.labels == (["service_name": "checkout", "job": "checkout", "order_id": "o-1"] as Labels))
        #expect(log.body == "payment failed" && log.severity == .error)
        #expect(log.unixNanos == Self.t0 * 1_000_000)
        #expect(log.traceID.map(Span.hex) == "0102030405060708090a0b0c0d0e0f10")
        #expect(log.attributes["severity_text"] == "ERROR")
    }

    @Test("JSON decodes to the same signals as protobuf (hex ids, int64 as strings, enums by number or name)")
    func json() throws {
        let metrics = """
            {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},
              {"key":"host.name","value":{"stringValue":"h1"}}]},
              "scopeMetrics":[{"scope":{"name":"lib","version":"1.2"},"metrics":[
                {"name":"queue.depth","gauge":{"dataPoints":[{"timeUnixNano":"1700000000000000000","asDouble":2.5,
                  "attributes":[{"key":"queue","value":{"stringValue":"q1"}}]}]}},
                {"name":"requests","sum":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE","isMonotonic":true,
                  "dataPoints":[{"timeUnixNano":"1700000000000000000","asInt":"7"}]}},
                {"name":"latency","histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1700000000000000000",
                  "count":"6","sum":3.5,"bucketCounts":["1","2","3"],"explicitBounds":[0.1,1]}]}}]}]}]}
            """
        var a = OTLPTranslator()
        var b = OTLPTranslator()
        #expect(
            a.metrics(try OTLPJSON.decodeMetrics(Array(metrics.utf8)), now: Self.now).batch
                == b.metrics(try OTLPProtobuf.decodeMetrics(Self.metrics), now: Self.now).batch)

        let traces = """
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
              "scopeSpans":[{"spans":[{"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"1112131415161718",
                "parentSpanId":"2122232425262728","name":"GET /cart","kind":"SPAN_KIND_SERVER",
                "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000250000000",
                "attributes":[{"key":"http.status_code","value":{"intValue":"500"}}],"status":{"code":2,"message":"boom"}}]}]}]}
            """
        #expect(
            OTLPTranslator().spans(try OTLPJSON.decodeTraces(Array(traces.utf8))).batch
                == OTLPTranslator().spans(try OTLPProtobuf.decodeTraces(Self.traces)).batch)

        let logs = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000000","severityNumber":17,"severityText":"ERROR",
                "body":{"stringValue":"payment failed"},"attributes":[{"key":"order.id","value":{"stringValue":"o-1"}}],
                "traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718"}]}]}]}
            """
        #expect(
            OTLPTranslator().logs(try OTLPJSON.decodeLogs(Array(logs.utf8)), now: Self.now).batch
                == OTLPTranslator().logs(try OTLPProtobuf.decodeLogs(Self.logs), now: Self.now).batch)
    }

    @Test("delta sums are accumulated per series into a cumulative counter; the state is bounded")
    func deltas() throws {
        func request(_ value: Int, series: String) -> String {
            """
            {"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"hits","sum":{"aggregationTemporality":1,"isMonotonic":true,
              "dataPoints":[{"timeUnixNano":"1000000","asInt":"\(value)","attributes":[{"key":"s","value":{"stringValue":"\(series)"}}]}]}}]}]}]}
            """
        }
        var translator = OTLPTranslator(maxDeltaSeries: 1)
        var values: [Double] = []
        for v in [3, 4, 5] {
            let result = translator.metrics(try OTLPJSON.decodeMetrics(Array(request(v, series: "a").utf8)), now: Self.now)
            values += result.batch.series.flatMap { Array($0.values) }
        }
        #expect(values == [3, 7, 12])
        let refused = translator.metrics(try OTLPJSON.decodeMetrics(Array(request(1, series: "b").utf8)), now: Self.now)
        #expect(refused.batch.series.isEmpty && refused.rejected == 1)
        #expect(translator.droppedDeltaSeries == 1)
    }

    @Test("attribute names are sanitised as Prometheus does; colliding names join their values")
    func naming() {
        #expect(OTLPTranslator.labelName("service.name") == "service_name")
        #expect(OTLPTranslator.labelName("3d.model") == "key_3d_model")
        #expect(OTLPTranslator.labelName("__secret") == "key__secret")
        #expect(OTLPTranslator.metricName("http.server.duration") == "http_server_duration")
        #expect(OTLPTranslator.metricName("a..b//c") == "a_b_c")
        #expect(OTLPTranslator.metricName("2xx") == "_2xx")
        let joined = OTLPTranslator.sanitised([OTLP.KeyValue("a.b", .string("1")), OTLP.KeyValue("a_b", .string("2"))])
        #expect(joined == ["a_b": "1;2"])
        #expect(OTLPTranslator.formatBound(0.25) == "0.25" && OTLPTranslator.formatBound(10) == "10")
    }

    @Test("hostile input fails with an error: truncation, deep nesting, bad ids, invalid UTF-8, wrong types")
    func hostile() throws {
        for length in [1, 10, 50, Self.metrics.count - 1] {
            #expect(throws: WireError.self) { try OTLPProtobuf.decodeMetrics(Array(Self.metrics[0..<length])) }
        }
        var deep = "{\"stringValue\":\"x\"}"
        for _ in 0..<100 { deep = "{\"arrayValue\":{\"values\":[\(deep)]}}" }
        let body = "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":\(deep)}]}]}]}"
        #expect(throws: WireError.self) { try OTLPJSON.decodeLogs(Array(body.utf8)) }
        var veryDeep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: WireError.self) { try OTLPJSON.decodeLogs(Array(veryDeep.utf8)) }
        veryDeep = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"zz\"}]}]}]}"
        #expect(throws: WireError.self) { try OTLPJSON.decodeTraces(Array(veryDeep.utf8)) }
        #expect(throws: WireError.self) { try OTLPJSON.decodeTraces([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]) }
        #expect(throws: WireError.self) { try OTLPJSON.decodeMetrics(Array("{\"resourceMetrics\":7}".utf8)) }
        // A span whose ids have the wrong length is rejected by the translator, not decoded into a bad Span.
        let short = "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"x\"}]}]}]}"
        let result = OTLPTranslator().spans(try OTLPJSON.decodeTraces(Array(short.utf8)))
        #expect(result.batch.spans.isEmpty && result.rejected == 1)
    }

    @Test("protobuf AnyValue nesting beyond the limit is rejected")
    func deepProtobuf() throws {
        // KeyValue{key: "k", value: AnyValue{array_value: {values: [AnyValue{array_value: …}]}}}
        var value: [UInt8] = [0x0A, 0x01, 0x78]
        for _ in 0..<(OTLPProtobuf.maxDepth + 2) {
            let array = Self.field(1, value)
            value = Self.field(5, array)
        }
        let kv = Self.field(1, Array("k".utf8)) + Self.field(2, value)
        let record = Self.field(6, kv)
        let request = Self.field(1, Self.field(2, Self.field(2, record)))
        #expect(throws: WireError.self) { try OTLPProtobuf.decodeLogs(request) }
    }

    static func field(_ number: UInt8, _ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [number << 3 | 2]
        var length = bytes.count
        while length >= 0x80 {
            out.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        return out + bytes
    }
}

@Suite("OTLP trace encoding")
struct OTLPEncodingTests {
    @Test("encoded traces decode to the same spans, with every AnyValue kind")
    func roundTrip() throws {
        var context = OTLP.Context()
        context.resource = [OTLP.KeyValue("service.name", .string("svc"))]
        context.scopeName = "lib"
        var span = OTLP.SpanData()
        span.traceID = Array(1...16)
        span.spanID = Array(1...8)
        span.name = "op"
        span.kind = 3
        span.startTimeUnixNano = 10
        span.endTimeUnixNano = 25
        span.statusCode = 2
        span.statusMessage = "bad"
        span.attributes = [
            OTLP.KeyValue("s", .string("x")), OTLP.KeyValue("b", .bool(true)), OTLP.KeyValue("i", .int(-3)),
            OTLP.KeyValue("d", .double(0.5)), OTLP.KeyValue("a", .array([.int(1), .string("y")])),
            OTLP.KeyValue("m", .keyValues([OTLP.KeyValue("k", .bytes([0xAB]))])),
        ]
        let groups = [OTLP.SpanGroup(context: context, spans: [span])]
        #expect(try OTLPProtobuf.decodeTraces(OTLPProtobuf.encodeTraces(groups)) == groups)
        let mapped = OTLPTranslator().spans(groups).batch.spans
        #expect(mapped.first?.attributes["a"] == "[1,\"y\"]" && mapped.first?.attributes["m"] == "{\"k\":\"ab\"}")
    }
}
