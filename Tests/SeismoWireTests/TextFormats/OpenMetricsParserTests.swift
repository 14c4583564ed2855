import SeismoCore
import Testing

@testable import SeismoWire

@Suite("ExpositionParser, OpenMetrics")
struct OpenMetricsParserTests {
    static let now = Timestamp(milliseconds: 1_795_300_000_000)

    @Test("counters, gauges, histograms and summaries with second timestamps; exemplars skipped; # EOF ends")
    func fullExample() {
        let text = #"""
            # TYPE acme_http_router_request_seconds summary
            # UNIT acme_http_router_request_seconds seconds
            acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
            acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
            acme_http_router_request_seconds{path="/api/v1",method="GET",quantile="0.5"} 0.25
            # TYPE foo counter
            foo_total 17.0 1520879607.789 # {id="counter-test"} 5
            foo_created 1520872607.123
            # TYPE hist histogram
            hist_bucket{le="0.01"} 0 # {trace_id="KOO5S4vxi0o"} 0.004 1520879607.7
            hist_bucket{le="+Inf"} 17
            hist_count 17
            hist_sum 324789.3
            # TYPE temp gauge
            temp{room="a \"quoted\" \\ name\nnext"} -1.5e-3 1520879607
            # EOF
            after_eof 1
            """#
        let result = ExpositionParser.parse(text, defaultTimestamp: Self.now, format: .openMetrics)
        #expect(result.issues.isEmpty, "\(result.issues)")
        #expect(result.samples.map { $0.labels.name! } == [
            "acme_http_router_request_seconds_sum", "acme_http_router_request_seconds_count",
            "acme_http_router_request_seconds", "foo_total", "foo_created", "hist_bucket", "hist_bucket", "hist_count",
            "hist_sum", "temp",
        ])
        let foo = result.samples[3]
        #expect(foo.value == 17)
        #expect(foo.timestamp == Timestamp(milliseconds: 1_520_879_607_789))
        #expect(result.samples[2].labels["quantile"] == "0.5")
        #expect(result.samples[5].labels["le"] == "0.01")
        #expect(result.samples[5].timestamp == Self.now)
        #expect(result.samples[6].value == 17)
        let temp = result.samples[9]
        #expect(temp.labels["room"] == "a \"quoted\" \\ name\nnext")
        #expect(temp.value == -0.0015)
        #expect(temp.timestamp == Timestamp(milliseconds: 1_520_879_607_000))
    }

    @Test("a malformed exemplar or timestamp is an issue for its line only")
    func badExemplars() {
        let text = [
            "ok_1 1",
            "no_brace 1 # trace 2",
            "bad_value 1 # {a=\"b\"} x",
            "bad_ts 1 1.2.3",
            "ok_2 2 10 # {a=\"b\"} 1 1.5",
        ].joined(separator: "\n")
        let result = ExpositionParser.parse(text, defaultTimestamp: Self.now, format: .openMetrics)
        #expect(result.samples.map { $0.labels.name! } == ["ok_1", "ok_2"])
        #expect(result.issues.map(\.line) == [2, 3, 4])
        #expect(result.samples[1].timestamp == Timestamp(milliseconds: 10_000))
    }

    @Test("in text 0.0.4 an exemplar is not allowed and timestamps are milliseconds")
    func textFormatUnchanged() {
        let result = ExpositionParser.parse("a 1 1500\nb 1 # {x=\"y\"} 1\n", defaultTimestamp: Self.now)
        #expect(result.samples.count == 1)
        #expect(result.samples[0].timestamp == Timestamp(milliseconds: 1500))
        #expect(result.issues.map(\.line) == [2])
    }

    @Test("the Content-Type picks the format")
    func contentType() {
        #expect(ExpositionParser.Format(contentType: "application/openmetrics-text; version=1.0.0; charset=utf-8") == .openMetrics)
        #expect(ExpositionParser.Format(contentType: "text/plain; version=0.0.4; charset=utf-8") == .prometheusText)
        #expect(ExpositionParser.Format(contentType: nil) == .prometheusText)
    }
}
