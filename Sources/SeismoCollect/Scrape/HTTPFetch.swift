import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SeismoCore

/// A bounded HTTP GET over async-http-client, shared by the scrape loop, Kubernetes
/// discovery and probes.
struct HTTPFetch: Sendable {
    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var contentType: String? { headers.first(name: "content-type") }
    }

    enum Failure: Error, CustomStringConvertible {
        case tooLarge(Int)
        case transport(String)
        case status(Int)

        var description: String {
            switch self {
            case .tooLarge(let limit): "body larger than the limit of \(limit) bytes"
            case .transport(let message): message
            case .status(let code): "server returned HTTP status \(code)"
            }
        }
    }

    let client: HTTPClient

    /// GETs `url`, reading at most `limit` bytes of body within `timeout`.
    func get(_ url: String, headers: [(String, String)] = [], timeout: Duration, limit: Int, method: HTTPMethod = .GET)
        async throws(Failure) -> Response
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(max(1, timeout.milliseconds)))
            let buffer: ByteBuffer
            do {
                buffer = try await response.body.collect(upTo: limit)
            } catch is NIOTooManyBytesError {
                throw Failure.tooLarge(limit)
            }
            return Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.transport(Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let client = error as? HTTPClientError {
            if client == .deadlineExceeded || client == .readTimeout || client == .connectTimeout { return "timeout" }
        }
        return "\(error)"
    }
}
