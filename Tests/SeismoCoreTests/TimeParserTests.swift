import Testing

@testable import SeismoCore

/// Specification of `TimeParser`: points in time as users write them.
///
/// Expected epoch milliseconds were computed independently with Python's `datetime`.
@Suite("TimeParser")
struct TimeParserTests {
    /// A fixed "now": 2026-11-22T10:00:00.000Z.
    static let now = Timestamp(milliseconds: 1_795_341_600_000)

    // MARK: RFC 3339

    @Test(
        "parses RFC 3339 with Z, fractions, offsets and lower-case t and z",
        arguments: [
            ("2026-11-22T10:00:00Z", 1_795_341_600_000),
            ("2026-11-22t10:00:00z", 1_795_341_600_000),
            ("2026-11-22T10:00:00+00:00", 1_795_341_600_000),
            ("2026-11-22T10:00:00-00:00", 1_795_341_600_000),
            ("2026-11-22 10:00:00Z", 1_795_341_600_000),
            ("2026-11-22T10:00:00.250+01:00", 1_795_338_000_250),
            ("2026-11-22T11:00:00.250+01:00", 1_795_341_600_250),
            ("2026-11-22T10:00:00-05:30", 1_795_361_400_000),
            ("2026-11-22T04:30:00-05:30", 1_795_341_600_000),
            ("2026-11-22T10:00:00.1Z", 1_795_341_600_100),
            ("2026-11-22T10:00:00.12Z", 1_795_341_600_120),
            ("2026-11-22T10:00:00.123Z", 1_795_341_600_123),
            ("2026-11-22T10:00:00.123456789Z", 1_795_341_600_123),
            ("2026-11-22T10:00:00.999999Z", 1_795_341_600_999),
            ("2026-11-22T10:00:00.000Z", 1_795_341_600_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999Z", -1),
            ("1900-01-01T00:00:00Z", -2_208_988_800_000),
            ("0001-01-01T00:00:00Z", -62_135_596_800_000),
            ("9999-12-31T23:59:59.999Z", 253_402_300_799_999),
            ("2024-02-29T12:34:56.789Z", 1_709_210_096_789),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
            ("1600-02-29T00:00:00Z", -11_670_998_400_000),
            ("2100-03-01T00:00:00Z", 4_107_542_400_000),
        ] as [(String, Int64)])
    func rfc3339(text: String, milliseconds: Int64) throws {
        #expect(try TimeParser.parse(text, now: Self.now).milliseconds == milliseconds)
        #expect(TimeParser.parseRFC3339(text)?.milliseconds == milliseconds)
    }

    @Test(
        "rejects malformed or impossible RFC 3339 times with .invalidTime",
        arguments: [
            "2026-11-22T10:00:00",  // no zone
            "2026-11-22",  // no time
            "2026-11-22T10:00Z",  // no seconds
            "2026-11-22T10:00:00.Z",  // empty fraction
            "2026-11-22T10:00:00+0100",  // offset without colon
            "2026-11-22T10:00:00+01",  // short offset
            "2026-11-22T10:00:00Zjunk",  // trailing text
            "2026-11-22T10:00:00 Z",  // space before the zone
            "2026-13-01T00:00:00Z",  // month 13
            "2026-00-01T00:00:00Z",  // month 0
            "2026-11-00T00:00:00Z",  // day 0
            "2026-11-32T00:00:00Z",  // day 32
            "2026-11-22T24:00:00Z",  // hour 24
            "2026-11-22T10:60:00Z",  // minute 60
            "2026-11-22T10:00:61Z",  // second 61
            "2023-02-29T00:00:00Z",  // not a leap year
            "1900-02-29T00:00:00Z",  // century, not a leap year
            "2026-02-30T00:00:00Z",  // February has no 30th
            "2026-04-31T00:00:00Z",  // April has 30 days
            "2026-11-22X10:00:00Z",  // bad separator
            "26-11-22T10:00:00Z",  // two-digit year
            "2026/11/22T10:00:00Z",  // slashes
            "2026-11-22T10:00:00ZZ",
            "2026-1-22T10:00:00Z",
        ])
    func rejectsBadRFC3339(text: String) {
        #expect(TimeParser.parseRFC3339(text) == nil)
        let error = #expect(throws: SeismoError.self) { try TimeParser.parse(text, now: Self.now) }
        #expect(error?.code == .invalidTime)
        #expect(error?.context == text)
    }

    @Test(
        "the last day of every month is accepted and the day after is not",
        arguments: [
            (2026, [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
            (2024, [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]),
        ])
    func monthLengths(year: Int, lengths: [Int]) {
        for (index, length) in lengths.enumerated() {
            let month = index + 1
            let mm = month < 10 ? "0\(month)" : "\(month)"
            #expect(TimeParser.parseRFC3339("\(year)-\(mm)-\(length)T00:00:00Z") != nil, "\(year)-\(mm)-\(length)")
            if length < 31 {
                #expect(
                    TimeParser.parseRFC3339("\(year)-\(mm)-\(length + 1)T00:00:00Z") == nil,
                    "\(year)-\(mm)-\(length + 1)")
            }
        }
    }

    // MARK: Unix times

    @Test(
        "integers under 12 digits are Unix seconds; a fraction is allowed",
        arguments: [
            ("1795300000", 1_795_300_000_000), ("0", 0), ("1", 1000), ("99999999999", 99_999_999_999_000),
            ("1795300000.5", 1_795_300_000_500), ("1795300000.123", 1_795_300_000_123),
            ("1795300000.1234", 1_795_300_000_123), ("1795300000.0006", 1_795_300_000_001), ("1.5", 1500),
            ("-1", -1000), ("-1.5", -1500),
        ] as [(String, Int64)])
    func unixSeconds(text: String, milliseconds: Int64) throws {
        #expect(try TimeParser.parse(text, now: Self.now).milliseconds == milliseconds)
    }

    @Test(
        "integers of 12 or more digits are Unix milliseconds",
        arguments: [
            ("100000000000", 100_000_000_000), ("1795300000000", 1_795_300_000_000),
            ("1795300000123", 1_795_300_000_123), ("000000000001", 1), ("9223372036854775807", .max),
        ] as [(String, Int64)])
    func unixMilliseconds(text: String, milliseconds: Int64) throws {
        #expect(try TimeParser.parse(text, now: Self.now).milliseconds == milliseconds)
    }

    @Test("surrounding spaces are ignored")
    func trimsSpaces() throws {
        #expect(try TimeParser.parse("  1795300000  ", now: Self.now).milliseconds == 1_795_300_000_000)
        #expect(try TimeParser.parse(" now ", now: Self.now) == Self.now)
        #expect(try TimeParser.parse("\t2026-11-22T10:00:00Z\t", now: Self.now) == Self.now)
    }

    // MARK: Relative to now

    @Test(
        "now, now-<duration> and now+<duration> resolve against the given now",
        arguments: [
            ("now", 0), ("now-1h", -3_600_000), ("now+30s", 30_000), ("now-1h30m", -5_400_000),
            ("now-500ms", -500), ("now+1d", 86_400_000), ("now-0s", 0), ("now-90", -90_000), ("now-1.5", -1500),
        ] as [(String, Int64)])
    func relative(text: String, offset: Int64) throws {
        #expect(try TimeParser.parse(text, now: Self.now).milliseconds == Self.now.milliseconds + offset)
    }

    @Test("now defaults to the wall clock")
    func defaultNow() throws {
        let before = Timestamp.now
        let parsed = try TimeParser.parse("now")
        let after = Timestamp.now
        #expect(before <= parsed && parsed <= after)
    }

    @Test(
        "malformed inputs are rejected with .invalidTime and the input as context",
        arguments: [
            "", " ", "yesterday", "now-", "now+", "now-1x", "now1h", "now - 1h", "now-30m1h", "nowish", "NOW",
            "1e9", "0x10", "1795300000s", "1,5", "1-2", "--1", "1795300000.5.5", "12345678901234567890",
            "inf", "nan", "-", ".",
        ])
    func rejectsMalformed(text: String) {
        let error = #expect(throws: SeismoError.self) { try TimeParser.parse(text, now: Self.now) }
        #expect(error?.code == .invalidTime)
        #expect(error?.context == text)
    }

    // MARK: Formatting

    @Test(
        "formatRFC3339 prints UTC with milliseconds",
        arguments: [
            (0, "1970-01-01T00:00:00.000Z"), (1_795_341_600_000, "2026-11-22T10:00:00.000Z"),
            (1_795_341_600_250, "2026-11-22T10:00:00.250Z"), (-1, "1969-12-31T23:59:59.999Z"),
            (-86_400_000, "1969-12-31T00:00:00.000Z"), (-86_400_001, "1969-12-30T23:59:59.999Z"),
            (-2_208_988_800_000, "1900-01-01T00:00:00.000Z"), (1_709_210_096_789, "2024-02-29T12:34:56.789Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"), (-11_670_998_400_000, "1600-02-29T00:00:00.000Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"), (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ] as [(Int64, String)])
    func formats(milliseconds: Int64, text: String) {
        #expect(TimeParser.formatRFC3339(Timestamp(milliseconds: milliseconds)) == text)
    }

    @Test(
        "formatRFC3339 and parse round trip, before and after 1970 and across leap days",
        arguments: [
            0, 1, -1, 999, -999, 1000, -1000, 1_795_341_600_123, -2_208_988_800_001, 1_709_164_800_000,
            1_709_251_199_999, 1_709_251_200_000, 951_782_400_000, 951_868_799_999, -11_670_998_400_000,
            -62_135_596_800_000, 253_402_300_799_999, 4_107_542_399_999,
        ] as [Int64])
    func roundTrips(milliseconds: Int64) throws {
        let text = TimeParser.formatRFC3339(Timestamp(milliseconds: milliseconds))
        #expect(try TimeParser.parse(text, now: Self.now).milliseconds == milliseconds, "\(text)")
    }

    @Test("every day from 1968 to 2033 round trips, so leap years are right")
    func everyDayRoundTrips() throws {
        let start: Int64 = -731 * 86_400_000  // 1968-01-01
        var failures = 0
        for day in 0..<(66 * 366) {
            let ms = start + Int64(day) * 86_400_000 + 43_200_123
            let text = TimeParser.formatRFC3339(Timestamp(milliseconds: ms))
            if TimeParser.parseRFC3339(text)?.milliseconds != ms { failures += 1 }
        }
        #expect(failures == 0)
        #expect(TimeParser.formatRFC3339(Timestamp(milliseconds: start)) == "1968-01-01T00:00:00.000Z")
    }

    @Test("a leap day is followed by March 1st, and a common year's February 28th too")
    func leapDays() {
        #expect(TimeParser.formatRFC3339(Timestamp(milliseconds: 1_709_164_800_000)) == "2024-02-29T00:00:00.000Z")
        #expect(
            TimeParser.formatRFC3339(Timestamp(milliseconds: 1_709_164_800_000 + 86_400_000))
                == "2024-03-01T00:00:00.000Z")
        #expect(TimeParser.formatRFC3339(Timestamp(milliseconds: 1_677_542_400_000)) == "2023-02-28T00:00:00.000Z")
        #expect(
            TimeParser.formatRFC3339(Timestamp(milliseconds: 1_677_542_400_000 + 86_400_000))
                == "2023-03-01T00:00:00.000Z")
    }
}
