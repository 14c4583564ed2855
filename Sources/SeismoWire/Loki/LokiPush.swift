#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import SeismoCore

/// Loki's push API (`POST /loki/api/v1/push`), as Promtail, Grafana Agent and Alloy send it.
///
/// - protobuf (after Snappy): `logproto.PushRequest.streams` (1) → `StreamAdapter.labels`
///   (1, a selector text such as `{job="api", pod="x"}`), `.entries` (2) →
///   `EntryAdapter.timestamp` (1, `google.protobuf.Timestamp`: seconds 1, nanos 2),
///   `.line` (2), `.structuredMetadata` (3, name 1, value 2);
/// - JSON: `{"streams": [{"stream": {label: value}, "values": [["<unix ns>", "<line>", {metadata}?]]}]}`.
///
/// Structured metadata becomes `LogRecord.attributes`.
public enum LokiPush {
    /// A decoded request: the records of the valid streams, and what was rejected.
    public struct Request: Sendable, Equatable {
        public var logs: [LogRecord] = []
        /// Entries of streams whose labels were invalid.
        public var rejected = 0
        public var firstRejection: String?
        public init() {}

        mutating func reject(_ count: Int, _ why: String) {
            rejected += count
            if firstRejection == nil { firstRejection = why }
        }
    }

    /// Decodes protobuf bytes (after Snappy).
    public static func decodeProtobuf(_ bytes: [UInt8], limits: LabelLimits = .default) throws(WireError) -> Request {
        try bytes.withUnsafeBufferPointer { (buffer) throws(WireError) -> Request in
            var request = Request()
            var reader = ProtoReader(buffer)
            while !reader.isAtEnd {
                let (field, wire) = try reader.tag()
                guard field == 1 else {
                    try reader.skip(wireType: wire)
                    continue
                }
                try reader.expect(wire, .lengthDelimited, field: field)
                var stream = ProtoReader(buffer, range: try reader.lengthDelimited())
                var labelText = ""
                var entries: [(Int64, String, [String: String])] = []
                while !stream.isAtEnd {
                    let (f, w) = try stream.tag()
                    switch (f, w) {
                    case (1, WireType.lengthDelimited.rawValue): labelText = try stream.string(try stream.lengthDelimited())
                    case (2, WireType.lengthDelimited.rawValue): entries.append(try entry(buffer, try stream.lengthDelimited()))
                    default: try stream.skip(wireType: w)
                    }
                }
                let labels: Labels
                do {
                    labels = try Labels(validating: try LabelSelectorText.parse(labelText), limits: limits)
                } catch let error as WireError {
                    request.reject(entries.count, error.message)
                    continue
                } catch {
                    request.reject(entries.count, "\(error)")
                    continue
                }
                for (nanos, line, metadata) in entries {
                    request.logs.append(LogRecord(labels: labels, unixNanos: nanos, body: line, attributes: metadata))
                }
            }
            return request
        }
    }

    private static func entry(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> (Int64, String, [String: String]) {
        var reader = ProtoReader(buffer, range: range)
        var nanos: Int64 = 0
        var line = ""
        var metadata: [String: String] = [:]
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.lengthDelimited.rawValue):
                var ts = ProtoReader(buffer, range: try reader.lengthDelimited())
                var seconds: Int64 = 0
                var fraction: Int64 = 0
                while !ts.isAtEnd {
                    let (f, w) = try ts.tag()
                    switch (f, w) {
                    case (1, WireType.varint.rawValue): seconds = Int64(bitPattern: try ts.varint())
                    case (2, WireType.varint.rawValue): fraction = Int64(Int32(truncatingIfNeeded: try ts.varint()))
                    default: try ts.skip(wireType: w)
                    }
                }
                nanos = seconds &* 1_000_000_000 &+ fraction
            case (2, WireType.lengthDelimited.rawValue): line = try reader.string(try reader.lengthDelimited())
            case (3, WireType.lengthDelimited.rawValue):
                var pair = ProtoReader(buffer, range: try reader.lengthDelimited())
                var name = ""
                var value = ""
                while !pair.isAtEnd {
                    let (f, w) = try pair.tag()
                    switch (f, w) {
                    case (1, WireType.lengthDelimited.rawValue): name = try pair.string(try pair.lengthDelimited())
                    case (2, WireType.lengthDelimited.rawValue): value = try pair.string(try pair.lengthDelimited())
                    default: try pair.skip(wireType: w)
                    }
                }
                metadata[name] = value
            default: try reader.skip(wireType: wire)
            }
        }
        return (nanos, line, metadata)
    }

    /// Decodes the JSON form.
    public static func decodeJSON(_ bytes: [UInt8], limits: LabelLimits = .default) throws(WireError) -> Request {
        func fail(_ message: String) -> WireError { WireError(.invalidJSON, message) }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw fail("not valid JSON: \(error.localizedDescription)")
        }
        guard let top = root as? [String: Any], let streams = top["streams"] as? [Any] else {
            throw fail("expected an object with a 'streams' array")
        }
        var request = Request()
        for (index, raw) in streams.enumerated() {
            guard let stream = raw as? [String: Any] else { throw fail("streams[\(index)] is not an object") }
            guard let values = stream["values"] as? [Any] else { throw fail("streams[\(index)].values is not an array") }
            var pairs: [Label] = []
            if let labels = stream["stream"] {
                guard let labels = labels as? [String: Any] else { throw fail("streams[\(index)].stream is not an object") }
                for (name, value) in labels {
                    guard let value = value as? String else { throw fail("streams[\(index)].stream.\(name) is not a string") }
                    pairs.append(Label(name, value))
                }
            }
            var entries: [LogRecord] = []
            for (position, item) in values.enumerated() {
                guard let entry = item as? [Any], entry.count == 2 || entry.count == 3,
                    let time = entry[0] as? String, let line = entry[1] as? String
                else {
                    throw fail("streams[\(index)].values[\(position)] is not [\"<unix ns>\", \"<line>\", {metadata}?]")
                }
                guard let nanos = Int64(time) else { throw fail("streams[\(index)].values[\(position)]: '\(time)' is not a unix time in ns") }
                var metadata: [String: String] = [:]
                if entry.count == 3 {
                    guard let object = entry[2] as? [String: Any] else { throw fail("streams[\(index)].values[\(position)][2] is not an object") }
                    for (key, value) in object {
                        guard let value = value as? String else { throw fail("structured metadata \(key) is not a string") }
                        metadata[key] = value
                    }
                }
                entries.append(LogRecord(labels: Labels(), unixNanos: nanos, body: line, attributes: metadata))
            }
            do {
                let labels = try Labels(validating: pairs, limits: limits)
                for var entry in entries {
                    entry.labels = labels
                    request.logs.append(entry)
                }
            } catch {
                request.reject(entries.count, error.description)
            }
        }
        return request
    }

    /// The protobuf bytes of a `PushRequest` for `logs` (one stream per label set), not
    /// Snappy-compressed: for tests, benchmarks and our own clients.
    public static func encodeProtobuf(_ logs: [LogRecord]) -> [UInt8] {
        var order: [Labels] = []
        var byLabels: [Labels: [LogRecord]] = [:]
        for log in logs {
            if byLabels[log.labels] == nil { order.append(log.labels) }
            byLabels[log.labels, default: []].append(log)
        }
        var out = ProtoWriter()
        for labels in order {
            var stream = ProtoWriter()
            stream.bytesField(1, Array(LabelSelectorText.format(labels).utf8))
            for log in byLabels[labels] ?? [] {
                var entry = ProtoWriter()
                var ts = ProtoWriter()
                let (seconds, nanos) = log.unixNanos.quotientAndRemainder(dividingBy: 1_000_000_000)
                ts.varintField(1, UInt64(bitPattern: seconds))
                ts.varintField(2, UInt64(nanos))
                entry.bytesField(1, ts.bytes)
                entry.bytesField(2, Array(log.body.utf8))
                for (name, value) in log.attributes.sorted(by: { $0.key < $1.key }) {
                    var pair = ProtoWriter()
                    pair.bytesField(1, Array(name.utf8))
                    pair.bytesField(2, Array(value.utf8))
                    entry.bytesField(3, pair.bytes)
                }
                stream.bytesField(2, entry.bytes)
            }
            out.bytesField(1, stream.bytes)
        }
        return out.bytes
    }
}

/// The label text Loki puts in `StreamAdapter.labels`: `{name="value", …}`, values in Go
/// string-literal quoting (`\"`, `\\`, `\n`, `\t`).
public enum LabelSelectorText {
    /// The pairs of `text`. Throws `WireError(.invalidLabels)` for anything else.
    public static func parse(_ text: String) throws(WireError) -> [Label] {
        let bytes = Array(text.utf8)
        var i = 0
        func fail(_ message: String) -> WireError { WireError(.invalidLabels, "labels '\(text.prefix(200))': \(message)", offset: i) }
        func skipSpace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "{") else { throw fail("expected '{'") }
        i += 1
        var pairs: [Label] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                let start = i
                while i < bytes.count, bytes[i] == 0x5F || (0x30...0x39).contains(bytes[i]) || (0x41...0x5A).contains(bytes[i]) || (0x61...0x7A).contains(bytes[i]) {
                    i += 1
                }
                guard i > start else { throw fail("expected a label name") }
                let name = String(decoding: bytes[start..<i], as: UTF8.self)
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw fail("expected '=' after \(name)") }
                i += 1
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected '\"'") }
                i += 1
                var value: [UInt8] = []
                var closed = false
                while i < bytes.count {
                    let c = bytes[i]
                    i += 1
                    if c == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    if c == UInt8(ascii: "\\") {
                        guard i < bytes.count else { break }
                        let e = bytes[i]
                        i += 1
                        switch e {
                        case UInt8(ascii: "n"): value.append(0x0A)
                        case UInt8(ascii: "t"): value.append(0x09)
                        case UInt8(ascii: "r"): value.append(0x0D)
                        default: value.append(e)
                        }
                    } else {
                        value.append(c)
                    }
                }
                guard closed else { throw fail("unterminated value of \(name)") }
                pairs.append(Label(name, String(decoding: value, as: UTF8.self)))
                skipSpace()
                guard i < bytes.count else { throw fail("expected ',' or '}'") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == bytes.count else { throw fail("text after '}'") }
        return pairs
    }

    /// `{name="value", …}` for `labels`.
    public static func format(_ labels: Labels) -> String {
        "{" + labels.map { "\($0.name)=\"\(Labels.escape($0.value))\"" }.joined(separator: ", ") + "}"
    }
}
