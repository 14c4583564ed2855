import SeismoCore

/// Parses samples from CSV rows, as `seismo produce` reads them:
///
///     timestamp,value,name=cpu,host=a
///     2014-04-01 00:00:00,20.0
///     1795300000000,0.5,name=cpu,host=b
///
/// The first field is the time: RFC 3339, Unix seconds (with an optional fraction), Unix
/// milliseconds (12 or more digits), or `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC (the
/// Numenta Anomaly Benchmark's form). The second is the value (a float, `NaN`, `+Inf`,
/// `-Inf`). Every further field is a label `name=value`; `name=` sets the metric name,
/// which otherwise is the caller's default. A first row whose first field is `timestamp`
/// is a header and is skipped, as are blank lines and lines starting with `#`. Fields may
/// be double-quoted (`"host=a,b"`, with `""` for a quote). A bad row becomes a
/// `ParseIssue` and parsing goes on with the next row.
public enum CSVSignalParser {
    /// Parses `text`; relative times (`now-5m`) resolve against `now`.
    public static func parse(
        _ text: String, defaultMetricName: String, now: Timestamp = .now, limits: LabelLimits = .default
    ) -> ParseResult {
        var result = ParseResult()
        var lineNumber = 0
        var sawRow = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var row = Substring(line)
            if row.last == "\r" { row = row.dropLast() }
            let trimmed = row.trimmingBlanks()
            guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
            do throws(LineError) {
                let fields = try splitFields(row)
                defer { sawRow = true }
                if !sawRow, let first = fields.first, first.trimmingBlankString().lowercased() == "timestamp" { continue }
                result.samples.append(
                    try sample(fields, defaultMetricName: defaultMetricName, now: now, limits: limits))
            } catch {
                result.issues.append(ParseIssue(line: lineNumber, message: error.message))
            }
        }
        return result
    }

    /// Parses UTF-8 `bytes`.
    public static func parse(
        _ bytes: some Collection<UInt8>, defaultMetricName: String, now: Timestamp = .now,
        limits: LabelLimits = .default
    ) -> ParseResult {
        parse(String(decoding: bytes, as: UTF8.self), defaultMetricName: defaultMetricName, now: now, limits: limits)
    }

    /// Parses a time as the first CSV field does.
    public static func parseTime(_ text: String, now: Timestamp = .now) throws(SeismoError) -> Timestamp {
        let trimmed = String(Substring(text).trimmingBlanks())
        // `YYYY-MM-DD HH:MM:SS[.fff]` (or with `T`) without a zone: UTC.
        let bytes = Array(trimmed.utf8)
        if bytes.count >= 19, bytes[4] == 0x2D, bytes[10] == 0x20 || bytes[10] == 0x54,
            !bytes[19...].contains(where: { $0 == 0x5A || $0 == 0x7A || $0 == 0x2B || $0 == 0x2D }),
            let time = TimeParser.parseRFC3339(trimmed + "Z")
        {
            return time
        }
        return try TimeParser.parse(trimmed, now: now)
    }

    private static func sample(
        _ fields: [String], defaultMetricName: String, now: Timestamp, limits: LabelLimits
    ) throws(LineError) -> Sample {
        guard fields.count >= 2 else {
            throw LineError(message: "expected timestamp,value[,label=value…], found \(fields.count) field(s)")
        }
        let timestamp: Timestamp
        do {
            timestamp = try parseTime(fields[0], now: now)
        } catch {
            throw LineError(message: error.description)
        }
        var valueText = String(Substring(fields[1]).trimmingBlanks())
        guard let value = valueText.withUTF8({ TextNumbers.double($0) }) else {
            throw LineError(message: "invalid value \(valueText.debugDescription)")
        }

        var pairs: [Label] = []
        var hasName = false
        for field in fields.dropFirst(2) {
            let text = Substring(field).trimmingBlanks()
            if text.isEmpty { continue }
            guard let equals = text.firstIndex(of: "=") else {
                throw LineError(message: "expected label=value, found \(String(text).debugDescription)")
            }
            var name = String(text[..<equals]).trimmingBlankString()
            if name == "name" {
                name = Labels.metricName
                hasName = true
            } else if name == Labels.metricName {
                hasName = true
            }
            pairs.append(Label(name, String(text[text.index(after: equals)...])))
        }
        if !hasName { pairs.append(Label(Labels.metricName, defaultMetricName)) }
        let labels: Labels
        do {
            labels = try Labels(validating: pairs, limits: limits)
        } catch {
            throw LineError(message: error.description)
        }
        guard labels.name != nil else { throw LineError(message: "the metric name is empty") }
        return Sample(labels: labels, timestamp: timestamp, value: value)
    }

    /// Splits a row at commas, honouring double quotes.
    private static func splitFields(_ row: Substring) throws(LineError) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var index = row.startIndex
        while index < row.endIndex {
            let character = row[index]
            index = row.index(after: index)
            if quoted {
                if character == "\"" {
                    if index < row.endIndex, row[index] == "\"" {
                        field.append("\"")
                        index = row.index(after: index)
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        guard !quoted else { throw LineError(message: "unterminated quoted field") }
        fields.append(field)
        return fields
    }
}

extension Substring {
    fileprivate func trimmingBlanks() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}

extension String {
    fileprivate func trimmingBlankString() -> String { String(Substring(self).trimmingBlanks()) }
}
