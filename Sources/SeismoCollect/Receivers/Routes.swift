import SeismoCore
import SeismoWire
import Synchronization

/// `POST /api/v1/write`: Prometheus remote write 1.0. Answers 204 when everything was
/// published; 400 (not retried) for a body that is not Snappy + `WriteRequest`, or when
/// some series were invalid (the valid ones are published first); 413 for bodies over the
/// limits; 415 for another encoding or a remote write 2.0 request; 503 when Kafka cannot
/// take it now (Prometheus retries).
///
/// Series seen before are decoded from `seriesCache` (bounded; see `RemoteWriteSeriesCache`),
/// as Prometheus sends the same series in every request.
public struct RemoteWriteRoute: PushRoute {
    public let path = "/api/v1/write"
    /// The label sets of recently seen series; nil decodes every request from scratch.
    public let seriesCache: RemoteWriteSeriesCache?

    public init(seriesCache: RemoteWriteSeriesCache? = RemoteWriteSeriesCache()) {
        self.seriesCache = seriesCache
    }

    public func decode(_ request: PushRequest, limits: PushLimits) throws(PushFailure) -> DecodedPush {
        if let encoding = request.contentEncoding?.lowercased(), encoding != "snappy" {
            throw .unsupportedMedia("Content-Encoding must be snappy, not \(encoding)")
        }
        let type = request.contentType?.lowercased() ?? ""
        if type.contains("io.prometheus.write.v2") {
            throw .unsupportedMedia("remote write 2.0 is not supported; send prometheus.WriteRequest (1.0)")
        }
        if !type.isEmpty, request.mediaType != "application/x-protobuf" {
            throw .unsupportedMedia("Content-Type must be application/x-protobuf, not \(request.contentType ?? "")")
        }
        let bytes = try limits.unsnappy(request.body)
        let decoded: RemoteWrite.Request
        do { decoded = try RemoteWrite.decode(bytes, limits: limits.labels, cache: seriesCache) } catch {
            throw .badRequest("not a valid prometheus.WriteRequest: \(error)")
        }
        return DecodedPush(
            batch: SignalBatch(series: decoded.series), rejected: decoded.rejectedSamples, firstRejection: decoded.firstRejection)
    }

    public func success(published: Int, rejected: Int, message: String?, request: PushRequest) -> PushResponse {
        guard rejected > 0 else { return PushResponse(status: 204) }
        return PushResponse(status: 400, text: "\(rejected) sample(s) rejected (the rest were written): \(message ?? "invalid series")")
    }
}

/// `POST /v1/{metrics,logs,traces}`: OTLP/HTTP in protobuf (`application/x-protobuf`) or
/// JSON (`application/json`). Answers 200 with the export response (with
/// `partial_success` when some items were left out); 400 with a `google.rpc.Status` for an
/// undecodable body; 413, 415; 503 when Kafka cannot take it now (clients retry).
public final class OTLPRoute: PushRoute {
    public let signal: OTLP.Signal
    public var path: String { "/v1/\(signal.rawValue)" }
    private let translator: Mutex<OTLPTranslator>

    /// `translator` holds the running sums of delta metrics (see `OTLPTranslator`).
    public init(_ signal: OTLP.Signal, translator: OTLPTranslator = OTLPTranslator()) {
        self.signal = signal
        self.translator = Mutex(translator)
    }

    /// The delta series refused because the accumulation state was full.
    public var droppedDeltaSeries: Int { translator.withLock { $0.droppedDeltaSeries } }

    private func isJSON(_ request: PushRequest) -> Bool { request.mediaType == "application/json" }

    public func decode(_ request: PushRequest, limits: PushLimits) throws(PushFailure) -> DecodedPush {
        let body = try limits.identityOrGzip(request)
        let json: Bool
        switch request.mediaType {
        case "application/json": json = true
        case "application/x-protobuf", "application/protobuf": json = false
        default: throw .unsupportedMedia("Content-Type must be application/x-protobuf or application/json, not '\(request.contentType ?? "")'")
        }
        let now = Timestamp.now
        do throws(WireError) {
            let result: OTLPTranslator.Result
            switch signal {
            case .metrics:
                let groups = json ? try OTLPJSON.decodeMetrics(body) : try OTLPProtobuf.decodeMetrics(body)
                result = translator.withLock { $0.metrics(groups, now: now) }
            case .logs:
                let groups = json ? try OTLPJSON.decodeLogs(body) : try OTLPProtobuf.decodeLogs(body)
                result = translator.withLock { $0.logs(groups, now: now) }
            case .traces:
                let groups = json ? try OTLPJSON.decodeTraces(body) : try OTLPProtobuf.decodeTraces(body)
                result = translator.withLock { $0.spans(groups) }
            }
            var why = result.firstRejection
            if result.unsupported > 0, why == nil { why = "\(result.unsupported) exponential histogram metric(s) are not supported" }
            return DecodedPush(batch: result.batch, rejected: result.rejected + result.unsupported, firstRejection: why)
        } catch {
            throw .badRequest("not a valid OTLP \(signal.rawValue) export request: \(error)")
        }
    }

    public func success(published: Int, rejected: Int, message: String?, request: PushRequest) -> PushResponse {
        let json = isJSON(request)
        return PushResponse(
            status: 200, contentType: json ? "application/json" : "application/x-protobuf",
            body: OTLPResponses.export(signal, rejected: rejected, message: message, json: json))
    }

    public func failure(_ failure: PushFailure, request: PushRequest) -> PushResponse {
        let json = isJSON(request)
        return PushResponse(
            status: failure.status, contentType: json ? "application/json" : "application/x-protobuf",
            body: OTLPResponses.status(httpStatus: failure.status, message: failure.message, json: json))
    }
}

/// `POST /loki/api/v1/push`: Snappy protobuf (`application/x-protobuf`, Promtail's
/// default) or JSON (`application/json`). Answers 204; 400 for an undecodable body or
/// invalid stream labels (valid streams are published first); 413; 415; 503.
public struct LokiPushRoute: PushRoute {
    public let path = "/loki/api/v1/push"
    public init() {}

    public func decode(_ request: PushRequest, limits: PushLimits) throws(PushFailure) -> DecodedPush {
        let decoded: LokiPush.Request
        if request.mediaType == "application/json" {
            let body = try limits.identityOrGzip(request)
            do { decoded = try LokiPush.decodeJSON(body, limits: limits.labels) } catch {
                throw .badRequest("not a valid Loki push request: \(error)")
            }
        } else if request.mediaType.isEmpty || request.mediaType == "application/x-protobuf" {
            let bytes = try limits.unsnappy(request.body)
            do { decoded = try LokiPush.decodeProtobuf(bytes, limits: limits.labels) } catch {
                throw .badRequest("not a valid logproto.PushRequest: \(error)")
            }
        } else {
            throw .unsupportedMedia("Content-Type must be application/x-protobuf or application/json, not '\(request.contentType ?? "")'")
        }
        return DecodedPush(batch: SignalBatch(logs: decoded.logs), rejected: decoded.rejected, firstRejection: decoded.firstRejection)
    }

    public func success(published: Int, rejected: Int, message: String?, request: PushRequest) -> PushResponse {
        guard rejected > 0 else { return PushResponse(status: 204) }
        return PushResponse(status: 400, text: "\(rejected) entr(ies) rejected (the rest were written): \(message ?? "invalid stream")")
    }
}
