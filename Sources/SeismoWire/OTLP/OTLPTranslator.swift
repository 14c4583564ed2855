import SeismoCore

/// Maps decoded OTLP to Seismo's signals, the way Prometheus' OTLP translation names them.
///
/// **Labels.** Resource attributes, then scope (`otel_scope_name`, `otel_scope_version`),
/// then point (or log record) attributes become labels, each name sanitised: every
/// character outside `[a-zA-Z0-9_]` becomes `_`, a leading digit gets the prefix `key_`,
/// a leading `__` gets `key` (reserved names stay ours). A later level overrides an earlier
/// one; two attributes of one level that sanitise to the same name have their values
/// joined by `;`. `service.name` (prefixed by `service.namespace` and `/` when set) is
/// also `job`, and `service.instance.id` is `instance`.
///
/// **Metric names.** Characters outside `[a-zA-Z0-9_:]` become `_`, runs of `_` collapse,
/// a leading digit gets `_`. Unit suffixes are not appended.
///
/// **Metrics.**
/// - gauge → one sample per point;
/// - sum, cumulative and monotonic → a counter named `…_total`; cumulative and not
///   monotonic → a gauge;
/// - sum or histogram with **delta** temporality → accumulated: the receiver keeps, per
///   series, the running sum of every delta it has seen and publishes that running sum
///   (so the series is a cumulative counter downstream, and `rate()` works). The state
///   holds at most `maxDeltaSeries` series; a new delta series beyond that is dropped
///   and counted (`droppedDeltaSeries`). Unspecified temporality is read as cumulative;
/// - histogram → classic buckets: `…_bucket{le="…"}` (cumulative counts, ending at
///   `le="+Inf"` = count), `…_sum` (when present) and `…_count`;
/// - summary → `…{quantile="…"}`, `…_sum`, `…_count`;
/// - exponential histograms are not mapped (counted in `unsupported`).
/// A point flagged "no recorded value" becomes a staleness marker. A point without a time
/// gets the receive time.
///
/// **Logs** become `LogRecord`s: labels from resource and record attributes as above;
/// body as text (a structured body as compact JSON); severity from its number's range.
/// **Spans** keep their ids, times and status; `service` is `service.name`; attributes are
/// the resource's then the span's, unsanitised, stringified.
public struct OTLPTranslator: Sendable {
    /// What one request turned into.
    public struct Result: Sendable, Equatable {
        public var batch = SignalBatch()
        /// Points, records or spans that could not be mapped (invalid labels or ids).
        public var rejected = 0
        public var firstRejection: String?
        /// Points of metric types that are not mapped (exponential histograms).
        public var unsupported = 0
        public init() {}

        mutating func reject(_ why: String) {
            rejected += 1
            if firstRejection == nil { firstRejection = why }
        }
    }

    public let limits: LabelLimits
    public let maxDeltaSeries: Int
    /// Running sums of delta series, by their labels.
    private var deltas: [Labels: Double] = [:]
    /// New delta series refused because the state was full.
    public private(set) var droppedDeltaSeries = 0

    public init(limits: LabelLimits = .default, maxDeltaSeries: Int = 100_000) {
        self.limits = limits
        self.maxDeltaSeries = max(0, maxDeltaSeries)
    }

    /// The number of delta series held.
    public var deltaSeriesCount: Int { deltas.count }

    // MARK: Metrics

    /// Samples for `groups`; `now` is the receive time (ms), for points without a time.
    public mutating func metrics(_ groups: [OTLP.MetricGroup], now: Timestamp) -> Result {
        var result = Result()
        var builder = SeriesBuilder()
        for group in groups {
            let base = Self.labels(group.context)
            for metric in group.metrics {
                let name = Self.metricName(metric.name)
                guard !name.isEmpty else {
                    result.reject("a metric without a name")
                    continue
                }
                switch metric.data {
                case .none: continue
                case .unsupported:
                    result.unsupported += 1
                case .gauge(let points):
                    for p in points {
                        emit(name, base, p.attributes, [], p.timeUnixNano, p.noRecordedValue ? StaleMarker.value : p.value, delta: false, now: now, &builder, &result)
                    }
                case .sum(let points, let temporality, let monotonic):
                    let full = monotonic && !name.hasSuffix("_total") ? name + "_total" : name
                    for p in points {
                        emit(full, base, p.attributes, [], p.timeUnixNano, p.noRecordedValue ? StaleMarker.value : p.value, delta: temporality == .delta, now: now, &builder, &result)
                    }
                case .histogram(let points, let temporality):
                    let delta = temporality == .delta
                    for p in points {
                        let stale = p.noRecordedValue
                        var cumulative: UInt64 = 0
                        for (index, bound) in p.explicitBounds.enumerated() {
                            cumulative &+= index < p.bucketCounts.count ? p.bucketCounts[index] : 0
                            emit(name + "_bucket", base, p.attributes, [Label("le", Self.formatBound(bound))], p.timeUnixNano,
                                 stale ? StaleMarker.value : Double(cumulative), delta: delta, now: now, &builder, &result)
                        }
                        emit(name + "_bucket", base, p.attributes, [Label("le", "+Inf")], p.timeUnixNano,
                             stale ? StaleMarker.value : Double(p.count), delta: delta, now: now, &builder, &result)
                        if let sum = p.sum {
                            emit(name + "_sum", base, p.attributes, [], p.timeUnixNano, stale ? StaleMarker.value : sum, delta: delta, now: now, &builder, &result)
                        }
                        emit(name + "_count", base, p.attributes, [], p.timeUnixNano, stale ? StaleMarker.value : Double(p.count), delta: delta, now: now, &builder, &result)
                    }
                case .summary(let points):
                    for p in points {
                        let stale = p.noRecordedValue
                        for q in p.quantiles {
                            emit(name, base, p.attributes, [Label("quantile", Self.formatBound(q.quantile))], p.timeUnixNano,
                                 stale ? StaleMarker.value : q.value, delta: false, now: now, &builder, &result)
                        }
                        emit(name + "_sum", base, p.attributes, [], p.timeUnixNano, stale ? StaleMarker.value : p.sum, delta: false, now: now, &builder, &result)
                        emit(name + "_count", base, p.attributes, [], p.timeUnixNano, stale ? StaleMarker.value : Double(p.count), delta: false, now: now, &builder, &result)
                    }
                }
            }
        }
        result.batch.series = builder.series
        return result
    }

    private mutating func emit(
        _ name: String, _ base: [String: String], _ attributes: [OTLP.KeyValue], _ extra: [Label], _ time: UInt64,
        _ value: Double, delta: Bool, now: Timestamp, _ builder: inout SeriesBuilder, _ result: inout Result
    ) {
        var merged = base
        for (key, value) in Self.sanitised(attributes) { merged[key] = value }
        for label in extra { merged[label.name] = label.value }
        merged[Labels.metricName] = name
        let labels: Labels
        do {
            labels = try Labels(validating: merged, limits: limits)
        } catch {
            result.reject("metric \(name): \(error)")
            return
        }
        var value = value
        if delta, !StaleMarker.isStale(value) {
            if let running = deltas[labels] {
                value += running
            } else if deltas.count >= maxDeltaSeries {
                droppedDeltaSeries += 1
                result.reject("metric \(name): the delta-accumulation state is full (\(maxDeltaSeries) series)")
                return
            }
            deltas[labels] = value
        }
        let ms = time == 0 ? now.milliseconds : Int64(clamping: time / 1_000_000)
        builder.append(labels, ms, value)
    }

    // MARK: Logs

    /// Log records for `groups`.
    public func logs(_ groups: [OTLP.LogGroup], now: Timestamp) -> Result {
        var result = Result()
        for group in groups {
            let base = Self.labels(group.context)
            for log in group.logs {
                var merged = base
                for (key, value) in Self.sanitised(log.attributes) { merged[key] = value }
                let labels: Labels
                do {
                    labels = try Labels(validating: merged, limits: limits)
                } catch {
                    result.reject("log record: \(error)")
                    continue
                }
                let time = log.timeUnixNano != 0 ? log.timeUnixNano : log.observedTimeUnixNano
                let nanos = time == 0 ? now.milliseconds * 1_000_000 : Int64(clamping: time)
                let body: String =
                    switch log.body {
                    case .string(let s): s
                    default: log.body.text
                    }
                var attributes: [String: String] = [:]
                if !log.severityText.isEmpty { attributes["severity_text"] = log.severityText }
                result.batch.logs.append(
                    LogRecord(
                        labels: labels, unixNanos: nanos, severity: Self.severity(log.severityNumber), body: body,
                        attributes: attributes, traceID: log.traceID.count == 16 ? log.traceID : nil,
                        spanID: log.spanID.count == 8 ? log.spanID : nil))
            }
        }
        return result
    }

    /// The severity range of OTLP's `SeverityNumber` (1–4 trace, … 21–24 fatal).
    static func severity(_ number: Int) -> LogRecord.Severity {
        switch number {
        case 1...4: .trace
        case 5...8: .debug
        case 9...12: .info
        case 13...16: .warn
        case 17...20: .error
        case 21...24: .fatal
        default: .unspecified
        }
    }

    // MARK: Spans

    /// Spans for `groups`; a span whose trace id is not 16 bytes or span id not 8 is rejected.
    public func spans(_ groups: [OTLP.SpanGroup]) -> Result {
        var result = Result()
        for group in groups {
            var resource: [String: String] = [:]
            for kv in group.context.resource { resource[kv.key] = kv.value.text }
            let service = resource["service.name"] ?? "unknown_service"
            for span in group.spans {
                guard span.traceID.count == 16, span.traceID.contains(where: { $0 != 0 }) else {
                    result.reject("span '\(span.name)': trace id must be 16 bytes, not all zero")
                    continue
                }
                guard span.spanID.count == 8, span.spanID.contains(where: { $0 != 0 }) else {
                    result.reject("span '\(span.name)': span id must be 8 bytes, not all zero")
                    continue
                }
                guard span.parentSpanID.isEmpty || span.parentSpanID.count == 8 else {
                    result.reject("span '\(span.name)': parent span id must be 8 bytes")
                    continue
                }
                var attributes = resource
                for kv in span.attributes { attributes[kv.key] = kv.value.text }
                let start = Int64(clamping: span.startTimeUnixNano)
                let end = Int64(clamping: span.endTimeUnixNano)
                result.batch.spans.append(
                    Span(
                        traceID: span.traceID, spanID: span.spanID,
                        parentSpanID: span.parentSpanID.isEmpty ? nil : span.parentSpanID, service: service,
                        name: span.name, kind: Span.Kind(rawValue: span.kind) ?? .unspecified, startUnixNanos: start,
                        durationNanos: max(0, end &- start), status: Span.StatusCode(rawValue: span.statusCode) ?? .unset,
                        statusMessage: span.statusMessage, attributes: attributes))
            }
        }
        return result
    }

    // MARK: Naming

    /// Labels of a resource and scope (before point attributes).
    static func labels(_ context: OTLP.Context) -> [String: String] {
        var out = sanitised(context.resource)
        var raw: [String: String] = [:]
        for kv in context.resource { raw[kv.key] = kv.value.text }
        if let service = raw["service.name"] {
            if let namespace = raw["service.namespace"], !namespace.isEmpty {
                out["job"] = namespace + "/" + service
            } else {
                out["job"] = service
            }
        }
        if let instance = raw["service.instance.id"] { out["instance"] = instance }
        if !context.scopeName.isEmpty { out["otel_scope_name"] = context.scopeName }
        if !context.scopeVersion.isEmpty { out["otel_scope_version"] = context.scopeVersion }
        return out
    }

    /// Attributes by sanitised name; values of names that collide are joined by `;` (in key order).
    static func sanitised(_ attributes: [OTLP.KeyValue]) -> [String: String] {
        var grouped: [String: [(key: String, value: String)]] = [:]
        for kv in attributes { grouped[labelName(kv.key), default: []].append((kv.key, kv.value.text)) }
        var out: [String: String] = [:]
        for (name, values) in grouped where !name.isEmpty {
            out[name] = values.count == 1 ? values[0].value : values.sorted { $0.key < $1.key }.map(\.value).joined(separator: ";")
        }
        return out
    }

    /// A label name as Prometheus' OTLP translation writes it.
    public static func labelName(_ key: String) -> String {
        var out = ""
        out.reserveCapacity(key.utf8.count)
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_": out.unicodeScalars.append(scalar)
            default: out.append("_")
            }
        }
        if out.isEmpty { return "" }
        if let first = out.utf8.first, (0x30...0x39).contains(first) { return "key_" + out }
        if out.hasPrefix("__") { return "key" + out }
        return out
    }

    /// A metric name as Prometheus' OTLP translation writes it (without unit suffixes).
    public static func metricName(_ name: String) -> String {
        var out = ""
        out.reserveCapacity(name.utf8.count)
        var lastUnderscore = false
        for scalar in name.unicodeScalars {
            let keep: Bool =
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", ":": true
                default: false
                }
            if keep {
                out.unicodeScalars.append(scalar)
                lastUnderscore = false
            } else if !lastUnderscore {
                out.append("_")
                lastUnderscore = true
            }
        }
        if let first = out.utf8.first, (0x30...0x39).contains(first) { return "_" + out }
        return out
    }

    /// A bucket bound or quantile as Prometheus writes `le`: shortest decimal, integers without `.0`.
    public static func formatBound(_ value: Double) -> String {
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        if value.isNaN { return "NaN" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }
}

/// Groups samples into series by label set, in first-seen order.
struct SeriesBuilder {
    var series: [SeriesSamples] = []
    private var index: [Labels: Int] = [:]

    mutating func append(_ labels: Labels, _ timestamp: Int64, _ value: Double) {
        if let i = index[labels] {
            series[i].append(timestamp: timestamp, value: value)
        } else {
            index[labels] = series.count
            series.append(SeriesSamples(labels: labels, timestamps: [timestamp], values: [value]))
        }
    }
}
