import Foundation
import Hummingbird
import NIOCore
import SeismoTesting
import Synchronization

/// What a local HTTP server a test starts has received.
final class ReceivedRequests: Sendable {
    struct Request: Sendable {
        var path: String
        var body: [UInt8]
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
    }

    private let state = Mutex<(requests: [Request], failuresLeft: Int)>(([], 0))

    /// The next `count` requests are answered 503.
    init(failFirst count: Int = 0) { state.withLock { $0.failuresLeft = count } }

    /// Records a request; true when it should succeed.
    func record(_ request: Request) -> Bool {
        state.withLock { state in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                return false
            }
            state.requests.append(request)
            return true
        }
    }

    var requests: [Request] { state.withLock { $0.requests } }

    /// Waits (polling) until `count` requests have been accepted or `timeout` passes.
    func wait(for count: Int, timeout: Duration = .seconds(60)) async throws -> [Request] {
        let deadline = ContinuousClock.now + timeout
        while requests.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return requests
    }
}

/// Runs a Hummingbird server on a free loopback port that records every POST (failing the
/// first ones as `received` says) while `body` runs with the server's base URL.
func withRecordingServer<T: Sendable>(
    _ received: ReceivedRequests, _ body: @Sendable (String) async throws -> T
) async throws -> T {
    let router = Router()
    router.post("**") { request, _ -> Response in
        let bytes = try await request.body.collect(upTo: 1 << 22)
        let ok = received.record(.init(path: request.uri.path, body: Array(buffer: bytes)))
        return Response(status: ok ? .ok : .serviceUnavailable)
    }
    return try await withLoopbackServer(router, body)
}
