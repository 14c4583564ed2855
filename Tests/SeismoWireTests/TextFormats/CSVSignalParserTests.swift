import SeismoCore
import Testing

@testable import SeismoWire

@Suite("CSVSignalParser")
struct CSVSignalParserTests {
    static let now = Timestamp(milliseconds: 1_795_300_000_000)

    @Test("a NAB file: header skipped, naive times are UTC, the default metric name applies")
    func nabFile() throws {
        let text = "timestamp,value\n2014-04-01 00:00:00,20.0\n2014-04-01 00:05:00,19.5\n"
        let result = CSVSignalParser.parse(text, defaultMetricName: "nab_value", now: Self.now)
        #expect(result.issues.isEmpty)
        #expect(result.samples.count == 2)
        #expect(result.samples[0].labels == ["__name__": "nab_value"])
        #expect(result.samples[0].timestamp == TimeParser.parseRFC3339("2014-04-01T00:00:00Z"))
        #expect(result.samples[1].timestamp.milliseconds - result.samples[0].timestamp.milliseconds == 300_000)
        #expect(result.samples[1].value == 19.5)
    }

    @Test("label columns, name=, every time form, quoted fields and special values")
    func labelledRows() {
        let text = #"""
            # exported by hand
            1795300000000,0.5,name=cpu,host=a
            2026-11-21T22:26:40.250Z,NaN,name=cpu,host=b
            1795300000.5,+Inf,host=c
            2026-11-21 22:26:40.125,-Inf,name=mem, "note=a,b ""quoted"""
            now-1m,1,name=up

            """#
        let result = CSVSignalParser.parse(text, defaultMetricName: "value", now: Self.now)
        #expect(result.issues.isEmpty, "\(result.issues)")
        #expect(result.samples.count == 5)
        #expect(result.samples[0].labels == ["__name__": "cpu", "host": "a"])
        #expect(result.samples[0].timestamp == Self.now)
        #expect(result.samples[1].value.isNaN)
        #expect(result.samples[1].timestamp.milliseconds == 1_795_300_000_250)
        #expect(result.samples[2].labels == ["__name__": "value", "host": "c"])
        #expect(result.samples[2].timestamp.milliseconds == 1_795_300_000_500)
        #expect(result.samples[3].labels["note"] == "a,b \"quoted\"")
        #expect(result.samples[3].timestamp.milliseconds == 1_795_300_000_125)
        #expect(result.samples[4].timestamp.milliseconds == Self.now.milliseconds - 60_000)
    }

    @Test("each bad row becomes an issue with its line number; good rows survive")
    func badRows() {
        let text = """
            timestamp,value,labels
            2014-04-01 00:00:00,1
            yesterday,1
            2014-04-01 00:00:00,lots
            2014-04-01 00:00:00
            2014-04-01 00:00:00,1,host
            2014-04-01 00:00:00,1,9host=a
            2014-04-01 00:00:00,1,name=bad-name
            2014-04-01 00:00:00,1,"unterminated
            2014-04-01 00:01:00,2,host=z
            """
        let result = CSVSignalParser.parse(text, defaultMetricName: "v", now: Self.now)
        #expect(result.samples.map(\.value) == [1, 2])
        #expect(result.issues.map(\.line) == [3, 4, 5, 6, 7, 8, 9])
        #expect(result.issues[0].message.contains("invalid time"))
        #expect(result.issues[1].message.contains("invalid value"))
        #expect(result.issues[3].message.contains("label=value"))
    }

    @Test("a header is only recognised on the first row")
    func headerOnlyFirst() {
        let result = CSVSignalParser.parse("1795300000000,1\ntimestamp,value\n", defaultMetricName: "v", now: Self.now)
        #expect(result.samples.count == 1)
        #expect(result.issues.map(\.line) == [2])
    }
}
