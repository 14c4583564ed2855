import SeismoCore

/// The parts of OpenTelemetry's OTLP messages (opentelemetry-proto v1: `metrics`, `logs`,
/// `trace`, `common`, `resource`) that Seismo maps to signals. Both `OTLPProtobuf` and
/// `OTLPJSON` decode into these types; `OTLPTranslator` maps them to samples, log records
/// and spans.
public enum OTLP {
    /// `common.v1.AnyValue`.
    public indirect enum AnyValue: Sendable, Hashable {
        case string(String)
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case bytes([UInt8])
        case array([AnyValue])
        case keyValues([KeyValue])
        case empty

        /// The value as a label or attribute value: scalars as text (bytes in hex), arrays
        /// and maps as compact JSON, as Prometheus' OTLP translation stringifies them.
        public var text: String {
            switch self {
            case .string(let s): return s
            case .bool(let b): return b ? "true" : "false"
            case .int(let i): return String(i)
            case .double(let d): return d.description
            case .bytes(let b): return Span.hex(b)
            case .empty: return ""
            case .array(let values): return "[" + values.map(\.jsonText).joined(separator: ",") + "]"
            case .keyValues(let pairs):
                return "{" + pairs.map { "\(JSONQuoting.quote($0.key)):\($0.value.jsonText)" }.joined(separator: ",") + "}"
            }
        }

        var jsonText: String {
            switch self {
            case .string(let s): return JSONQuoting.quote(s)
            case .bytes: return JSONQuoting.quote(text)
            case .empty: return "null"
            case .double(let d) where !d.isFinite: return JSONQuoting.quote(text)
            default: return text
            }
        }
    }

    /// `common.v1.KeyValue`.
    public struct KeyValue: Sendable, Hashable {
        public var key: String
        public var value: AnyValue
        public init(_ key: String, _ value: AnyValue) {
            self.key = key
            self.value = value
        }
    }

    /// `resource.v1.Resource` with its `InstrumentationScope`.
    public struct Context: Sendable, Hashable {
        public var resource: [KeyValue] = []
        public var scopeName = ""
        public var scopeVersion = ""
        public var scopeAttributes: [KeyValue] = []
        public init() {}
    }

    /// `metrics.v1.AggregationTemporality`.
    public enum Temporality: Int, Sendable, Hashable {
        case unspecified = 0, delta = 1, cumulative = 2
    }

    /// `NumberDataPoint`.
    public struct NumberPoint: Sendable, Hashable {
        public var attributes: [KeyValue] = []
        public var startTimeUnixNano: UInt64 = 0
        public var timeUnixNano: UInt64 = 0
        public var value: Double = 0
        /// `flags` bit 0: no recorded value (a staleness marker in Prometheus terms).
        public var noRecordedValue = false
        public init() {}
    }

    /// `HistogramDataPoint` (explicit buckets).
    public struct HistogramPoint: Sendable, Hashable {
        public var attributes: [KeyValue] = []
        public var startTimeUnixNano: UInt64 = 0
        public var timeUnixNano: UInt64 = 0
        public var count: UInt64 = 0
        public var sum: Double?
        /// Per-bucket (not cumulative) counts; one more than `explicitBounds`.
        public var bucketCounts: [UInt64] = []
        public var explicitBounds: [Double] = []
        public var noRecordedValue = false
        public init() {}
    }

    /// `SummaryDataPoint`.
    public struct SummaryPoint: Sendable, Hashable {
        public var attributes: [KeyValue] = []
        public var timeUnixNano: UInt64 = 0
        public var count: UInt64 = 0
        public var sum: Double = 0
        public var quantiles: [Quantile] = []
        public var noRecordedValue = false
        public init() {}
    }

    public struct Quantile: Sendable, Hashable {
        public var quantile: Double
        public var value: Double
        public init(quantile: Double, value: Double) {
            self.quantile = quantile
            self.value = value
        }
    }

    /// `metrics.v1.Metric`.
    public struct Metric: Sendable, Hashable {
        public enum Data: Sendable, Hashable {
            case gauge([NumberPoint])
            case sum([NumberPoint], temporality: Temporality, monotonic: Bool)
            case histogram([HistogramPoint], temporality: Temporality)
            case summary([SummaryPoint])
            /// Exponential histograms and anything newer: counted, not mapped.
            case unsupported(String)
            case none
        }

        public var name = ""
        public var unit = ""
        public var data: Data = .none
        public init() {}
    }

    /// Metrics with their resource and scope.
    public struct MetricGroup: Sendable, Hashable {
        public var context: Context
        public var metrics: [Metric]
        public init(context: Context, metrics: [Metric]) {
            self.context = context
            self.metrics = metrics
        }
    }

    /// `logs.v1.LogRecord`.
    public struct Log: Sendable, Hashable {
        public var timeUnixNano: UInt64 = 0
        public var observedTimeUnixNano: UInt64 = 0
        public var severityNumber = 0
        public var severityText = ""
        public var body: AnyValue = .empty
        public var attributes: [KeyValue] = []
        public var traceID: [UInt8] = []
        public var spanID: [UInt8] = []
        public init() {}
    }

    public struct LogGroup: Sendable, Hashable {
        public var context: Context
        public var logs: [Log]
        public init(context: Context, logs: [Log]) {
            self.context = context
            self.logs = logs
        }
    }

    /// `trace.v1.Span`.
    public struct SpanData: Sendable, Hashable {
        public var traceID: [UInt8] = []
        public var spanID: [UInt8] = []
        public var parentSpanID: [UInt8] = []
        public var name = ""
        public var kind = 0
        public var startTimeUnixNano: UInt64 = 0
        public var endTimeUnixNano: UInt64 = 0
        public var attributes: [KeyValue] = []
        public var statusCode = 0
        public var statusMessage = ""
        public init() {}
    }

    public struct SpanGroup: Sendable, Hashable {
        public var context: Context
        public var spans: [SpanData]
        public init(context: Context, spans: [SpanData]) {
            self.context = context
            self.spans = spans
        }
    }

    /// The three export requests.
    public enum Signal: String, Sendable, Hashable, CaseIterable {
        case metrics, logs, traces
    }
}
