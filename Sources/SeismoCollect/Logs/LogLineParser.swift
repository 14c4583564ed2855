#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import SeismoCore
import SeismoPipeline
import SeismoWire

/// Turns one log entry (a line, or lines joined by the multi-line rule) into a `LogRecord`:
/// fields parsed as the spec's format says; `labelFields` and the static labels become
/// labels (plus `filename`); the message, time and level fields fill the body, time and
/// severity; every other field is an attribute. A pure value; tested without files.
public struct LogLineParser: Sendable {
    public enum Outcome: Sendable, Equatable {
        case parsed(LogRecord)
        /// The entry could not be parsed (or its labels are invalid); kept as a raw record when possible.
        case unparsed(LogRecord?, reason: String)
    }

    public let spec: LogsSpec
    private let regex: NamedRegex?
    private let labelFieldSet: Set<String>

    public init(spec: LogsSpec) throws(CollectError) {
        self.spec = spec
        if case .regex(let pattern) = spec.format {
            regex = try NamedRegex(pattern)
        } else {
            regex = nil
        }
        labelFieldSet = Set(spec.labelFields)
    }

    /// Parses `entry`, read from `file` at `readNanos`.
    public func parse(_ entry: String, file: String, readNanos: Int64) -> Outcome {
        var fields: [String: String] = [:]
        var failure: String?
        switch spec.format {
        case .raw: break
        case .json:
            if let parsed = Self.json(entry) { fields = parsed } else { failure = "not a JSON object" }
        case .logfmt:
            fields = Self.logfmt(entry)
            if fields.isEmpty { failure = "no key=value pairs" }
        case .regex:
            if let parsed = regex?.match(entry) { fields = parsed } else { failure = "the regex does not match" }
        }
        var labels = spec.labels
        labels["filename"] = file
        var attributes: [String: String] = [:]
        for (key, value) in fields {
            if labelFieldSet.contains(key) {
                labels[key] = value
            } else if key != spec.messageField, key != spec.timestampField, key != spec.levelField {
                attributes[key] = value
            }
        }
        let body = spec.messageField.flatMap { fields[$0] } ?? entry
        let nanos = spec.timestampField.flatMap { fields[$0] }.flatMap(Self.nanos) ?? readNanos
        let severity = spec.levelField.flatMap { fields[$0] }.map(Self.severity) ?? .unspecified
        let record: LogRecord
        do {
            record = LogRecord(
                labels: try Labels(validating: labels), unixNanos: nanos, severity: severity, body: body, attributes: attributes)
        } catch {
            return .unparsed(nil, reason: "invalid labels: \(error)")
        }
        if let failure { return .unparsed(record, reason: failure) }
        return .parsed(record)
    }

    /// Top-level fields of a JSON object; non-string values as JSON text.
    static func json(_ line: String) -> [String: String]? {
        guard let data = line.data(using: .utf8),
            let object = (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any]
        else { return nil }
        var out: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case let s as String: out[key] = s
            case is NSNull: continue
            case let n as NSNumber:
                if JSONValues.isBoolean(value) { out[key] = n.boolValue ? "true" : "false" } else { out[key] = n.stringValue }
            default:
                if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]) {
                    out[key] = String(decoding: data, as: UTF8.self)
                }
            }
        }
        return out
    }

    /// logfmt: `key=value`, `key="quoted \" value"`, bare `key` (empty value).
    static func logfmt(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        let bytes = Array(line.utf8)
        var i = 0
        let n = bytes.count
        while i < n {
            while i < n, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
            let keyStart = i
            while i < n, bytes[i] != 0x3D, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
            guard i > keyStart else {
                i += 1
                continue
            }
            let key = String(decoding: bytes[keyStart..<i], as: UTF8.self)
            guard i < n, bytes[i] == 0x3D else {
                out[key] = ""
                continue
            }
            i += 1
            if i < n, bytes[i] == 0x22 {
                i += 1
                var value: [UInt8] = []
                while i < n, bytes[i] != 0x22 {
                    if bytes[i] == 0x5C, i + 1 < n {
                        i += 1
                        switch bytes[i] {
                        case UInt8(ascii: "n"): value.append(0x0A)
                        case UInt8(ascii: "t"): value.append(0x09)
                        default: value.append(bytes[i])
                        }
                    } else {
                        value.append(bytes[i])
                    }
                    i += 1
                }
                i += 1
                out[key] = String(decoding: value, as: UTF8.self)
            } else {
                let valueStart = i
                while i < n, bytes[i] != 0x20, bytes[i] != 0x09 { i += 1 }
                out[key] = String(decoding: bytes[valueStart..<i], as: UTF8.self)
            }
        }
        return out
    }

    /// A time field: RFC 3339, or Unix seconds (with fraction), milliseconds or nanoseconds.
    static func nanos(_ text: String) -> Int64? {
        if let ts = TimeParser.parseRFC3339(text) { return ts.milliseconds * 1_000_000 }
        if let integer = Int64(text) {
            switch text.count {
            case 19...: return integer
            case 16...18: return integer * 1000
            case 12...15: return integer * 1_000_000
            default: return integer * 1_000_000_000
            }
        }
        if let seconds = Double(text), seconds.isFinite { return Int64((seconds * 1e9).rounded()) }
        return nil
    }

    /// A level field (`debug`, `INFO`, `warning`, `err`, …) as a severity.
    static func severity(_ text: String) -> LogRecord.Severity {
        switch text.lowercased() {
        case "trace": .trace
        case "debug", "dbg": .debug
        case "info", "information", "notice": .info
        case "warn", "warning": .warn
        case "error", "err": .error
        case "fatal", "critical", "crit", "panic", "emerg", "alert": .fatal
        default: .unspecified
        }
    }
}

/// A regular expression with named groups (`(?<name>…)`; Python's `(?P<name>…)` also read).
struct NamedRegex: @unchecked Sendable {
    // NSRegularExpression is immutable and documented thread-safe.
    let expression: NSRegularExpression
    let names: [String]

    init(_ pattern: String) throws(CollectError) {
        let normalised = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            expression = try NSRegularExpression(pattern: normalised)
        } catch {
            throw CollectError(.invalidSpec, "invalid regular expression", context: pattern)
        }
        var names: [String] = []
        var rest = normalised[...]
        while let open = rest.range(of: "(?<") {
            let after = rest[open.upperBound...]
            if let first = after.first, first != "=", first != "!", let close = after.firstIndex(of: ">") {
                names.append(String(after[..<close]))
            }
            rest = after
        }
        self.names = names
    }

    /// The named groups of the first match, or nil when it does not match.
    func match(_ text: String) -> [String: String]? {
        let ns = text as NSString
        guard let match = expression.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { return nil }
        var out: [String: String] = [:]
        for name in names {
            let range = match.range(withName: name)
            if range.location != NSNotFound { out[name] = ns.substring(with: range) }
        }
        return out
    }

    func matches(_ text: String) -> Bool {
        expression.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }
}
