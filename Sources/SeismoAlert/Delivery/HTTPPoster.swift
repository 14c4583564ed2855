import Foundation
import SeismoCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Posts JSON bodies over HTTP/1.1 (Foundation's URLSession, which ships with the
/// toolchain); a 2xx answer is success, anything else (or no answer within the timeout)
/// throws `AlertError(.delivery)`.
public struct HTTPPoster: Sendable {
    public init() {}

    public func post(_ url: String, body: [UInt8], timeout: Duration, headers: [(String, String)] = []) async throws(AlertError) {
        let status = try await Self.send("POST", url, body: body, timeout: timeout, headers: headers).status
        guard (200..<300).contains(status) else { throw AlertError(.delivery, "HTTP \(status)", context: url) }
    }

    /// One request; the status and the body of the answer.
    public static func send(
        _ method: String, _ url: String, body: [UInt8]? = nil, timeout: Duration, headers: [(String, String)] = []
    ) async throws(AlertError) -> (status: Int, body: [UInt8]) {
        guard let target = URL(string: url) else { throw AlertError(.invalidInput, "not a URL", context: url) }
        var request = URLRequest(url: target, timeoutInterval: max(0.001, Double(timeout.milliseconds) / 1000))
        request.httpMethod = method
        request.setValue("seismo-alert", forHTTPHeaderField: "User-Agent")
        if let body {
            request.httpBody = Data(body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
        } catch {
            throw AlertError(.delivery, "\(error)", context: url)
        }
    }
}
