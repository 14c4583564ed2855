import SeismoCore

/// Parses the Prometheus text exposition format 0.0.4, as `seismo produce` reads it:
///
///     # HELP http_requests_total Requests served.
///     # TYPE http_requests_total counter
///     http_requests_total{code="200",path="/api"} 1027 1795300000000
///     temperature_celsius NaN
///
/// Comments (`# HELP`, `# TYPE` and others) and blank lines are skipped. Label values may
/// use the escapes `\\`, `\"` and `\n`; a label set may end with a comma. Values are
/// floats, `NaN`, `+Inf` or `-Inf`; the optional timestamp is integer Unix milliseconds,
/// and a sample without one gets the caller's default. A bad line becomes a `ParseIssue`
/// and parsing goes on with the next line. Works on UTF-8 bytes.
///
/// With `format: .openMetrics` (OpenMetrics 1.0 text), timestamps are Unix seconds with
/// an optional fraction, an exemplar after ` # ` (`… 1 # {trace_id="x"} 0.5 1.2`) is
/// checked for its shape and skipped, and `# EOF` ends the input. Histograms, summaries,
/// counters and gauges are all plain samples (`_bucket{le}`, `_sum`, `_count`, …).
public enum ExpositionParser {
    /// The text formats.
    public enum Format: Sendable, Hashable {
        /// Prometheus text format 0.0.4: integer millisecond timestamps.
        case prometheusText
        /// OpenMetrics 1.0 text: second timestamps, exemplars, `# EOF`.
        case openMetrics

        /// The format a scrape response's `Content-Type` announces (text 0.0.4 otherwise).
        public init(contentType: String?) {
            let lowered = contentType?.lowercased() ?? ""
            self = lowered.hasPrefix("application/openmetrics-text") ? .openMetrics : .prometheusText
        }
    }

    /// Parses `text`.
    public static func parse(
        _ text: String, defaultTimestamp: Timestamp, limits: LabelLimits = .default, format: Format = .prometheusText
    ) -> ParseResult {
        parse(Array(text.utf8), defaultTimestamp: defaultTimestamp, limits: limits, format: format)
    }

    /// Parses UTF-8 `bytes`.
    public static func parse(
        _ bytes: some Collection<UInt8>, defaultTimestamp: Timestamp, limits: LabelLimits = .default,
        format: Format = .prometheusText
    ) -> ParseResult {
        if let result = bytes.withContiguousStorageIfAvailable({
            parse(buffer: $0, defaultTimestamp: defaultTimestamp, limits: limits, format: format)
        }) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer {
            parse(buffer: $0, defaultTimestamp: defaultTimestamp, limits: limits, format: format)
        }
    }

    static func parse(
        buffer: UnsafeBufferPointer<UInt8>, defaultTimestamp: Timestamp, limits: LabelLimits,
        format: Format = .prometheusText
    ) -> ParseResult {
        var result = ParseResult()
        result.samples.reserveCapacity(buffer.count / 48)
        var line = LineParser(buffer: buffer, limits: limits, openMetrics: format == .openMetrics)
        var lineNumber = 0
        var start = 0
        while start < buffer.count {
            lineNumber += 1
            let end = Self.lineEnd(buffer, from: start)
            do throws(LineError) {
                if let sample = try line.parse(start..<end, defaultTimestamp: defaultTimestamp) {
                    result.samples.append(sample)
                } else if line.sawEOF {
                    break
                }
            } catch {
                result.issues.append(ParseIssue(line: lineNumber, message: error.message))
            }
            start = end + 1
        }
        return result
    }
}

extension ExpositionParser {
    /// The index of the next newline at or after `start`, or the buffer's end.
    static func lineEnd(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = buffer.baseAddress, start < buffer.count else { return buffer.count }
        guard let found = memchr(base + start, 0x0A, buffer.count - start) else { return buffer.count }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }
}

struct LineError: Error {
    var message: String
}

/// Parses one line of the exposition format.
private struct LineParser {
    let buffer: UnsafeBufferPointer<UInt8>
    let limits: LabelLimits
    var position = 0
    var end = 0
    /// Reused between lines.
    var pairs: [Label] = []
    var scratch: [UInt8] = []
    /// OpenMetrics: second timestamps, exemplars, `# EOF`.
    let openMetrics: Bool
    /// Set when an OpenMetrics `# EOF` line was read.
    var sawEOF = false

    init(buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits, openMetrics: Bool = false) {
        self.buffer = buffer
        self.limits = limits
        self.openMetrics = openMetrics
    }

    /// The sample on the line, nil for a blank or comment line.
    mutating func parse(_ line: Range<Int>, defaultTimestamp: Timestamp) throws(LineError) -> Sample? {
        position = line.lowerBound
        end = line.upperBound
        if end > position, buffer[end - 1] == 0x0D { end -= 1 }  // CRLF
        skipBlanks()
        guard position < end else { return nil }  // blank
        if buffer[position] == 0x23 {  // `#` comment
            if openMetrics, end - position == 5, string(position..<end) == "# EOF" { sawEOF = true }
            return nil
        }

        let nameStart = position
        while position < end, Self.isMetricNameByte(buffer[position], first: position == nameStart) { position += 1 }
        guard position > nameStart else { throw LineError(message: "expected a metric name, found \(describeHere())") }
        let name = string(nameStart..<position)

        pairs.removeAll(keepingCapacity: true)
        pairs.append(Label(Labels.metricName, name))
        skipBlanks()
        if position < end, buffer[position] == 0x7B {  // {
            position += 1
            try parseLabels()
        }

        skipBlanks()
        let valueStart = position
        while position < end, !isBlank(buffer[position]) { position += 1 }
        guard position > valueStart else { throw LineError(message: "expected a value after \(name)") }
        guard let value = TextNumbers.double(UnsafeBufferPointer(rebasing: buffer[valueStart..<position])) else {
            throw LineError(message: "invalid value \(string(valueStart..<position).debugDescription)")
        }

        skipBlanks()
        var timestamp = defaultTimestamp
        if position < end, !(openMetrics && buffer[position] == 0x23) {
            let timeStart = position
            while position < end, !isBlank(buffer[position]) { position += 1 }
            let digits = UnsafeBufferPointer(rebasing: buffer[timeStart..<position])
            if openMetrics {
                guard let seconds = TextNumbers.double(digits), seconds.isFinite, abs(seconds) < 9.2e15 else {
                    throw LineError(
                        message: "invalid timestamp \(string(timeStart..<position).debugDescription); expected Unix seconds")
                }
                timestamp = Timestamp(seconds: seconds)
            } else {
                guard let milliseconds = TextNumbers.int64(digits) else {
                    throw LineError(
                        message: "invalid timestamp \(string(timeStart..<position).debugDescription); expected integer milliseconds")
                }
                timestamp = Timestamp(milliseconds: milliseconds)
            }
            skipBlanks()
        }
        if position < end {
            guard openMetrics, buffer[position] == 0x23 else {
                throw LineError(message: "unexpected text after the timestamp")
            }
            try skipExemplar()
        }

        return Sample(labels: try makeLabels(), timestamp: timestamp, value: value)
    }

    /// `Labels(validating: pairs, limits: limits)`, knowing that the scanner has already
    /// checked the syntax of every name (and so of the metric name).
    private mutating func makeLabels() throws(LineError) -> Labels {
        pairs.removeAll { $0.value.isEmpty }
        guard pairs.count <= limits.maxLabels else {
            throw LineError(message: "label set has \(pairs.count) labels, over the limit of \(limits.maxLabels)")
        }
        var sorted = true
        for index in pairs.indices {
            let pair = pairs[index]
            guard pair.name.utf8.count <= limits.maxNameBytes else {
                throw LineError(message: "label name longer than \(limits.maxNameBytes) bytes")
            }
            guard pair.value.utf8.count <= limits.maxValueBytes else {
                throw LineError(message: "value of label \(pair.name) longer than \(limits.maxValueBytes) bytes")
            }
            if index > 0, !(pairs[index - 1].name < pair.name) { sorted = false }
        }
        if !sorted {
            pairs.sort()
            for index in pairs.indices.dropFirst() where pairs[index - 1].name == pairs[index].name {
                throw LineError(message: "duplicate label name: \(pairs[index].name.debugDescription)")
            }
        }
        return Labels(uncheckedSorted: pairs)
    }

    /// Checks and skips an OpenMetrics exemplar: `# {labels} value [timestamp]`.
    private mutating func skipExemplar() throws(LineError) {
        position += 1  // #
        skipBlanks()
        guard position < end, buffer[position] == 0x7B else {
            throw LineError(message: "expected an exemplar '# {…} value' after the sample")
        }
        position += 1
        let saved = pairs
        try parseLabels()
        pairs = saved
        skipBlanks()
        let valueStart = position
        while position < end, !isBlank(buffer[position]) { position += 1 }
        guard TextNumbers.double(UnsafeBufferPointer(rebasing: buffer[valueStart..<position])) != nil else {
            throw LineError(message: "invalid exemplar value \(string(valueStart..<position).debugDescription)")
        }
        skipBlanks()
        if position < end {
            let timeStart = position
            while position < end, !isBlank(buffer[position]) { position += 1 }
            guard TextNumbers.double(UnsafeBufferPointer(rebasing: buffer[timeStart..<position])) != nil else {
                throw LineError(message: "invalid exemplar timestamp \(string(timeStart..<position).debugDescription)")
            }
            skipBlanks()
            guard position >= end else { throw LineError(message: "unexpected text after the exemplar") }
        }
    }

    /// Parses `name="value", …}` after the opening brace.
    private mutating func parseLabels() throws(LineError) {
        while true {
            skipBlanks()
            guard position < end else { throw LineError(message: "unterminated label set") }
            if buffer[position] == 0x7D {  // }
                position += 1
                return
            }
            let nameStart = position
            while position < end, Self.isLabelNameByte(buffer[position], first: position == nameStart) { position += 1 }
            guard position > nameStart else {
                throw LineError(message: "expected a label name, found \(describeHere())")
            }
            let labelName = string(nameStart..<position)
            skipBlanks()
            guard position < end, buffer[position] == 0x3D else {  // =
                throw LineError(message: "expected '=' after label name \(labelName)")
            }
            position += 1
            skipBlanks()
            guard position < end, buffer[position] == 0x22 else {  // "
                throw LineError(message: "expected '\"' to open the value of label \(labelName)")
            }
            position += 1
            let value = try parseQuoted(labelName)
            pairs.append(Label(labelName, value))
            skipBlanks()
            guard position < end else { throw LineError(message: "unterminated label set") }
            switch buffer[position] {
            case 0x2C: position += 1  // , (a trailing comma before } is allowed)
            case 0x7D: continue
            default: throw LineError(message: "expected ',' or '}' after the value of label \(labelName)")
            }
        }
    }

    /// Parses a label value up to its closing quote, resolving escapes.
    private mutating func parseQuoted(_ labelName: String) throws(LineError) -> String {
        let start = position
        while position < end, buffer[position] != 0x22, buffer[position] != 0x5C { position += 1 }
        if position < end, buffer[position] == 0x22 {
            position += 1
            return string(start..<(position - 1))
        }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<position]))
        while position < end {
            let byte = buffer[position]
            position += 1
            switch byte {
            case 0x22:
                return String(decoding: scratch, as: UTF8.self)
            case 0x5C:
                guard position < end else { break }
                let escaped = buffer[position]
                position += 1
                switch escaped {
                case 0x5C: scratch.append(0x5C)
                case 0x22: scratch.append(0x22)
                case 0x6E: scratch.append(0x0A)
                default:
                    throw LineError(
                        message: "invalid escape \\\(Character(Unicode.Scalar(escaped))) in the value of label \(labelName)")
                }
            default:
                scratch.append(byte)
            }
        }
        throw LineError(message: "unterminated value of label \(labelName)")
    }

    private mutating func skipBlanks() {
        while position < end, isBlank(buffer[position]) { position += 1 }
    }

    private func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
    }

    private func describeHere() -> String {
        position < end ? "'\(Character(Unicode.Scalar(buffer[position])))'" : "the end of the line"
    }

    @inline(__always)
    static func isLabelNameByte(_ byte: UInt8, first: Bool) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
            || (!first && byte >= 0x30 && byte <= 0x39)
    }

    @inline(__always)
    static func isMetricNameByte(_ byte: UInt8, first: Bool) -> Bool {
        isLabelNameByte(byte, first: first) || byte == 0x3A
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
