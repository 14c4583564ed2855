import Hummingbird
import NIOCore
import SeismoCore

/// Alerting as the HTTP API sees it: JSON in, JSON out (the documents are defined by
/// SeismoAlert; this module only routes them).
public protocol AlertsAPI: Sendable {
    /// `{"alerts": [...]}`: current alerts with their state and what mutes them.
    func alertsJSON() async -> [UInt8]
    /// `{"silences": [...]}`.
    func silencesJSON() async -> [UInt8]
    /// Creates a silence from `{"matchers": [...], "ends_at" | "duration_seconds", ...}`;
    /// the created silence, or a message saying what is wrong with the body.
    func createSilence(_ body: [UInt8]) async -> Result<[UInt8], AlertsAPIError>
    /// Expires silence `id`; false when there is no such unexpired silence.
    func expireSilence(id: String) async -> Bool
}

/// A request the alerts API refuses (HTTP 400).
public struct AlertsAPIError: Error, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// `GET /api/v1/alerts`, `GET /api/v1/silences`, `POST /api/v1/silences`,
/// `DELETE /api/v1/silences/{id}`.
enum AlertRoutes {
    static func add(to router: Router<BasicRequestContext>, _ api: any AlertsAPI) {
        router.get("api/v1/alerts") { _, _ in json(.ok, await api.alertsJSON()) }
        router.get("api/v1/silences") { _, _ in json(.ok, await api.silencesJSON()) }
        router.post("api/v1/silences") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            switch await api.createSilence(Array(buffer: body)) {
            case .success(let created): return json(.ok, created)
            case .failure(let error): return json(.badRequest, Array(#"{"error":\#(JSONQuoting.quote(error.message))}"#.utf8))
            }
        }
        router.delete("api/v1/silences/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            if await api.expireSilence(id: id) { return json(.ok, Array(#"{"expired":\#(JSONQuoting.quote(id))}"#.utf8)) }
            return json(.notFound, Array(#"{"error":\#(JSONQuoting.quote("no unexpired silence " + id))}"#.utf8))
        }
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
