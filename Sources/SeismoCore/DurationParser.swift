/// Parses durations as Prometheus writes them: one or more `<integer><unit>` terms in
/// decreasing unit order, with units `y w d h m s ms` (`1h30m`, `90s`, `500ms`).
/// A bare number (`30`, `1.5`) is seconds, as the Prometheus HTTP API accepts for `step`.
public enum DurationParser {
    private static let units: [(String, Int64)] = [
        ("y", 365 * 24 * 3600 * 1000), ("w", 7 * 24 * 3600 * 1000), ("d", 24 * 3600 * 1000),
        ("h", 3600 * 1000), ("m", 60 * 1000), ("s", 1000), ("ms", 1),
    ]

    /// Parses `text`; throws `.invalidDuration` with the input as context.
    public static func parse(_ text: String) throws(SeismoError) -> Duration {
        .milliseconds(try parseMilliseconds(text))
    }

    /// Parses `text` into whole milliseconds.
    public static func parseMilliseconds(_ text: String) throws(SeismoError) -> Int64 {
        let bytes = Array(text.utf8)
        func fail(_ why: String) -> SeismoError {
            SeismoError(.invalidDuration, "invalid duration (\(why)); expected e.g. 30s, 5m, 1h30m", context: text)
        }
        guard !bytes.isEmpty else { throw fail("empty") }
        if let seconds = Double(text), bytes.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
            guard seconds.isFinite, seconds * 1000 < Double(Int64.max) else { throw fail("out of range") }
            return Int64((seconds * 1000).rounded())
        }
        var index = 0
        var total: Int64 = 0
        var lastUnit = -1
        while index < bytes.count {
            var number: Int64 = 0
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                let (times10, o1) = number.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(Int64(bytes[index] - 0x30))
                guard !o1, !o2 else { throw fail("out of range") }
                number = next
                index += 1
            }
            guard index > start else { throw fail("expected a number at offset \(index)") }
            let unitStart = index
            while index < bytes.count, !(bytes[index] >= 0x30 && bytes[index] <= 0x39) { index += 1 }
            let unit = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            guard let position = units.firstIndex(where: { $0.0 == unit }) else {
                throw fail(unit.isEmpty ? "missing unit" : "unknown unit \(unit)")
            }
            guard position > lastUnit else { throw fail("units out of order") }
            lastUnit = position
            let (term, o1) = number.multipliedReportingOverflow(by: units[position].1)
            let (sum, o2) = total.addingReportingOverflow(term)
            guard !o1, !o2 else { throw fail("out of range") }
            total = sum
        }
        return total
    }

    /// Formats milliseconds the way Prometheus prints durations (`1h30m`, `500ms`, `0s`).
    public static func format(milliseconds: Int64) -> String {
        if milliseconds == 0 { return "0s" }
        var out = milliseconds < 0 ? "-" : ""
        // `magnitude`, not `abs`: `abs(Int64.min)` traps.
        var rest = milliseconds.magnitude
        for (unit, size) in units where rest >= UInt64(size) {
            out += "\(rest / UInt64(size))\(unit)"
            rest %= UInt64(size)
        }
        return out
    }
}
