/// Parses points in time as users write them on the command line and in the HTTP API:
///
/// - RFC 3339: `2026-11-22T10:00:00Z`, `2026-11-22T10:00:00.250+01:00`;
/// - Unix seconds, with an optional fraction: `1795300000`, `1795300000.5`;
/// - Unix milliseconds: an integer of 12 or more digits (`1795300000000`);
/// - relative to now: `now`, `now-1h`, `now+30s`.
public enum TimeParser {
    /// Parses `text`, resolving `now` against `now`.
    public static func parse(_ text: String, now: Timestamp = .now) throws(SeismoError) -> Timestamp {
        let trimmed = text.trimmingSpaces()
        func fail(_ why: String) -> SeismoError {
            SeismoError(
                .invalidTime, "invalid time (\(why)); expected RFC 3339, Unix seconds or milliseconds, or now-1h",
                context: text)
        }
        if trimmed.hasPrefix("now") {
            let rest = trimmed.dropFirst(3)
            if rest.isEmpty { return now }
            guard let sign = rest.first, sign == "-" || sign == "+" else { throw fail("expected now-<duration>") }
            let offset: Int64
            do { offset = try DurationParser.parseMilliseconds(String(rest.dropFirst())) } catch {
                throw fail(error.message)
            }
            return Timestamp(milliseconds: now.milliseconds + (sign == "-" ? -offset : offset))
        }
        let isDigits = !trimmed.isEmpty && trimmed.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        if isDigits, trimmed.utf8.count >= 12 {
            guard let ms = Int64(trimmed) else { throw fail("out of range") }
            return Timestamp(milliseconds: ms)
        }
        if let seconds = Double(trimmed), trimmed.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }) {
            guard seconds.isFinite, abs(seconds) < 1e14 else { throw fail("out of range") }
            return Timestamp(seconds: seconds)
        }
        if let ts = parseRFC3339(trimmed) { return ts }
        throw fail("unrecognised format")
    }

    /// Parses RFC 3339, or returns nil.
    public static func parseRFC3339(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in at..<(at + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2), b[7] == 0x2D,
            let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = digits(11, 2),
            b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A, let second = digits(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if index < b.count, b[index] == 0x2E {
            index += 1
            var scale: Int64 = 100
            let start = index
            while index < b.count, b[index] >= 0x30, b[index] <= 0x39 {
                millis += Int64(b[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < b.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch b[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            guard let oh = digits(index + 1, 2), index + 3 < b.count, b[index + 3] == 0x3A,
                let om = digits(index + 4, 2)
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[index] == 0x2D ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        // Reject days the month does not have (2023-02-29, 2026-04-31): they would
        // otherwise roll over into the next month.
        guard civilFromDays(days) == (year, month, day) else { return nil }
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return Timestamp(milliseconds: seconds * 1000 + millis)
    }

    /// Formats as RFC 3339 in UTC with milliseconds.
    public static func formatRFC3339(_ ts: Timestamp) -> String {
        var ms = ts.milliseconds
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        ms -= days * 86_400_000
        let (y, m, d) = civilFromDays(days)
        days = 0
        let h = ms / 3_600_000
        let mi = (ms / 60000) % 60
        let s = (ms / 1000) % 60
        let milli = ms % 1000
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(h, 2)):\(pad(mi, 2)):\(pad(s, 2)).\(pad(milli, 3))Z"
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
