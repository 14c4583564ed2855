import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Serves a `PushReceiver`'s routes over HTTP/1.1 (Hummingbird) until graceful shutdown.
///
/// Bodies are collected up to the receiver's `maxBodyBytes`; a longer body is refused
/// with 413 before it is read further. Every request is answered after its signals are
/// acknowledged by Kafka (or refused), so a client's retry policy decides what is resent.
public struct ReceiverService: Service {
    public let receiver: PushReceiver
    public let host: String
    public let port: Int
    private let onListening: @Sendable (String, Int) async -> Void
    private let logger: Logger

    /// `port` 0 picks a free port; `onListening` gets the bound address.
    public init(
        receiver: PushReceiver, host: String, port: Int, logger: Logger = Logger(label: "seismo.receiver"),
        onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) {
        self.receiver = receiver
        self.host = host
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let router = Router()
        let receiver = receiver
        let limit = receiver.limits.maxBodyBytes
        for path in receiver.paths {
            router.post(RouterPath(path)) { request, _ -> Response in
                var request = request
                let contentType = request.headers[.contentType]
                let contentEncoding = request.headers[.contentEncoding]
                let body: ByteBuffer
                do {
                    body = try await request.collectBody(upTo: limit)
                } catch is NIOTooManyBytesError {
                    let answer = receiver.refuse(
                        .tooLarge("body is over the limit of \(limit) bytes"),
                        request: PushRequest(path: path, contentType: contentType, contentEncoding: contentEncoding, body: []))
                    return Self.response(answer)
                }
                let answer = await receiver.handle(
                    PushRequest(path: path, contentType: contentType, contentEncoding: contentEncoding, body: Array(body.readableBytesView)))
                return Self.response(answer)
            }
        }
        let onListening = onListening
        let name = receiver.name
        let logger = logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "seismo-\(name)"),
            onServerRunning: { channel in
                let address = channel.localAddress
                logger.info("receiver listening", metadata: ["receiver": "\(name)", "address": "\(address?.description ?? "?")"])
                await onListening(address?.ipAddress ?? "127.0.0.1", address?.port ?? 0)
            },
            logger: logger)
        try await app.run()
    }

    static func response(_ answer: PushResponse) -> Response {
        var headers = HTTPFields()
        if !answer.body.isEmpty { headers[.contentType] = answer.contentType }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: answer.body.isEmpty ? .init() : .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
