import SeismoCore

/// The bodies an OTLP/HTTP server answers with.
public enum OTLPResponses {
    /// `Export{Metrics,Logs,Trace}ServiceResponse`, with `partial_success` (field 1:
    /// rejected count 1, error_message 2) when `rejected > 0`.
    public static func export(_ signal: OTLP.Signal, rejected: Int, message: String?, json: Bool) -> [UInt8] {
        if json {
            guard rejected > 0 else { return Array("{}".utf8) }
            let key =
                switch signal {
                case .metrics: "rejectedDataPoints"
                case .logs: "rejectedLogRecords"
                case .traces: "rejectedSpans"
                }
            return Array("{\"partialSuccess\":{\"\(key)\":\"\(rejected)\",\"errorMessage\":\(JSONQuoting.quote(message ?? ""))}}".utf8)
        }
        guard rejected > 0 else { return [] }
        var partial = ProtoWriter()
        partial.varintField(1, UInt64(rejected))
        if let message { partial.bytesField(2, Array(message.utf8)) }
        var out = ProtoWriter()
        out.bytesField(1, partial.bytes)
        return out.bytes
    }

    /// `google.rpc.Status` (code 1, message 2) for a failed request, with the gRPC code of
    /// the HTTP status (400 → 3 INVALID_ARGUMENT, 413 → 8 RESOURCE_EXHAUSTED, 415 → 3,
    /// 503 → 14 UNAVAILABLE).
    public static func status(httpStatus: Int, message: String, json: Bool) -> [UInt8] {
        let code: Int =
            switch httpStatus {
            case 413, 429: 8
            case 503: 14
            case 500: 13
            default: 3
            }
        if json { return Array("{\"code\":\(code),\"message\":\(JSONQuoting.quote(message))}".utf8) }
        var out = ProtoWriter()
        out.varintField(1, UInt64(code))
        out.bytesField(2, Array(message.utf8))
        return out.bytes
    }
}
