import SeismoCore

/// Where a push receiver listens, and how much it accepts.
public struct ReceiverListen: Sendable, Hashable {
    public var host: String
    /// 0 picks a free port.
    public var port: Int
    /// Largest request body accepted (compressed, as sent); larger bodies get 413.
    public var maxBodyBytes: Int
    /// Largest body after decompression; larger bodies get 413.
    public var maxDecodedBytes: Int
    /// Most requests decoded and published at once; beyond that the receiver answers 503.
    public var maxConcurrentRequests: Int
    /// Most labels in one series or stream (hostile label counts are rejected with 400).
    public var maxLabels: Int

    public init(
        host: String = "127.0.0.1", port: Int, maxBodyBytes: Int = 16 << 20, maxDecodedBytes: Int = 64 << 20,
        maxConcurrentRequests: Int = 64, maxLabels: Int = 128
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxDecodedBytes = maxDecodedBytes
        self.maxConcurrentRequests = maxConcurrentRequests
        self.maxLabels = maxLabels
    }
}

/// Prometheus remote write 1.0 receiver: `POST /api/v1/write` (Snappy + protobuf).
public struct RemoteWriteSpec: Sendable, Hashable {
    public var listen: ReceiverListen
    public init(listen: ReceiverListen) { self.listen = listen }
}

/// OTLP/HTTP receiver: `/v1/metrics`, `/v1/logs`, `/v1/traces`, protobuf and JSON.
public struct OTLPSpec: Sendable, Hashable {
    public var listen: ReceiverListen
    /// Most delta series whose running sums are kept (see `OTLPTranslator`).
    public var maxDeltaSeries: Int
    public init(listen: ReceiverListen, maxDeltaSeries: Int = 100_000) {
        self.listen = listen
        self.maxDeltaSeries = maxDeltaSeries
    }
}

/// Loki push receiver: `POST /loki/api/v1/push`, JSON and Snappy protobuf.
public struct LokiPushSpec: Sendable, Hashable {
    public var listen: ReceiverListen
    public init(listen: ReceiverListen) { self.listen = listen }
}

/// Tails log files and publishes their lines as log records.
public struct LogsSpec: Sendable, Hashable {
    /// How each line (or joined multi-line entry) is parsed.
    public enum Format: Sendable, Hashable {
        /// The line is the body; no fields.
        case raw
        /// A JSON object per line; its top-level fields.
        case json
        /// `key=value key2="quoted value"` pairs.
        case logfmt
        /// A regular expression with named groups (`(?<name>…)`); a line that does not match is kept as raw and counted.
        case regex(String)

        public var name: String {
            switch self {
            case .raw: "raw"
            case .json: "json"
            case .logfmt: "logfmt"
            case .regex: "regex"
            }
        }
    }

    /// File globs (`*`, `?`, `[…]` within one path component).
    public var paths: [String]
    public var format: Format
    /// Labels every record carries.
    public var labels: [String: String]
    /// Parsed fields that become labels (the rest become attributes).
    public var labelFields: [String]
    /// The parsed field holding the record's time (RFC 3339 or Unix seconds/ms/ns); absent or unreadable uses the read time.
    public var timestampField: String?
    /// The parsed field holding the message; absent keeps the whole line as body.
    public var messageField: String?
    /// The parsed field holding the severity (`info`, `warn`, …).
    public var levelField: String?
    /// A line matching this regular expression starts a new entry; other lines join the previous one.
    public var multilineStart: String?
    /// Longest joined entry, in lines; longer entries are cut there.
    public var multilineMaxLines: Int
    /// Where read positions are persisted (JSON); nil keeps them in memory only.
    public var positionsPath: String?
    /// How often files are checked for new lines, new files and rotation.
    public var pollInterval: Duration
    /// Where a newly found file is read from: its start, or its end (only new lines).
    public var startAtEnd: Bool
    /// Longest line kept; longer lines are cut and counted.
    public var maxLineBytes: Int

    public init(
        paths: [String], format: Format = .raw, labels: [String: String] = [:], labelFields: [String] = [],
        timestampField: String? = nil, messageField: String? = nil, levelField: String? = nil,
        multilineStart: String? = nil, multilineMaxLines: Int = 500, positionsPath: String? = nil,
        pollInterval: Duration = .milliseconds(250), startAtEnd: Bool = false, maxLineBytes: Int = 256 * 1024
    ) {
        self.paths = paths
        self.format = format
        self.labels = labels
        self.labelFields = labelFields
        self.timestampField = timestampField
        self.messageField = messageField
        self.levelField = levelField
        self.multilineStart = multilineStart
        self.multilineMaxLines = multilineMaxLines
        self.positionsPath = positionsPath
        self.pollInterval = pollInterval
        self.startAtEnd = startAtEnd
        self.maxLineBytes = maxLineBytes
    }
}
