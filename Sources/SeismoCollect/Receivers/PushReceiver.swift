import Logging
import Metrics
import SeismoCore
import SeismoWire
import Synchronization

/// A pushed HTTP request, as a receiver sees it.
public struct PushRequest: Sendable {
    public var path: String
    public var contentType: String?
    public var contentEncoding: String?
    public var body: [UInt8]

    public init(path: String, contentType: String? = nil, contentEncoding: String? = nil, body: [UInt8]) {
        self.path = path
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.body = body
    }

    /// The media type without parameters, lowercased (`application/json`).
    public var mediaType: String {
        (contentType ?? "").split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
    }
}

/// The answer to a pushed request.
public struct PushResponse: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public init(status: Int, text: String) {
        self.init(status: status, body: Array((text.hasSuffix("\n") || text.isEmpty ? text : text + "\n").utf8))
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request was refused, with the HTTP status the protocol gives it.
public struct PushFailure: Error, Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> PushFailure { PushFailure(400, message) }
    public static func tooLarge(_ message: String) -> PushFailure { PushFailure(413, message) }
    public static func unsupportedMedia(_ message: String) -> PushFailure { PushFailure(415, message) }
    public static func unavailable(_ message: String) -> PushFailure { PushFailure(503, message) }
}

/// What a route made of a body: the signals to publish and the items it left out.
public struct DecodedPush: Sendable {
    public var batch: SignalBatch
    public var rejected: Int
    public var firstRejection: String?

    public init(batch: SignalBatch, rejected: Int = 0, firstRejection: String? = nil) {
        self.batch = batch
        self.rejected = rejected
        self.firstRejection = firstRejection
    }

    /// Samples, log records and spans.
    public var signalCount: Int { batch.sampleCount + batch.logs.count + batch.spans.count }
}

/// One endpoint of a push protocol: decodes a body, and words the answer as its clients expect.
public protocol PushRoute: Sendable {
    /// The request path (`/api/v1/write`).
    var path: String { get }
    /// Decodes `request`; throws the failure to answer (400, 413, 415).
    func decode(_ request: PushRequest, limits: PushLimits) throws(PushFailure) -> DecodedPush
    /// The success answer; `rejected` items were left out (with the first reason).
    func success(published: Int, rejected: Int, message: String?, request: PushRequest) -> PushResponse
    /// The answer to a failure.
    func failure(_ failure: PushFailure, request: PushRequest) -> PushResponse
}

extension PushRoute {
    public func failure(_ failure: PushFailure, request: PushRequest) -> PushResponse {
        PushResponse(status: failure.status, text: failure.message)
    }
}

/// Limits applied to every pushed body.
public struct PushLimits: Sendable, Hashable {
    public var maxBodyBytes: Int
    public var maxDecodedBytes: Int
    public var labels: LabelLimits

    public init(maxBodyBytes: Int = 16 << 20, maxDecodedBytes: Int = 64 << 20, labels: LabelLimits = .default) {
        self.maxBodyBytes = maxBodyBytes
        self.maxDecodedBytes = maxDecodedBytes
        self.labels = labels
    }

    /// The body of `request` as sent with `Content-Encoding` identity (or none) or gzip,
    /// inflated within `maxDecodedBytes` (413 beyond, 400 when damaged; 415 for other encodings).
    public func identityOrGzip(_ request: PushRequest) throws(PushFailure) -> [UInt8] {
        switch request.contentEncoding?.lowercased() ?? "" {
        case "", "identity": return request.body
        case "gzip", "x-gzip":
            do { return try Gzip.decompress(request.body, maxLength: maxDecodedBytes) } catch {
                switch error {
                case .tooLarge(let limit): throw .tooLarge("decompressed body is over the limit of \(limit) bytes")
                case .damaged(let reason): throw .badRequest("gzip: \(reason)")
                }
            }
        case let other: throw .unsupportedMedia("Content-Encoding \(other) is not supported; send gzip or identity")
        }
    }

    /// Snappy-decompresses `body` within `maxDecodedBytes` (413 beyond, 400 when damaged).
    public func unsnappy(_ body: [UInt8]) throws(PushFailure) -> [UInt8] {
        let declared: Int
        do { declared = try Snappy.uncompressedLength(body) } catch { throw .badRequest("snappy: \(error.message)") }
        guard declared <= maxDecodedBytes else {
            throw .tooLarge("decompressed body of \(declared) bytes is over the limit of \(maxDecodedBytes)")
        }
        do { return try Snappy.decompress(body, maxLength: maxDecodedBytes) } catch { throw .badRequest(error.message) }
    }
}

/// What a receiver has done so far.
public struct ReceiverStatistics: Sendable, Hashable {
    public var requests = 0
    /// Requests answered 4xx (bad input, too large, unsupported media type, unknown path).
    public var rejectedRequests = 0
    /// Requests answered 5xx (overloaded, Kafka failed): the client retries.
    public var failedRequests = 0
    /// Signals decoded from requests (samples, log records, spans), valid or not.
    public var received = 0
    /// Signals the broker acknowledged.
    public var published = 0
    /// Signals left out as invalid, or lost with a failed publish.
    public var dropped = 0
    public init() {}
}

/// Decodes pushed requests on its routes and publishes them; counts everything in
/// swift-metrics (`seismo_receiver_*{receiver, path}`) and in `statistics`.
///
/// Bounded: at most `maxConcurrentRequests` requests are decoded and published at once;
/// a request beyond that is answered 503 at once (the client retries).
public final class PushReceiver: Sendable {
    public let name: String
    public let limits: PushLimits
    public let maxConcurrentRequests: Int
    private let routes: [String: any PushRoute]
    private let publisher: SignalPublisher
    private let logger: Logger
    private let state = Mutex(ReceiverStatistics())
    private let active = Atomic<Int>(0)
    private let meters: [String: Meters]

    struct Meters: Sendable {
        let requests, rejected, failed, received, published, dropped: Counter
        let duration: Metrics.Timer

        init(receiver: String, path: String) {
            let dims = [("receiver", receiver), ("path", path)]
            requests = Counter(label: "seismo_receiver_requests_total", dimensions: dims)
            rejected = Counter(label: "seismo_receiver_rejected_requests_total", dimensions: dims)
            failed = Counter(label: "seismo_receiver_failed_requests_total", dimensions: dims)
            received = Counter(label: "seismo_receiver_received_total", dimensions: dims)
            published = Counter(label: "seismo_receiver_published_total", dimensions: dims)
            dropped = Counter(label: "seismo_receiver_dropped_total", dimensions: dims)
            duration = Metrics.Timer(label: "seismo_receiver_request_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        }
    }

    public init(
        name: String, routes: [any PushRoute], publisher: SignalPublisher, limits: PushLimits = PushLimits(),
        maxConcurrentRequests: Int = 64, logger: Logger = Logger(label: "seismo.receiver")
    ) {
        self.name = name
        self.limits = limits
        self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        self.publisher = publisher
        self.logger = logger
        var table: [String: any PushRoute] = [:]
        var meters: [String: Meters] = [:]
        for route in routes {
            table[route.path] = route
            meters[route.path] = Meters(receiver: name, path: route.path)
        }
        self.routes = table
        self.meters = meters
    }

    /// The paths served.
    public var paths: [String] { routes.keys.sorted() }

    public var statistics: ReceiverStatistics { state.withLock { $0 } }

    /// Counts a request refused before its body was read (too large).
    public func refuse(_ failure: PushFailure, request: PushRequest) -> PushResponse {
        guard let route = routes[request.path] else { return PushResponse(status: 404, text: "no receiver at \(request.path)") }
        count(route.path) { $0.requests += 1; $0.rejectedRequests += 1 }
        meters[route.path]?.requests.increment()
        meters[route.path]?.rejected.increment()
        return route.failure(failure, request: request)
    }

    /// Decodes, publishes and answers one request. Never throws; every failure is an answer.
    public func handle(_ request: PushRequest) async -> PushResponse {
        guard let route = routes[request.path], let meter = meters[request.path] else {
            return PushResponse(status: 404, text: "no receiver at \(request.path)")
        }
        let started = ContinuousClock.now
        defer { meter.duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds) }
        meter.requests.increment()
        count(route.path) { $0.requests += 1 }

        guard active.add(1, ordering: .acquiringAndReleasing).newValue <= maxConcurrentRequests else {
            active.subtract(1, ordering: .acquiringAndReleasing)
            meter.failed.increment()
            count(route.path) { $0.failedRequests += 1 }
            return route.failure(.unavailable("more than \(maxConcurrentRequests) requests in progress; retry later"), request: request)
        }
        defer { active.subtract(1, ordering: .acquiringAndReleasing) }

        guard request.body.count <= limits.maxBodyBytes else {
            meter.rejected.increment()
            count(route.path) { $0.rejectedRequests += 1 }
            return route.failure(.tooLarge("body of \(request.body.count) bytes is over the limit of \(limits.maxBodyBytes)"), request: request)
        }
        let decoded: DecodedPush
        do {
            decoded = try route.decode(request, limits: limits)
        } catch {
            meter.rejected.increment()
            count(route.path) { $0.rejectedRequests += 1 }
            logger.debug("rejected a request", metadata: ["path": "\(route.path)", "status": "\(error.status)", "reason": "\(error.message)"])
            return route.failure(error, request: request)
        }
        let total = decoded.signalCount + decoded.rejected
        meter.received.increment(by: Int64(total))
        if decoded.rejected > 0 { meter.dropped.increment(by: Int64(decoded.rejected)) }
        count(route.path) {
            $0.received += total
            $0.dropped += decoded.rejected
        }
        if decoded.signalCount == 0, decoded.rejected > 0 {
            meter.rejected.increment()
            count(route.path) { $0.rejectedRequests += 1 }
            return route.failure(
                .badRequest("every item was invalid (\(decoded.rejected)): \(decoded.firstRejection ?? "invalid")"), request: request)
        }
        do {
            let published = try await publisher.publish(decoded.batch)
            meter.published.increment(by: Int64(published))
            count(route.path) { $0.published += published }
        } catch {
            meter.failed.increment()
            meter.dropped.increment(by: Int64(decoded.signalCount))
            count(route.path) {
                $0.failedRequests += 1
                $0.dropped += decoded.signalCount
            }
            logger.warning("cannot publish a request", metadata: ["path": "\(route.path)", "reason": "\(error)"])
            return route.failure(.unavailable(error.description), request: request)
        }
        if decoded.rejected > 0 {
            logger.debug("left out invalid items", metadata: ["count": "\(decoded.rejected)", "first": "\(decoded.firstRejection ?? "")"])
        }
        return route.success(
            published: decoded.signalCount, rejected: decoded.rejected, message: decoded.firstRejection, request: request)
    }

    private func count(_ path: String, _ update: (inout ReceiverStatistics) -> Void) {
        state.withLock { update(&$0) }
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self[...]
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
