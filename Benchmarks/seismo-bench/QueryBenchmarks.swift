import Foundation
import SeismoQuery
import SeismoServer
import SeismoStore
import SeismoTesting

/// Dashboard query latency, Seismo's engine against the real Prometheus 2.42 on the same data.
///
/// Both answer a range query over the last hour at a 30 s step; Prometheus through its
/// HTTP API (loopback), Seismo in-process over an in-memory `Querier` plus the same JSON
/// encoding the HTTP API sends. Each figure is the median of several runs after a warm-up.
enum QueryBenchmarks {
    static let queries = [
        "sum by (job) (rate(http_requests_total[5m]))",
        "histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))",
        "topk(5, rate(http_requests_total[5m]))",
        "avg_over_time(cpu_usage[10m])",
    ]

    static func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let instances = Int(env["SEISMO_BENCH_QUERY_INSTANCES"] ?? "") ?? 40
        let hours = Int(env["SEISMO_BENCH_QUERY_HOURS"] ?? "") ?? 6
        let count = hours * 240
        let start: Int64 = 1_699_999_200_000
        let generated = DashboardData.generate(instances: instances, count: count, start: start)
        let samples = generated.reduce(0) { $0 + $1.timestamps.count }
        print(
            "SeismoQuery dashboard queries (\(generated.count) series × \(hours) h at 15 s = \(WireBenchmarks.formatted(Double(samples))) samples; range query over the last 1 h, step 30 s)"
        )
        guard let prometheus = try await PrometheusServer.start(with: generated) else {
            print("  skipped: prometheus/promtool not installed (Debian package prometheus)")
            return
        }
        let engine = Engine(
            querier: InMemoryQuerier(
                generated.map { StoredSeries(labels: $0.labels, timestamps: $0.timestamps, values: $0.values) }))
        let end = start + Int64(count - 1) * 15_000
        let from = end - 3_600_000
        var ratios: [Double] = []
        for query in queries {
            let form = ["query": query, "start": String(from / 1000), "end": String(end / 1000), "step": "30"]
            let theirs = try await median {
                _ = try await prometheus.post("/api/v1/query_range", form)
            }
            let ours = try await median {
                _ = PrometheusAPI.encode(try await engine.rangeQuery(query, start: from, end: end, step: 30_000))
            }
            let evaluation = try await median {
                _ = try await engine.rangeQuery(query, start: from, end: end, step: 30_000)
            }
            let ratio = theirs / ours
            ratios.append(ratio)
            print(
                "  \(query): seismo \(ms(ours)) (evaluation \(ms(evaluation))), prometheus \(ms(theirs)): \(String(format: "%.2f", ratio))x"
                    + "  (target >= 1.0x: \(ratio >= 1 ? "met" : "MISSED"))")
        }
        await prometheus.stop()
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

    /// Median wall time of seven runs after two warm-ups.
    static func median(_ body: () async throws -> Void) async throws -> Double {
        for _ in 0..<2 { try await body() }
        var times: [Double] = []
        for _ in 0..<7 {
            let started = ContinuousClock.now
            try await body()
            let elapsed = ContinuousClock.now - started
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return times.sorted()[times.count / 2]
    }
}
