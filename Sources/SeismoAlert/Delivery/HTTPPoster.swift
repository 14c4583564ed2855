import AsyncHTTPClient
import NIOCore
import SeismoCore

/// Posts JSON bodies; a 2xx answer is success, anything else (or no answer within the
/// timeout) throws `AlertError(.delivery)`.
public struct HTTPPoster: Sendable {
    let client: HTTPClient

    public init(client: HTTPClient = .shared) { self.client = client }

    public func post(_ url: String, body: [UInt8], timeout: Duration, headers: [(String, String)] = []) async throws(AlertError) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "seismo-alert")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: UInt
        do {
            let response = try await client.execute(request, timeout: .milliseconds(max(1, timeout.milliseconds)))
            status = response.status.code
            _ = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw AlertError(.delivery, "\(error)", context: url)
        }
        guard (200..<300).contains(status) else { throw AlertError(.delivery, "HTTP \(status)", context: url) }
    }
}
