import SeismoCore

/// Decodes OTLP export requests in protobuf (`application/x-protobuf`), by hand over
/// `ProtoReader`, with opentelemetry-proto v1's field numbers. Unknown fields are skipped;
/// nested `AnyValue`s deeper than `maxDepth` are rejected (hostile nesting).
public enum OTLPProtobuf {
    /// The deepest `AnyValue` nesting accepted.
    public static let maxDepth = 16

    /// `ExportMetricsServiceRequest`: resource_metrics (1) → resource (1), scope_metrics (2)
    /// → scope (1), metrics (2).
    public static func decodeMetrics(_ bytes: [UInt8]) throws(WireError) -> [OTLP.MetricGroup] {
        try groups(bytes) { (buffer, range, context) throws(WireError) -> [OTLP.Metric] in
            var out: [OTLP.Metric] = []
            try each(buffer, range, field: 2) { (r) throws(WireError) in out.append(try metric(buffer, r)) }
            return out
        }.map { OTLP.MetricGroup(context: $0.0, metrics: $0.1) }
    }

    /// `ExportLogsServiceRequest`: resource_logs (1) → scope_logs (2) → log_records (2).
    public static func decodeLogs(_ bytes: [UInt8]) throws(WireError) -> [OTLP.LogGroup] {
        try groups(bytes) { (buffer, range, context) throws(WireError) -> [OTLP.Log] in
            var out: [OTLP.Log] = []
            try each(buffer, range, field: 2) { (r) throws(WireError) in out.append(try log(buffer, r)) }
            return out
        }.map { OTLP.LogGroup(context: $0.0, logs: $0.1) }
    }

    /// `ExportTraceServiceRequest`: resource_spans (1) → scope_spans (2) → spans (2).
    public static func decodeTraces(_ bytes: [UInt8]) throws(WireError) -> [OTLP.SpanGroup] {
        try groups(bytes) { (buffer, range, context) throws(WireError) -> [OTLP.SpanData] in
            var out: [OTLP.SpanData] = []
            try each(buffer, range, field: 2) { (r) throws(WireError) in out.append(try span(buffer, r)) }
            return out
        }.map { OTLP.SpanGroup(context: $0.0, spans: $0.1) }
    }

    // MARK: Envelope

    /// Walks request → Resource* (field 1) → Scope* (field 2), calling `items` on each scope message.
    private static func groups<Item>(
        _ bytes: [UInt8],
        items: (UnsafeBufferPointer<UInt8>, Range<Int>, OTLP.Context) throws(WireError) -> [Item]
    ) throws(WireError) -> [(OTLP.Context, [Item])] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(WireError) -> [(OTLP.Context, [Item])] in
            var out: [(OTLP.Context, [Item])] = []
            try each(buffer, 0..<buffer.count, field: 1) { (resourceRange) throws(WireError) in
                var base = OTLP.Context()
                var scopes: [Range<Int>] = []
                var reader = ProtoReader(buffer, range: resourceRange)
                while !reader.isAtEnd {
                    let (field, wire) = try reader.tag()
                    if field == 1 || field == 2, wire == WireType.lengthDelimited.rawValue {
                        let r = try reader.lengthDelimited()
                        if field == 1 {
                            try each(buffer, r, field: 1) { (kv) throws(WireError) in base.resource.append(try keyValue(buffer, kv, depth: 0)) }
                        } else {
                            scopes.append(r)
                        }
                    } else {
                        try reader.skip(wireType: wire)
                    }
                }
                for scopeRange in scopes {
                    var context = base
                    var reader = ProtoReader(buffer, range: scopeRange)
                    while !reader.isAtEnd {
                        let (field, wire) = try reader.tag()
                        if field == 1, wire == WireType.lengthDelimited.rawValue {
                            try scope(buffer, try reader.lengthDelimited(), into: &context)
                        } else {
                            try reader.skip(wireType: wire)
                        }
                    }
                    out.append((context, try items(buffer, scopeRange, context)))
                }
            }
            return out
        }
    }

    private static func scope(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into context: inout OTLP.Context) throws(WireError) {
        var reader = ProtoReader(buffer, range: range)
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.lengthDelimited.rawValue): context.scopeName = try reader.string(try reader.lengthDelimited())
            case (2, WireType.lengthDelimited.rawValue): context.scopeVersion = try reader.string(try reader.lengthDelimited())
            case (3, WireType.lengthDelimited.rawValue):
                context.scopeAttributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            default: try reader.skip(wireType: wire)
            }
        }
    }

    /// Calls `body` with the range of every length-delimited occurrence of `field`.
    private static func each(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, field wanted: UInt32,
        _ body: (Range<Int>) throws(WireError) -> Void
    ) throws(WireError) {
        var reader = ProtoReader(buffer, range: range)
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            if field == wanted {
                try reader.expect(wire, .lengthDelimited, field: field)
                try body(try reader.lengthDelimited())
            } else {
                try reader.skip(wireType: wire)
            }
        }
    }

    // MARK: Common

    static func keyValue(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, depth: Int) throws(WireError) -> OTLP.KeyValue {
        var reader = ProtoReader(buffer, range: range)
        var key = ""
        var value = OTLP.AnyValue.empty
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.lengthDelimited.rawValue): key = try reader.string(try reader.lengthDelimited())
            case (2, WireType.lengthDelimited.rawValue): value = try anyValue(buffer, try reader.lengthDelimited(), depth: depth + 1)
            default: try reader.skip(wireType: wire)
            }
        }
        return OTLP.KeyValue(key, value)
    }

    static func anyValue(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, depth: Int) throws(WireError) -> OTLP.AnyValue {
        var reader = ProtoReader(buffer, range: range)
        guard depth <= maxDepth else { throw reader.error("AnyValue nested deeper than \(maxDepth)") }
        var value = OTLP.AnyValue.empty
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.lengthDelimited.rawValue): value = .string(try reader.string(try reader.lengthDelimited()))
            case (2, WireType.varint.rawValue): value = .bool(try reader.varint() != 0)
            case (3, WireType.varint.rawValue): value = .int(Int64(bitPattern: try reader.varint()))
            case (4, WireType.fixed64.rawValue): value = .double(Double(bitPattern: try reader.fixed64()))
            case (5, WireType.lengthDelimited.rawValue):
                var values: [OTLP.AnyValue] = []
                try each(buffer, try reader.lengthDelimited(), field: 1) { (r) throws(WireError) in
                    values.append(try anyValue(buffer, r, depth: depth + 1))
                }
                value = .array(values)
            case (6, WireType.lengthDelimited.rawValue):
                var pairs: [OTLP.KeyValue] = []
                try each(buffer, try reader.lengthDelimited(), field: 1) { (r) throws(WireError) in
                    pairs.append(try keyValue(buffer, r, depth: depth + 1))
                }
                value = .keyValues(pairs)
            case (7, WireType.lengthDelimited.rawValue): value = .bytes(reader.bytes(try reader.lengthDelimited()))
            default: try reader.skip(wireType: wire)
            }
        }
        return value
    }

    // MARK: Metrics

    private static func metric(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.Metric {
        var reader = ProtoReader(buffer, range: range)
        var metric = OTLP.Metric()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            guard wire == WireType.lengthDelimited.rawValue else {
                try reader.skip(wireType: wire)
                continue
            }
            let r = try reader.lengthDelimited()
            switch field {
            case 1: metric.name = try reader.string(r)
            case 3: metric.unit = try reader.string(r)
            case 5:
                var points: [OTLP.NumberPoint] = []
                try each(buffer, r, field: 1) { (p) throws(WireError) in points.append(try numberPoint(buffer, p)) }
                metric.data = .gauge(points)
            case 7:
                var points: [OTLP.NumberPoint] = []
                var temporality = OTLP.Temporality.unspecified
                var monotonic = false
                var inner = ProtoReader(buffer, range: r)
                while !inner.isAtEnd {
                    let (f, w) = try inner.tag()
                    switch (f, w) {
                    case (1, WireType.lengthDelimited.rawValue): points.append(try numberPoint(buffer, try inner.lengthDelimited()))
                    case (2, WireType.varint.rawValue): temporality = OTLP.Temporality(rawValue: Int(truncatingIfNeeded: try inner.varint())) ?? .unspecified
                    case (3, WireType.varint.rawValue): monotonic = try inner.varint() != 0
                    default: try inner.skip(wireType: w)
                    }
                }
                metric.data = .sum(points, temporality: temporality, monotonic: monotonic)
            case 9:
                var points: [OTLP.HistogramPoint] = []
                var temporality = OTLP.Temporality.unspecified
                var inner = ProtoReader(buffer, range: r)
                while !inner.isAtEnd {
                    let (f, w) = try inner.tag()
                    switch (f, w) {
                    case (1, WireType.lengthDelimited.rawValue): points.append(try histogramPoint(buffer, try inner.lengthDelimited()))
                    case (2, WireType.varint.rawValue): temporality = OTLP.Temporality(rawValue: Int(truncatingIfNeeded: try inner.varint())) ?? .unspecified
                    default: try inner.skip(wireType: w)
                    }
                }
                metric.data = .histogram(points, temporality: temporality)
            case 10: metric.data = .unsupported("exponential histogram")
            case 11:
                var points: [OTLP.SummaryPoint] = []
                try each(buffer, r, field: 1) { (p) throws(WireError) in points.append(try summaryPoint(buffer, p)) }
                metric.data = .summary(points)
            default: break
            }
        }
        return metric
    }

    private static func numberPoint(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.NumberPoint {
        var reader = ProtoReader(buffer, range: range)
        var point = OTLP.NumberPoint()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (7, WireType.lengthDelimited.rawValue): point.attributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            case (2, WireType.fixed64.rawValue): point.startTimeUnixNano = try reader.fixed64()
            case (3, WireType.fixed64.rawValue): point.timeUnixNano = try reader.fixed64()
            case (4, WireType.fixed64.rawValue): point.value = Double(bitPattern: try reader.fixed64())
            case (6, WireType.fixed64.rawValue): point.value = Double(Int64(bitPattern: try reader.fixed64()))
            case (8, WireType.varint.rawValue): point.noRecordedValue = try reader.varint() & 1 != 0
            default: try reader.skip(wireType: wire)
            }
        }
        return point
    }

    private static func histogramPoint(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.HistogramPoint {
        var reader = ProtoReader(buffer, range: range)
        var point = OTLP.HistogramPoint()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (9, WireType.lengthDelimited.rawValue): point.attributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            case (2, WireType.fixed64.rawValue): point.startTimeUnixNano = try reader.fixed64()
            case (3, WireType.fixed64.rawValue): point.timeUnixNano = try reader.fixed64()
            case (4, WireType.fixed64.rawValue): point.count = try reader.fixed64()
            case (5, WireType.fixed64.rawValue): point.sum = Double(bitPattern: try reader.fixed64())
            case (6, WireType.lengthDelimited.rawValue):  // packed fixed64
                let r = try reader.lengthDelimited()
                guard r.count % 8 == 0 else { throw reader.error("bucket_counts is not a multiple of 8 bytes") }
                var items = ProtoReader(buffer, range: r)
                while !items.isAtEnd { point.bucketCounts.append(try items.fixed64()) }
            case (6, WireType.fixed64.rawValue): point.bucketCounts.append(try reader.fixed64())
            case (7, WireType.lengthDelimited.rawValue):  // packed double
                let r = try reader.lengthDelimited()
                guard r.count % 8 == 0 else { throw reader.error("explicit_bounds is not a multiple of 8 bytes") }
                reader.appendDoubles(r, to: &point.explicitBounds)
            case (7, WireType.fixed64.rawValue): point.explicitBounds.append(Double(bitPattern: try reader.fixed64()))
            case (10, WireType.varint.rawValue): point.noRecordedValue = try reader.varint() & 1 != 0
            default: try reader.skip(wireType: wire)
            }
        }
        return point
    }

    private static func summaryPoint(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.SummaryPoint {
        var reader = ProtoReader(buffer, range: range)
        var point = OTLP.SummaryPoint()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (7, WireType.lengthDelimited.rawValue): point.attributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            case (3, WireType.fixed64.rawValue): point.timeUnixNano = try reader.fixed64()
            case (4, WireType.fixed64.rawValue): point.count = try reader.fixed64()
            case (5, WireType.fixed64.rawValue): point.sum = Double(bitPattern: try reader.fixed64())
            case (6, WireType.lengthDelimited.rawValue):
                var q = ProtoReader(buffer, range: try reader.lengthDelimited())
                var quantile = OTLP.Quantile(quantile: 0, value: 0)
                while !q.isAtEnd {
                    let (f, w) = try q.tag()
                    switch (f, w) {
                    case (1, WireType.fixed64.rawValue): quantile.quantile = Double(bitPattern: try q.fixed64())
                    case (2, WireType.fixed64.rawValue): quantile.value = Double(bitPattern: try q.fixed64())
                    default: try q.skip(wireType: w)
                    }
                }
                point.quantiles.append(quantile)
            case (8, WireType.varint.rawValue): point.noRecordedValue = try reader.varint() & 1 != 0
            default: try reader.skip(wireType: wire)
            }
        }
        return point
    }

    // MARK: Logs and spans

    private static func log(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.Log {
        var reader = ProtoReader(buffer, range: range)
        var log = OTLP.Log()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.fixed64.rawValue): log.timeUnixNano = try reader.fixed64()
            case (11, WireType.fixed64.rawValue): log.observedTimeUnixNano = try reader.fixed64()
            case (2, WireType.varint.rawValue): log.severityNumber = Int(truncatingIfNeeded: try reader.varint())
            case (3, WireType.lengthDelimited.rawValue): log.severityText = try reader.string(try reader.lengthDelimited())
            case (5, WireType.lengthDelimited.rawValue): log.body = try anyValue(buffer, try reader.lengthDelimited(), depth: 1)
            case (6, WireType.lengthDelimited.rawValue): log.attributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            case (9, WireType.lengthDelimited.rawValue): log.traceID = reader.bytes(try reader.lengthDelimited())
            case (10, WireType.lengthDelimited.rawValue): log.spanID = reader.bytes(try reader.lengthDelimited())
            default: try reader.skip(wireType: wire)
            }
        }
        return log
    }

    private static func span(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(WireError) -> OTLP.SpanData {
        var reader = ProtoReader(buffer, range: range)
        var span = OTLP.SpanData()
        while !reader.isAtEnd {
            let (field, wire) = try reader.tag()
            switch (field, wire) {
            case (1, WireType.lengthDelimited.rawValue): span.traceID = reader.bytes(try reader.lengthDelimited())
            case (2, WireType.lengthDelimited.rawValue): span.spanID = reader.bytes(try reader.lengthDelimited())
            case (4, WireType.lengthDelimited.rawValue): span.parentSpanID = reader.bytes(try reader.lengthDelimited())
            case (5, WireType.lengthDelimited.rawValue): span.name = try reader.string(try reader.lengthDelimited())
            case (6, WireType.varint.rawValue): span.kind = Int(truncatingIfNeeded: try reader.varint())
            case (7, WireType.fixed64.rawValue): span.startTimeUnixNano = try reader.fixed64()
            case (8, WireType.fixed64.rawValue): span.endTimeUnixNano = try reader.fixed64()
            case (9, WireType.lengthDelimited.rawValue): span.attributes.append(try keyValue(buffer, try reader.lengthDelimited(), depth: 0))
            case (15, WireType.lengthDelimited.rawValue):
                var status = ProtoReader(buffer, range: try reader.lengthDelimited())
                while !status.isAtEnd {
                    let (f, w) = try status.tag()
                    switch (f, w) {
                    case (2, WireType.lengthDelimited.rawValue): span.statusMessage = try status.string(try status.lengthDelimited())
                    case (3, WireType.varint.rawValue): span.statusCode = Int(truncatingIfNeeded: try status.varint())
                    default: try status.skip(wireType: w)
                    }
                }
            default: try reader.skip(wireType: wire)
            }
        }
        return span
    }
}
