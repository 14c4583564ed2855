#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import SeismoCore
import Yams

/// The `remote_write`, `otlp`, `loki_push` and `logs` collector types.
extension PipelineCompiler {
    static let pushReceiverKeys = ["listen", "max_body_bytes", "max_decoded_bytes", "max_concurrent_requests", "max_labels"]
    static let logsKeys = [
        "paths", "format", "regex", "labels", "label_fields", "timestamp_field", "message_field", "level_field", "multiline",
        "positions", "poll_interval", "start_at", "max_line_bytes",
    ]

    /// The keys a receiver or tailing collector allows besides `name`, `type` and `topic`; nil for other types.
    static func receiverCollectorKeys(_ type: String?) -> [String]? {
        switch type {
        case "remote_write", "loki_push": pushReceiverKeys
        case "otlp": pushReceiverKeys + ["max_delta_series"]
        case "logs": logsKeys
        default: nil
        }
    }

    /// The collector types this file compiles.
    static let receiverCollectorTypes = ["remote_write", "otlp", "loki_push", "logs"]

    /// Compiles a receiver or tailing collector of `type`.
    func receiverCollector(_ type: String, _ m: MappingView) -> CollectorSpec.Kind? {
        switch type {
        case "remote_write": return listen(m).map { .remoteWrite(RemoteWriteSpec(listen: $0)) }
        case "loki_push": return listen(m).map { .lokiPush(LokiPushSpec(listen: $0)) }
        case "otlp":
            let maxDelta = reader.int(m, "max_delta_series", min: 0) ?? 100_000
            return listen(m).map { .otlp(OTLPSpec(listen: $0, maxDeltaSeries: maxDelta)) }
        case "logs": return logs(m).map { .logs($0) }
        default: return nil
        }
    }

    /// `listen: host:port` (required) and the body and label limits.
    private func listen(_ m: MappingView) -> ReceiverListen? {
        guard let text = reader.string(m, "listen", required: true) else { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else {
            reader.report(.invalidValue, m.location(of: "listen"), "'\(text)' is not host:port (e.g. 127.0.0.1:9201, or :9201 for every address)")
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        var spec = ReceiverListen(host: host, port: port)
        spec.maxBodyBytes = reader.int(m, "max_body_bytes", min: 1024) ?? spec.maxBodyBytes
        spec.maxDecodedBytes = reader.int(m, "max_decoded_bytes", min: 1024) ?? max(spec.maxDecodedBytes, spec.maxBodyBytes)
        if spec.maxDecodedBytes < spec.maxBodyBytes, m.contains("max_decoded_bytes") {
            reader.report(.invalidValue, m.location(of: "max_decoded_bytes"), "must be at least max_body_bytes (\(spec.maxBodyBytes))")
        }
        spec.maxConcurrentRequests = reader.int(m, "max_concurrent_requests", min: 1) ?? spec.maxConcurrentRequests
        spec.maxLabels = reader.int(m, "max_labels", min: 1) ?? spec.maxLabels
        return spec
    }

    private func logs(_ m: MappingView) -> LogsSpec? {
        var ok = true
        var paths: [String] = []
        if let listed = reader.strings(m, "paths", required: true) {
            if listed.isEmpty {
                reader.report(.invalidValue, m.location(of: "paths"), "must list at least one file or glob")
                ok = false
            }
            for (path, location) in listed {
                if !path.hasPrefix("/") {
                    reader.report(.invalidValue, location, "'\(path)' is not an absolute path")
                    ok = false
                } else {
                    paths.append(path)
                }
            }
        } else {
            ok = false
        }
        let formats = ["raw", "json", "logfmt", "regex"]
        let formatName = reader.choice(m, "format", formats) ?? (m.contains("regex") ? "regex" : "raw")
        var format = LogsSpec.Format.raw
        switch formatName {
        case "json": format = .json
        case "logfmt": format = .logfmt
        case "regex":
            if let pattern = reader.string(m, "regex", required: true) {
                let normalised = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
                if (try? NSRegularExpression(pattern: normalised)) == nil {
                    reader.report(.invalidValue, m.location(of: "regex"), "not a valid regular expression")
                    ok = false
                } else if !normalised.contains("(?<") {
                    reader.report(.invalidValue, m.location(of: "regex"), "has no named group; name the fields with (?<name>…)")
                    ok = false
                } else {
                    format = .regex(pattern)
                }
            } else {
                ok = false
            }
        default:
            if m.contains("regex") {
                reader.report(.invalidValue, m.location(of: "regex"), "regex is only read with format: regex (format is \(formatName))")
                ok = false
            }
        }
        var labels: [String: String] = [:]
        if let labelMap = reader.mapping(m, "labels", allowed: nil) {
            for entry in labelMap.entries {
                let location = labelMap.location(of: entry.key)
                guard Labels.isValidLabelName(entry.key), !entry.key.hasPrefix("__") else {
                    reader.report(.invalidValue, labelMap.keyLocation(of: entry.key), "'\(entry.key)' is not a valid label name")
                    ok = false
                    continue
                }
                if let value = reader.string(entry.value, location) { labels[entry.key] = value } else { ok = false }
            }
        }
        var labelFields: [String] = []
        for (field, location) in reader.strings(m, "label_fields") ?? [] {
            if Labels.isValidLabelName(field), !field.hasPrefix("__") {
                labelFields.append(field)
            } else {
                reader.report(.invalidValue, location, "'\(field)' cannot be a label name (letters, digits and _, not starting with a digit)")
                ok = false
            }
        }
        if formatName == "raw", !labelFields.isEmpty {
            reader.report(.invalidValue, m.location(of: "label_fields"), "format raw parses no fields; choose json, logfmt or regex")
            ok = false
        }
        var spec = LogsSpec(paths: paths, format: format, labels: labels, labelFields: labelFields)
        spec.timestampField = reader.string(m, "timestamp_field")
        spec.messageField = reader.string(m, "message_field")
        spec.levelField = reader.string(m, "level_field")
        if let multiline = reader.mapping(m, "multiline", allowed: ["start", "max_lines"]) {
            if let start = reader.string(multiline, "start", required: true) {
                if (try? NSRegularExpression(pattern: start)) == nil {
                    reader.report(.invalidValue, multiline.location(of: "start"), "not a valid regular expression")
                    ok = false
                } else {
                    spec.multilineStart = start
                }
            } else {
                ok = false
            }
            spec.multilineMaxLines = reader.int(multiline, "max_lines", min: 1) ?? spec.multilineMaxLines
        }
        spec.positionsPath = reader.string(m, "positions")
        spec.pollInterval = reader.duration(m, "poll_interval") ?? spec.pollInterval
        if let start = reader.choice(m, "start_at", ["beginning", "end"]) { spec.startAtEnd = start == "end" }
        spec.maxLineBytes = reader.int(m, "max_line_bytes", min: 256) ?? spec.maxLineBytes
        return ok ? spec : nil
    }
}
