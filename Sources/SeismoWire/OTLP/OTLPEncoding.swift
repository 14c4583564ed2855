/// Encodes OTLP trace export requests in protobuf: for tests, benchmarks and clients of
/// ours (the receiver only decodes). Field numbers as `OTLPProtobuf` reads them.
extension OTLPProtobuf {
    /// `ExportTraceServiceRequest` bytes for `groups`.
    public static func encodeTraces(_ groups: [OTLP.SpanGroup]) -> [UInt8] {
        var out = ProtoWriter()
        for group in groups {
            var resourceSpans = ProtoWriter()
            var resource = ProtoWriter()
            for kv in group.context.resource { resource.bytesField(1, keyValue(kv)) }
            resourceSpans.bytesField(1, resource.bytes)
            var scopeSpans = ProtoWriter()
            var scope = ProtoWriter()
            if !group.context.scopeName.isEmpty { scope.bytesField(1, Array(group.context.scopeName.utf8)) }
            if !group.context.scopeVersion.isEmpty { scope.bytesField(2, Array(group.context.scopeVersion.utf8)) }
            scopeSpans.bytesField(1, scope.bytes)
            for span in group.spans {
                var s = ProtoWriter(capacity: 128)
                s.bytesField(1, span.traceID)
                s.bytesField(2, span.spanID)
                if !span.parentSpanID.isEmpty { s.bytesField(4, span.parentSpanID) }
                s.bytesField(5, Array(span.name.utf8))
                if span.kind != 0 { s.varintField(6, UInt64(span.kind)) }
                s.fixed64Field(7, span.startTimeUnixNano)
                s.fixed64Field(8, span.endTimeUnixNano)
                for kv in span.attributes { s.bytesField(9, keyValue(kv)) }
                if span.statusCode != 0 || !span.statusMessage.isEmpty {
                    var status = ProtoWriter()
                    if !span.statusMessage.isEmpty { status.bytesField(2, Array(span.statusMessage.utf8)) }
                    if span.statusCode != 0 { status.varintField(3, UInt64(span.statusCode)) }
                    s.bytesField(15, status.bytes)
                }
                scopeSpans.bytesField(2, s.bytes)
            }
            resourceSpans.bytesField(2, scopeSpans.bytes)
            out.bytesField(1, resourceSpans.bytes)
        }
        return out.bytes
    }

    static func keyValue(_ kv: OTLP.KeyValue) -> [UInt8] {
        var out = ProtoWriter()
        out.bytesField(1, Array(kv.key.utf8))
        out.bytesField(2, anyValue(kv.value))
        return out.bytes
    }

    static func anyValue(_ value: OTLP.AnyValue) -> [UInt8] {
        var out = ProtoWriter()
        switch value {
        case .string(let s): out.bytesField(1, Array(s.utf8))
        case .bool(let b): out.varintField(2, b ? 1 : 0)
        case .int(let i): out.varintField(3, UInt64(bitPattern: i))
        case .double(let d): out.fixed64Field(4, d.bitPattern)
        case .array(let values):
            var array = ProtoWriter()
            for v in values { array.bytesField(1, anyValue(v)) }
            out.bytesField(5, array.bytes)
        case .keyValues(let pairs):
            var list = ProtoWriter()
            for kv in pairs { list.bytesField(1, keyValue(kv)) }
            out.bytesField(6, list.bytes)
        case .bytes(let b): out.bytesField(7, b)
        case .empty: break
        }
        return out.bytes
    }
}
