#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import SeismoCore

/// Decodes OTLP export requests in JSON (`application/json`), following OTLP's JSON
/// mapping: lowerCamelCase field names, trace and span ids in hex, 64-bit integers as
/// strings (numbers accepted too), enums as integers (names accepted too), `bytesValue`
/// in base64. Unknown fields are ignored. Nesting deeper than `OTLPProtobuf.maxDepth`
/// (values) or the parser's own limit is rejected with `WireError(.invalidJSON)`.
public enum OTLPJSON {
    public static func decodeMetrics(_ bytes: [UInt8]) throws(WireError) -> [OTLP.MetricGroup] {
        try groups(bytes, resourceKey: "resourceMetrics", scopeKey: "scopeMetrics", itemsKey: "metrics", item: metric)
            .map { OTLP.MetricGroup(context: $0.0, metrics: $0.1) }
    }

    public static func decodeLogs(_ bytes: [UInt8]) throws(WireError) -> [OTLP.LogGroup] {
        try groups(bytes, resourceKey: "resourceLogs", scopeKey: "scopeLogs", itemsKey: "logRecords", item: log)
            .map { OTLP.LogGroup(context: $0.0, logs: $0.1) }
    }

    public static func decodeTraces(_ bytes: [UInt8]) throws(WireError) -> [OTLP.SpanGroup] {
        try groups(bytes, resourceKey: "resourceSpans", scopeKey: "scopeSpans", itemsKey: "spans", item: span)
            .map { OTLP.SpanGroup(context: $0.0, spans: $0.1) }
    }

    private typealias Object = [String: Any]

    private static func fail(_ message: String) -> WireError { WireError(.invalidJSON, message) }

    private static func groups<Item>(
        _ bytes: [UInt8], resourceKey: String, scopeKey: String, itemsKey: String,
        item: (Object) throws(WireError) -> Item
    ) throws(WireError) -> [(OTLP.Context, [Item])] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw fail("not valid JSON: \(error.localizedDescription)")
        }
        guard let top = root as? Object else { throw fail("the request is not a JSON object") }
        var out: [(OTLP.Context, [Item])] = []
        for resourceGroup in try objects(top[resourceKey], resourceKey) {
            var base = OTLP.Context()
            if let resource = resourceGroup["resource"] {
                guard let resource = resource as? Object else { throw fail("resource is not an object") }
                base.resource = try attributes(resource["attributes"])
            }
            for scopeGroup in try objects(resourceGroup[scopeKey], scopeKey) {
                var context = base
                if let scope = scopeGroup["scope"] {
                    guard let scope = scope as? Object else { throw fail("scope is not an object") }
                    context.scopeName = try string(scope["name"], "scope.name")
                    context.scopeVersion = try string(scope["version"], "scope.version")
                    context.scopeAttributes = try attributes(scope["attributes"])
                }
                var items: [Item] = []
                for raw in try objects(scopeGroup[itemsKey], itemsKey) { items.append(try item(raw)) }
                out.append((context, items))
            }
        }
        return out
    }

    // MARK: Primitives

    private static func objects(_ value: Any?, _ name: String) throws(WireError) -> [Object] {
        guard let value, !(value is NSNull) else { return [] }
        guard let array = value as? [Any] else { throw fail("\(name) is not an array") }
        var out: [Object] = []
        out.reserveCapacity(array.count)
        for element in array {
            guard let object = element as? Object else { throw fail("an element of \(name) is not an object") }
            out.append(object)
        }
        return out
    }

    private static func string(_ value: Any?, _ name: String) throws(WireError) -> String {
        guard let value, !(value is NSNull) else { return "" }
        guard let s = value as? String else { throw fail("\(name) is not a string") }
        return s
    }

    /// A 64-bit integer, as a string or a number.
    private static func int64(_ value: Any?, _ name: String) throws(WireError) -> Int64 {
        guard let value, !(value is NSNull) else { return 0 }
        if let s = value as? String {
            guard let i = Int64(s) ?? UInt64(s).map({ Int64(bitPattern: $0) }) else { throw fail("\(name) is not an integer: '\(s)'") }
            return i
        }
        guard !JSONValues.isBoolean(value), let n = value as? NSNumber else { throw fail("\(name) is not an integer") }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) <= 9.2e18 else { throw fail("\(name) is not an integer") }
        return n.int64Value
    }

    private static func uint64(_ value: Any?, _ name: String) throws(WireError) -> UInt64 {
        UInt64(bitPattern: try int64(value, name))
    }

    private static func double(_ value: Any?, _ name: String) throws(WireError) -> Double {
        guard let value, !(value is NSNull) else { return 0 }
        if let s = value as? String {
            switch s {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                guard let d = Double(s) else { throw fail("\(name) is not a number: '\(s)'") }
                return d
            }
        }
        guard !JSONValues.isBoolean(value), let n = value as? NSNumber else { throw fail("\(name) is not a number") }
        return n.doubleValue
    }

    private static func bool(_ value: Any?, _ name: String) throws(WireError) -> Bool {
        guard let value, !(value is NSNull) else { return false }
        guard JSONValues.isBoolean(value), let b = value as? Bool else { throw fail("\(name) is not a boolean") }
        return b
    }

    /// An enum as its integer or its name (`names[i]` is the name of value `i`).
    private static func enumValue(_ value: Any?, _ name: String, names: [String]) throws(WireError) -> Int {
        guard let value, !(value is NSNull) else { return 0 }
        if let s = value as? String {
            if let index = names.firstIndex(of: s) { return index }
            throw fail("\(name) has an unknown value '\(s)'")
        }
        return Int(truncatingIfNeeded: try int64(value, name))
    }

    private static func hexID(_ value: Any?, _ name: String, length: Int) throws(WireError) -> [UInt8] {
        let text = try string(value, name)
        if text.isEmpty { return [] }
        let digits = Array(text.utf8)
        guard digits.count == length * 2 else { throw fail("\(name) must be \(length * 2) hex digits, got \(digits.count)") }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else {
                throw fail("\(name) is not hex: '\(text)'")
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func attributes(_ value: Any?, depth: Int = 0) throws(WireError) -> [OTLP.KeyValue] {
        var out: [OTLP.KeyValue] = []
        for pair in try objects(value, "attributes") {
            out.append(OTLP.KeyValue(try string(pair["key"], "key"), try anyValue(pair["value"], depth: depth + 1)))
        }
        return out
    }

    private static func anyValue(_ value: Any?, depth: Int) throws(WireError) -> OTLP.AnyValue {
        guard depth <= OTLPProtobuf.maxDepth else { throw fail("value nested deeper than \(OTLPProtobuf.maxDepth)") }
        guard let value, !(value is NSNull) else { return .empty }
        guard let object = value as? Object else { throw fail("an AnyValue is not an object") }
        if let s = object["stringValue"] { return .string(try string(s, "stringValue")) }
        if let b = object["boolValue"] { return .bool(try bool(b, "boolValue")) }
        if let i = object["intValue"] { return .int(try int64(i, "intValue")) }
        if let d = object["doubleValue"] { return .double(try double(d, "doubleValue")) }
        if let b = object["bytesValue"] {
            guard let data = Data(base64Encoded: try string(b, "bytesValue")) else { throw fail("bytesValue is not base64") }
            return .bytes(Array(data))
        }
        if let a = object["arrayValue"] {
            guard let a = a as? Object else { throw fail("arrayValue is not an object") }
            guard let values = a["values"] else { return .array([]) }
            guard let list = values as? [Any] else { throw fail("arrayValue.values is not an array") }
            var out: [OTLP.AnyValue] = []
            for element in list { out.append(try anyValue(element, depth: depth + 1)) }
            return .array(out)
        }
        if let kv = object["kvlistValue"] {
            guard let kv = kv as? Object else { throw fail("kvlistValue is not an object") }
            return .keyValues(try attributes(kv["values"], depth: depth + 1))
        }
        return .empty
    }

    // MARK: Messages

    private static let temporalities = [
        "AGGREGATION_TEMPORALITY_UNSPECIFIED", "AGGREGATION_TEMPORALITY_DELTA", "AGGREGATION_TEMPORALITY_CUMULATIVE",
    ]

    private static func metric(_ object: Object) throws(WireError) -> OTLP.Metric {
        var metric = OTLP.Metric()
        metric.name = try string(object["name"], "name")
        metric.unit = try string(object["unit"], "unit")
        func points(_ data: Any?, _ name: String) throws(WireError) -> (Object, [Object]) {
            guard let data = data as? Object else { throw fail("\(name) is not an object") }
            return (data, try objects(data["dataPoints"], "dataPoints"))
        }
        if let gauge = object["gauge"] {
            var out: [OTLP.NumberPoint] = []
            for p in try points(gauge, "gauge").1 { out.append(try numberPoint(p)) }
            metric.data = .gauge(out)
        } else if let sum = object["sum"] {
            let (data, raw) = try points(sum, "sum")
            var out: [OTLP.NumberPoint] = []
            for p in raw { out.append(try numberPoint(p)) }
            let temporality = OTLP.Temporality(
                rawValue: try enumValue(data["aggregationTemporality"], "aggregationTemporality", names: temporalities)) ?? .unspecified
            metric.data = .sum(out, temporality: temporality, monotonic: try bool(data["isMonotonic"], "isMonotonic"))
        } else if let histogram = object["histogram"] {
            let (data, raw) = try points(histogram, "histogram")
            var out: [OTLP.HistogramPoint] = []
            for p in raw { out.append(try histogramPoint(p)) }
            let temporality = OTLP.Temporality(
                rawValue: try enumValue(data["aggregationTemporality"], "aggregationTemporality", names: temporalities)) ?? .unspecified
            metric.data = .histogram(out, temporality: temporality)
        } else if let summary = object["summary"] {
            var out: [OTLP.SummaryPoint] = []
            for p in try points(summary, "summary").1 { out.append(try summaryPoint(p)) }
            metric.data = .summary(out)
        } else if object["exponentialHistogram"] != nil {
            metric.data = .unsupported("exponential histogram")
        }
        return metric
    }

    private static func numberPoint(_ p: Object) throws(WireError) -> OTLP.NumberPoint {
        var point = OTLP.NumberPoint()
        point.attributes = try attributes(p["attributes"])
        point.startTimeUnixNano = try uint64(p["startTimeUnixNano"], "startTimeUnixNano")
        point.timeUnixNano = try uint64(p["timeUnixNano"], "timeUnixNano")
        if let d = p["asDouble"] { point.value = try double(d, "asDouble") } else if let i = p["asInt"] {
            point.value = Double(try int64(i, "asInt"))
        }
        point.noRecordedValue = try int64(p["flags"], "flags") & 1 != 0
        return point
    }

    private static func histogramPoint(_ p: Object) throws(WireError) -> OTLP.HistogramPoint {
        var point = OTLP.HistogramPoint()
        point.attributes = try attributes(p["attributes"])
        point.startTimeUnixNano = try uint64(p["startTimeUnixNano"], "startTimeUnixNano")
        point.timeUnixNano = try uint64(p["timeUnixNano"], "timeUnixNano")
        point.count = try uint64(p["count"], "count")
        if let s = p["sum"] { point.sum = try double(s, "sum") }
        if let counts = p["bucketCounts"] {
            guard let counts = counts as? [Any] else { throw fail("bucketCounts is not an array") }
            for c in counts { point.bucketCounts.append(try uint64(c, "bucketCounts")) }
        }
        if let bounds = p["explicitBounds"] {
            guard let bounds = bounds as? [Any] else { throw fail("explicitBounds is not an array") }
            for b in bounds { point.explicitBounds.append(try double(b, "explicitBounds")) }
        }
        point.noRecordedValue = try int64(p["flags"], "flags") & 1 != 0
        return point
    }

    private static func summaryPoint(_ p: Object) throws(WireError) -> OTLP.SummaryPoint {
        var point = OTLP.SummaryPoint()
        point.attributes = try attributes(p["attributes"])
        point.timeUnixNano = try uint64(p["timeUnixNano"], "timeUnixNano")
        point.count = try uint64(p["count"], "count")
        point.sum = try double(p["sum"], "sum")
        for q in try objects(p["quantileValues"], "quantileValues") {
            point.quantiles.append(OTLP.Quantile(quantile: try double(q["quantile"], "quantile"), value: try double(q["value"], "value")))
        }
        point.noRecordedValue = try int64(p["flags"], "flags") & 1 != 0
        return point
    }

    private static let severities: [String] = {
        var names = ["SEVERITY_NUMBER_UNSPECIFIED"]
        for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] {
            for suffix in ["", "2", "3", "4"] { names.append("SEVERITY_NUMBER_\(level)\(suffix)") }
        }
        return names
    }()

    private static func log(_ object: Object) throws(WireError) -> OTLP.Log {
        var log = OTLP.Log()
        log.timeUnixNano = try uint64(object["timeUnixNano"], "timeUnixNano")
        log.observedTimeUnixNano = try uint64(object["observedTimeUnixNano"], "observedTimeUnixNano")
        log.severityNumber = try enumValue(object["severityNumber"], "severityNumber", names: severities)
        log.severityText = try string(object["severityText"], "severityText")
        log.body = try anyValue(object["body"], depth: 1)
        log.attributes = try attributes(object["attributes"])
        log.traceID = try hexID(object["traceId"], "traceId", length: 16)
        log.spanID = try hexID(object["spanId"], "spanId", length: 8)
        return log
    }

    private static let spanKinds = [
        "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER",
        "SPAN_KIND_CONSUMER",
    ]
    private static let statusCodes = ["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"]

    private static func span(_ object: Object) throws(WireError) -> OTLP.SpanData {
        var span = OTLP.SpanData()
        span.traceID = try hexID(object["traceId"], "traceId", length: 16)
        span.spanID = try hexID(object["spanId"], "spanId", length: 8)
        span.parentSpanID = try hexID(object["parentSpanId"], "parentSpanId", length: 8)
        span.name = try string(object["name"], "name")
        span.kind = try enumValue(object["kind"], "kind", names: spanKinds)
        span.startTimeUnixNano = try uint64(object["startTimeUnixNano"], "startTimeUnixNano")
        span.endTimeUnixNano = try uint64(object["endTimeUnixNano"], "endTimeUnixNano")
        span.attributes = try attributes(object["attributes"])
        if let status = object["status"] {
            guard let status = status as? Object else { throw fail("status is not an object") }
            span.statusCode = try enumValue(status["code"], "status.code", names: statusCodes)
            span.statusMessage = try string(status["message"], "status.message")
        }
        return span
    }
}

/// Helpers for values from `JSONSerialization`, which gives numbers and booleans as `NSNumber`.
public enum JSONValues {
    /// True when `value` is a JSON `true` or `false` (not the numbers 1 and 0).
    public static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        return String(describing: type(of: value)).hasSuffix("Boolean")
    }
}
