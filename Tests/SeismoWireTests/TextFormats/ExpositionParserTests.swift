import SeismoCore
import SeismoTesting
import Testing

@testable import SeismoWire

@Suite("ExpositionParser")
struct ExpositionParserTests {
    static let now = Timestamp(milliseconds: 1_795_300_000_000)

    @Test("comments, HELP and TYPE are skipped; labels, escapes, special values and timestamps are read")
    func fullExample() {
        let text = #"""
            # HELP http_requests_total The total number of HTTP requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400",} 3 1395066363000

            # A comment with {braces} and "quotes".
            msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9
            metric_without_timestamp_and_labels 12.47
            something_weird{problem="division by zero"} +Inf -3982045
            negative_infinity -Inf
            not_a_number NaN
              indented	 {  a = "1" , b="2"  }   	 42
            """#
        let result = ExpositionParser.parse(text, defaultTimestamp: Self.now)
        #expect(result.issues.isEmpty)
        #expect(result.samples.count == 8)
        let first = result.samples[0]
        #expect(first.labels == ["__name__": "http_requests_total", "method": "post", "code": "200"])
        #expect(first.value == 1027)
        #expect(first.timestamp == Timestamp(milliseconds: 1_395_066_363_000))
        #expect(result.samples[1].labels["code"] == "400")
        let msdos = result.samples[2]
        #expect(msdos.labels["path"] == #"C:\DIR\FILE.TXT"#)
        #expect(msdos.labels["error"] == "Cannot find file:\n\"FILE.TXT\"")
        #expect(msdos.value == 1.458255915e9)
        #expect(msdos.timestamp == Self.now)
        #expect(result.samples[3].labels == ["__name__": "metric_without_timestamp_and_labels"])
        #expect(result.samples[4].value == .infinity)
        #expect(result.samples[4].timestamp == Timestamp(milliseconds: -3_982_045))
        #expect(result.samples[5].value == -.infinity)
        #expect(result.samples[6].value.isNaN)
        #expect(result.samples[7].labels == ["__name__": "indented", "a": "1", "b": "2"])
    }

    @Test("each bad line becomes an issue with its line number, and the good lines around it survive")
    func badLines() {
        let lines = [
            "good_one 1",  // 1
            "missing_value",  // 2
            "bad_value{a=\"1\"} twelve",  // 3
            "bad_escape{a=\"\\t\"} 1",  // 4
            "unterminated{a=\"1} 1",  // 5
            "no_equals{a \"1\"} 1",  // 6
            "bad_time 1 12.5",  // 7
            "trailing 1 2 3",  // 8
            "dup{a=\"1\",a=\"2\"} 1",  // 9
            "{a=\"1\"} 1",  // 10
            "unclosed{a=\"1\" 1",  // 11
            "9starts_with_digit 1",  // 12
            "good_two{x=\"y\"} 2 5",  // 13
        ]
        let result = ExpositionParser.parse(lines.joined(separator: "\n"), defaultTimestamp: Self.now)
        #expect(result.samples.map { $0.labels.name } == ["good_one", "good_two"])
        #expect(result.issues.map(\.line) == Array(2...12))
        let messages = Dictionary(uniqueKeysWithValues: result.issues.map { ($0.line, $0.message) })
        #expect(messages[2]?.contains("expected a value") == true)
        #expect(messages[3]?.contains("invalid value") == true)
        #expect(messages[4]?.contains("invalid escape") == true)
        #expect(messages[7]?.contains("invalid timestamp") == true)
        #expect(messages[9]?.contains("duplicate label") == true)
        #expect(result.issues[0].description.hasPrefix("line 2: "))
    }

    @Test("CRLF line endings and empty label values are handled as Prometheus does")
    func crlfAndEmptyValues() {
        let result = ExpositionParser.parse("a{x=\"\",y=\"1\"} 1\r\nb 2\r\n", defaultTimestamp: Self.now)
        #expect(result.issues.isEmpty)
        #expect(result.samples.map(\.labels) == [["__name__": "a", "y": "1"], ["__name__": "b"]])
    }

    @Test("unsorted labels give the same Labels as Labels(validating:)")
    func labelsMatchValidating() throws {
        let result = ExpositionParser.parse("m{z=\"1\",b=\"2\",a=\"3\",_c=\"4\"} 1", defaultTimestamp: Self.now)
        let expected = try Labels(validating: [
            Label("__name__", "m"), Label("z", "1"), Label("b", "2"), Label("a", "3"), Label("_c", "4"),
        ])
        #expect(result.samples.first?.labels == expected)
    }

    @Test("generated exposition text parses back to the generated samples")
    func generatorRoundTrip() {
        let generator = SignalGenerator(seed: 4)
        let result = ExpositionParser.parse(generator.exposition(series: 40, points: 3), defaultTimestamp: Self.now)
        #expect(result.issues.isEmpty)
        #expect(result.samples == generator.samples(series: 40, points: 3))
    }

    @Test("random bytes never trap the parser")
    func randomBytes() {
        var random = SeededRandom(seed: 12)
        let alphabet = Array("ab_:{}=\",\\ \n#0123456789.eE+-InfNa\t".utf8)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0..<80, using: &random)).map { _ in
                Bool.random(using: &random)
                    ? alphabet[Int.random(in: 0..<alphabet.count, using: &random)] : UInt8.random(in: 0...255, using: &random)
            }
            _ = ExpositionParser.parse(bytes, defaultTimestamp: Self.now)
        }
    }
}
