/// One span of a trace, reduced to what Seismo aggregates and stores.
public struct Span: Hashable, Sendable {
    /// OpenTelemetry's span kinds.
    public enum Kind: Int, Sendable, Hashable, CaseIterable {
        case unspecified = 0, `internal`, server, client, producer, consumer
    }

    /// OpenTelemetry's status codes.
    public enum StatusCode: Int, Sendable, Hashable, CaseIterable {
        case unset = 0, ok, error
    }

    /// 16 bytes.
    public var traceID: [UInt8]
    /// 8 bytes.
    public var spanID: [UInt8]
    /// 8 bytes; nil for a root span.
    public var parentSpanID: [UInt8]?
    public var service: String
    public var name: String
    public var kind: Kind
    /// Start, in nanoseconds since the Unix epoch.
    public var startUnixNanos: Int64
    public var durationNanos: Int64
    public var status: StatusCode
    public var statusMessage: String
    /// Span and resource attributes, stringified.
    public var attributes: [String: String]

    public init(
        traceID: [UInt8], spanID: [UInt8], parentSpanID: [UInt8]? = nil, service: String, name: String,
        kind: Kind = .unspecified, startUnixNanos: Int64, durationNanos: Int64, status: StatusCode = .unset,
        statusMessage: String = "", attributes: [String: String] = [:]
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.service = service
        self.name = name
        self.kind = kind
        self.startUnixNanos = startUnixNanos
        self.durationNanos = durationNanos
        self.status = status
        self.statusMessage = statusMessage
        self.attributes = attributes
    }

    /// The trace id in lowercase hex, as tracing UIs show it.
    public var traceIDHex: String { Span.hex(traceID) }
    /// The span id in lowercase hex.
    public var spanIDHex: String { Span.hex(spanID) }

    /// Lowercase hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
