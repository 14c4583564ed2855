import Testing

@testable import SeismoCore

/// Specification of `DurationParser`: Prometheus's duration syntax.
@Suite("DurationParser")
struct DurationParserTests {
    static let second: Int64 = 1000
    static let minute: Int64 = 60 * second
    static let hour: Int64 = 60 * minute
    static let day: Int64 = 24 * hour

    @Test(
        "parses <integer><unit> terms in decreasing unit order",
        arguments: [
            ("30s", 30 * second), ("5m", 5 * minute), ("1h", hour), ("1h30m", hour + 30 * minute),
            ("500ms", 500), ("1s500ms", 1500), ("1d", day), ("2w", 14 * day), ("1y", 365 * day),
            ("1y2w3d4h5m6s7ms", 365 * day + 14 * day + 3 * day + 4 * hour + 5 * minute + 6 * second + 7),
            ("0s", 0), ("0ms", 0), ("90s", 90 * second), ("90m", 90 * minute), ("36h", 36 * hour),
            ("1h0m", hour), ("007s", 7 * second), ("1m1ms", minute + 1), ("1h1s", hour + second),
        ] as [(String, Int64)])
    func parsesUnits(text: String, milliseconds: Int64) throws {
        #expect(try DurationParser.parseMilliseconds(text) == milliseconds)
        #expect(try DurationParser.parse(text) == .milliseconds(milliseconds))
    }

    @Test(
        "a bare number is seconds, with an optional fraction, rounded to the millisecond",
        arguments: [
            ("30", 30 * second), ("1.5", 1500), ("0", 0), ("0.001", 1), ("0.0004", 0), ("0.0006", 1), ("15.25", 15_250),
            ("86400", day), ("1.", 1000), (".5", 500),
        ] as [(String, Int64)])
    func bareSeconds(text: String, milliseconds: Int64) throws {
        #expect(try DurationParser.parseMilliseconds(text) == milliseconds)
    }

    @Test(
        "malformed durations are rejected with .invalidDuration and the input as context",
        arguments: [
            "", "1x", "m", "ms", "s1", "30m1h", "1s1m", "1m1m", "1ms1s", "1.5h", "-1s", "-1", "+1s", "1h 30m", " 1h",
            "1h ", "1H", "1S", "5min", "1e3", "1h30", "1h30mx", "1.2.3", ".", "1d1y", "nan", "inf", "1_000s", "1µs",
        ])
    func rejectsMalformed(text: String) {
        let error = #expect(throws: SeismoError.self) { try DurationParser.parseMilliseconds(text) }
        #expect(error?.code == .invalidDuration)
        #expect(error?.context == text)
        #expect(throws: SeismoError.self) { try DurationParser.parse(text) }
    }

    @Test("units must appear in decreasing order, each at most once")
    func unitOrder() throws {
        #expect(try DurationParser.parseMilliseconds("1h30m") == Self.hour + 30 * Self.minute)
        let reversed = #expect(throws: SeismoError.self) { try DurationParser.parseMilliseconds("30m1h") }
        #expect(reversed?.code == .invalidDuration)
        let repeated = #expect(throws: SeismoError.self) { try DurationParser.parseMilliseconds("1h1h") }
        #expect(repeated?.code == .invalidDuration)
    }

    @Test(
        "durations beyond Int64 milliseconds are rejected, not wrapped",
        arguments: [
            "9223372036854775808ms",  // Int64.max + 1
            "99999999999999999999s",  // the number itself overflows
            "292471209y",  // the term overflows
            "292471208y35w2d7h12m55s808ms",  // the sum overflows by one
            "9223372036854775808",  // bare seconds
            "9223372036854776",  // bare seconds: 2^63 ms and a little
            "1" + String(repeating: "0", count: 400),  // bare, past Double's range
        ])
    func rejectsOverflow(text: String) {
        let error = #expect(throws: SeismoError.self) { try DurationParser.parseMilliseconds(text) }
        #expect(error?.code == .invalidDuration)
    }

    @Test("the largest representable duration parses exactly")
    func largest() throws {
        #expect(try DurationParser.parseMilliseconds("9223372036854775807ms") == .max)
        #expect(try DurationParser.parseMilliseconds("292471208y35w2d7h12m55s807ms") == .max)
    }

    // MARK: Formatting

    @Test(
        "format prints the way Prometheus does",
        arguments: [
            (0, "0s"), (1, "1ms"), (500, "500ms"), (1000, "1s"), (1500, "1s500ms"), (90 * second, "1m30s"),
            (hour + 30 * minute, "1h30m"), (day, "1d"), (7 * day, "1w"), (365 * day, "1y"), (366 * day, "1y1d"),
            (hour + 1, "1h1ms"), (-1500, "-1s500ms"), (-hour, "-1h"),
            (.max, "292471208y35w2d7h12m55s807ms"), (.min, "-292471208y35w2d7h12m55s808ms"),
        ] as [(Int64, String)])
    func format(milliseconds: Int64, text: String) {
        #expect(DurationParser.format(milliseconds: milliseconds) == text)
    }

    @Test(
        "format and parse round trip for non-negative durations",
        arguments: [
            0, 1, 999, 1000, 1001, 59_999, 60_000, 3_600_000, 5_400_000, 86_399_999, 86_400_000, 604_800_000,
            31_536_000_000, 31_536_000_001, 123_456_789_012, .max,
        ] as [Int64])
    func roundTrips(milliseconds: Int64) throws {
        let text = DurationParser.format(milliseconds: milliseconds)
        #expect(try DurationParser.parseMilliseconds(text) == milliseconds, "\(text)")
    }

    @Test("parse then format normalizes a duration")
    func normalizes() throws {
        #expect(DurationParser.format(milliseconds: try DurationParser.parseMilliseconds("90m")) == "1h30m")
        #expect(DurationParser.format(milliseconds: try DurationParser.parseMilliseconds("1.5")) == "1s500ms")
        #expect(DurationParser.format(milliseconds: try DurationParser.parseMilliseconds("14d")) == "2w")
    }
}
