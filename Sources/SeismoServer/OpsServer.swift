import Hummingbird
import Logging
import NIOCore
import Prometheus

/// Whether the process is ready to take traffic, asked on every `/readyz`.
public protocol ReadinessProbe: Sendable {
    /// Nil when ready, or why not.
    func notReadyReason() async -> String?
}

/// Seismo's own HTTP endpoint: `/healthz` (the process answers), `/readyz` (the
/// pipeline is running: store open, workers consuming), and `/metrics` (every swift-metrics
/// metric of the process, in Prometheus text format 0.0.4), and, when given, the Prometheus query API.
public struct OpsServer: Sendable {
    public let host: String
    public let port: Int
    private let registry: PrometheusCollectorRegistry
    private let readiness: any ReadinessProbe
    private let api: PrometheusAPI?
    private let logger: Logger
    private let alerts: (any AlertsAPI)?

    /// `port` 0 picks a free port; `onListening` gets the bound address. With `alerts`, the
    /// alerting API (`/api/v1/alerts`, `/api/v1/silences`) is served too.
    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, readiness: any ReadinessProbe,
        api: PrometheusAPI? = nil, logger: Logger = Logger(label: "seismo.http"),
        alerts: (any AlertsAPI)? = nil
    ) {
        self.alerts = alerts
        self.host = host
        self.port = port
        self.registry = registry
        self.readiness = readiness
        self.api = api
        self.logger = logger
    }

    /// The Hummingbird application: a `Service` to run in the process's service group.
    public func application(onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in })
        -> some ApplicationProtocol & Sendable
    {
        let router = Router()
        if let alerts { AlertRoutes.add(to: router, alerts) }
        let registry = registry
        let readiness = readiness
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            if let reason = await readiness.notReadyReason() {
                return Response(
                    status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "not ready: \(reason)\n")))
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        router.get("metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        api?.register(on: router)
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "seismo"),
            onServerRunning: { channel in
                let address = channel.localAddress
                await onListening(address?.ipAddress ?? "127.0.0.1", address?.port ?? 0)
            },
            logger: logger)
    }
}
