import Foundation
import SeismoCore
import SeismoQuery
import SeismoStore
import SeismoTesting
import Testing


/// The comparison's data and queries (`DashboardData`: 3 jobs × 3 instances, 90 minutes at 15 s).
enum ComparisonData {
    static let start: Int64 = 1_699_999_200_000

    static let generated = DashboardData.generate(instances: 3, count: 360, start: start)

    static var series: [StoredSeries] {
        generated.map { StoredSeries(labels: $0.labels, timestamps: $0.timestamps, values: $0.values) }
    }

    static func at(_ minutes: Int) -> Int64 { start + Int64(minutes) * 60_000 }

    /// Dashboard and feature queries; `@T` is replaced by a fixed time inside the data.
    static let expressions: [String] = [
        "http_requests_total", #"http_requests_total{job="api"}"#, #"http_requests_total{code=~"5.."}"#,
        #"http_requests_total{job!="db", instance=~"0|1"}"#, "rate(http_requests_total[5m])",
        "irate(http_requests_total[5m])", "increase(http_requests_total[10m])",
        "sum by (job) (rate(http_requests_total[5m]))", "sum without (instance) (rate(http_requests_total[5m]))",
        "avg by (code) (rate(http_requests_total[2m]))", "max by (job) (cpu_usage)", "min by (instance) (cpu_usage)",
        "count by (job) (cpu_usage > 0.5)", "topk(3, cpu_usage)", "bottomk(2, rate(http_requests_total[5m]))",
        "topk by (job) (1, cpu_usage)", "quantile by (job) (0.9, cpu_usage)", "stddev by (job) (cpu_usage)",
        "stdvar(cpu_usage)", #"count_values("val", round(cpu_usage, 0.5))"#, "group by (job) (cpu_usage)",
        "histogram_quantile(0.99, sum by (le) (rate(latency_seconds_bucket[5m])))",
        "histogram_quantile(0.5, sum by (job, le) (rate(latency_seconds_bucket[5m])))",
        "histogram_quantile(0.9, latency_seconds_bucket)", "avg_over_time(cpu_usage[10m])",
        "max_over_time(cpu_usage[10m])", "min_over_time(cpu_usage[10m])", "sum_over_time(cpu_usage[5m])",
        "count_over_time(temperature[10m])", "stddev_over_time(cpu_usage[10m])", "stdvar_over_time(cpu_usage[10m])",
        "quantile_over_time(0.75, cpu_usage[10m])", "last_over_time(temperature[10m])",
        "present_over_time(temperature[3m])", "deriv(cpu_usage[10m])", "predict_linear(cpu_usage[10m], 3600)",
        "delta(cpu_usage[5m])", "idelta(cpu_usage[5m])", "resets(http_requests_total[30m])",
        "changes(temperature[30m])", "rate(http_requests_total[5m] offset 10m)", "cpu_usage offset 7m",
        "cpu_usage @ @T", "rate(http_requests_total[5m] @ @T)", "max_over_time(rate(http_requests_total[2m])[15m:1m])",
        "avg_over_time(cpu_usage[10m:30s])",
        "rate(http_requests_total[5m]) / on(job, instance) group_left sum by (job, instance) (rate(http_requests_total[5m]))",
        "http_requests_total * on(job, instance) group_left cpu_usage",
        "sum by (job, instance) (cpu_usage) * on(job, instance) group_right http_requests_total",
        "cpu_usage > bool 0.5", "cpu_usage > 0.5", "0.5 < cpu_usage", #"cpu_usage and on(instance) cpu_usage{job="api"}"#,
        #"cpu_usage{job="api"} or cpu_usage{instance="1"}"#, "cpu_usage unless cpu_usage > 0.7",
        "abs(delta(cpu_usage[5m]))", "ceil(cpu_usage * 10)", "floor(cpu_usage * 10)", "round(cpu_usage, 0.1)",
        "sqrt(cpu_usage)", "exp(cpu_usage)", "ln(cpu_usage)", "log2(cpu_usage)", "log10(cpu_usage)",
        "sgn(delta(cpu_usage[5m]))", "clamp(cpu_usage, 0.3, 0.6)", "clamp_min(cpu_usage, 0.5)",
        "clamp_max(cpu_usage, 0.5)", #"label_replace(cpu_usage, "host", "h-$1", "instance", "(.*)")"#,
        #"label_join(cpu_usage, "id", "/", "job", "instance")"#, "time()", "timestamp(temperature)", "vector(1)",
        "scalar(sum(cpu_usage))", #"absent(nonexistent{job="x"})"#, "absent(cpu_usage)",
        "absent_over_time(temperature[1m])", "sort(cpu_usage)", "sort_desc(rate(http_requests_total[5m]))",
        "day_of_week()", "hour()", "minute()", "month()", "year()", "day_of_month()", "day_of_year()",
        "days_in_month()", "hour(timestamp(cpu_usage))", "-cpu_usage", "2 ^ cpu_usage", "cpu_usage ^ 2",
        "cpu_usage % 0.3", "sum(rate(http_requests_total[5m])) * 60", "1 + 2 * 3 ^ 2",
        "count(http_requests_total) by (job)", "sum by (job) (increase(http_requests_total[1h]))",
        "temperature", "sum(temperature)", "avg(cpu_usage) - min(cpu_usage)",
    ]

    static let rangeExpressions: [String] = [
        "sum by (job) (rate(http_requests_total[5m]))", "topk(2, cpu_usage)", "temperature",
        "histogram_quantile(0.9, sum by (le) (rate(latency_seconds_bucket[5m])))", "avg_over_time(cpu_usage[10m])",
        "cpu_usage @ start()", "scalar(sum(cpu_usage))", "absent(temperature{room=\"hall\"})",
        "max_over_time(cpu_usage[5m:1m])", "cpu_usage > 0.6",
    ]

    /// Range queries that read rollups (a 5-minute or 1-hour step over a long window), with
    /// their start, end and step in minutes.
    static let rollupRangeQueries: [(query: String, start: Int, end: Int, step: Int)] = [
        ("avg_over_time(cpu_usage[1h])", 10, 90, 5), ("min_over_time(cpu_usage[1h])", 10, 90, 5),
        ("max_over_time(temperature[1h])", 10, 90, 5), ("sum_over_time(cpu_usage[1h])", 0, 90, 5),
        ("count_over_time(temperature[1h])", 5, 90, 5), ("last_over_time(temperature[1h])", 10, 90, 10),
        ("present_over_time(cpu_usage[1h] offset 10m)", 10, 90, 5),
        ("sum by (job) (avg_over_time(cpu_usage[2h]))", 0, 90, 15),
        ("max_over_time(http_requests_total[12h]) - min_over_time(http_requests_total[12h])", 60, 180, 60),
    ]
}

/// The same data in the real Prometheus 2.42 (Debian package) and in Seismo; the same
/// queries through both must agree (within float tolerance, same label sets, same order
/// where order is defined).
@Suite("Side by side with Prometheus", .serialized)
struct PrometheusComparisonTests {
    struct Result: Equatable {
        var type: String
        /// Series (or a scalar as `{}`) → points (time in ms, value).
        var series: [[String: String]: [(Int64, Double)]]
        var order: [[String: String]]

        static func == (a: Result, b: Result) -> Bool {
            guard a.type == b.type, a.series.count == b.series.count else { return false }
            for (labels, points) in a.series {
                guard let other = b.series[labels], other.count == points.count else { return false }
                for (p, q) in zip(points, other) where p.0 != q.0 || !close(p.1, q.1) { return false }
            }
            return true
        }

        static func close(_ a: Double, _ b: Double) -> Bool {
            if a.isNaN && b.isNaN { return true }
            if a == b { return true }
            return abs(a - b) / (abs(a) + abs(b)) < 1e-9
        }
    }

    static func decode(_ data: Data) throws -> Result {
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        guard json["status"] as? String == "success", let d = json["data"] as? [String: Any],
            let type = d["resultType"] as? String
        else {
            return Result(type: "error", series: [:], order: [])
        }
        func point(_ p: Any) -> (Int64, Double) {
            let a = p as? [Any] ?? []
            let t = (a.first as? NSNumber)?.doubleValue ?? 0
            let s = a.count > 1 ? (a[1] as? String ?? "") : ""
            let v: Double = s == "+Inf" ? .infinity : s == "-Inf" ? -.infinity : s == "NaN" ? .nan : Double(s) ?? .nan
            return (Int64((t * 1000).rounded()), v)
        }
        var out = Result(type: type, series: [:], order: [])
        switch type {
        case "scalar": out.series[[:]] = [point(d["result"] as Any)]
        default:
            for item in d["result"] as? [[String: Any]] ?? [] {
                let metric = item["metric"] as? [String: String] ?? [:]
                out.order.append(metric)
                if let value = item["value"] {
                    out.series[metric] = [point(value)]
                } else {
                    out.series[metric] = (item["values"] as? [Any] ?? []).map(point)
                }
            }
        }
        return out
    }

    static func seismo(_ value: QueryValue) throws -> Result {
        var out = Result(type: value.resultType, series: [:], order: [])
        func dict(_ l: Labels) -> [String: String] { Dictionary(uniqueKeysWithValues: l.map { ($0.name, $0.value) }) }
        switch value {
        case .scalar(let t, let v): out.series[[:]] = [(t, v)]
        case .string: break
        case .vector(let samples):
            for s in samples {
                out.order.append(dict(s.labels))
                out.series[dict(s.labels)] = [(s.timestamp, s.value)]
            }
        case .matrix(let series):
            for s in series {
                out.order.append(dict(s.labels))
                out.series[dict(s.labels)] = Array(zip(s.timestamps, s.values))
            }
        }
        return out
    }

    @Test("at least 150 queries agree with Prometheus 2.42")
    func sideBySide() async throws {
        guard let prometheus = try await PrometheusServer.start(with: ComparisonData.generated) else {
            Issue.record("prometheus and promtool are needed (Debian package prometheus)")
            return
        }
        do {
            try await compare(prometheus)
        } catch {
            await prometheus.stop()
            throw error
        }
        await prometheus.stop()
    }

    func compare(_ prometheus: PrometheusServer) async throws {
        let series = ComparisonData.series
        let engine = Engine(querier: InMemoryQuerier(series))
        var compared = 0
        var nonEmpty = 0
        var mismatches: [String] = []
        let fixed = String(ComparisonData.at(20) / 1000)
        for minutes in [30, 47, 89] {
            let t = ComparisonData.at(minutes)
            for template in ComparisonData.expressions {
                let query = template.replacingOccurrences(of: "@T", with: fixed)
                let theirs = try Self.decode(
                    try await prometheus.post("/api/v1/query", ["query": query, "time": String(Double(t) / 1000)]))
                let ours: Result
                do { ours = try Self.seismo(try await engine.instantQuery(query, at: t)) } catch {
                    ours = Result(type: "error", series: [:], order: [])
                }
                compared += 1
                if !theirs.series.isEmpty { nonEmpty += 1 }
                let ordered = query.hasPrefix("sort")
                if ours != theirs || (ordered && ours.order != theirs.order) {
                    mismatches.append("\(query) @\(minutes)m:\n  prometheus \(theirs.type) \(theirs.series)\n  seismo     \(ours.type) \(ours.series)")
                }
            }
        }
        for query in ComparisonData.rangeExpressions {
            let (start, end, step) = (ComparisonData.at(10), ComparisonData.at(85), Int64(60_000))
            let theirs = try Self.decode(
                try await prometheus.post(
                    "/api/v1/query_range",
                    ["query": query, "start": String(start / 1000), "end": String(end / 1000), "step": "60"]))
            let ours: Result
            do { ours = try Self.seismo(try await engine.rangeQuery(query, start: start, end: end, step: step)) } catch {
                ours = Result(type: "error", series: [:], order: [])
            }
            compared += 1
            if ours != theirs || ours.order != theirs.order {
                mismatches.append("range \(query): prometheus \(theirs.series.count) series, seismo \(ours.series.count)")
            }
        }
        for (query, from, to, stepMinutes) in ComparisonData.rollupRangeQueries {
            let (start, end, step) = (ComparisonData.at(from), ComparisonData.at(to), Int64(stepMinutes) * 60_000)
            let theirs = try Self.decode(
                try await prometheus.post(
                    "/api/v1/query_range",
                    ["query": query, "start": String(start / 1000), "end": String(end / 1000), "step": String(step / 1000)]))
            let ours: Result
            do { ours = try Self.seismo(try await engine.rangeQuery(query, start: start, end: end, step: step)) } catch {
                ours = Result(type: "error", series: [:], order: [])
            }
            compared += 1
            if theirs.series.isEmpty || ours != theirs || ours.order != theirs.order {
                mismatches.append("range (rollups) \(query):\n  prometheus \(theirs.series)\n  seismo     \(ours.series)")
            }
        }
        #expect(compared >= 150)
        #expect(nonEmpty >= compared * 9 / 10, "Prometheus answered \(nonEmpty) of \(compared) instant queries with data")
        print("side by side: \(compared) queries compared, \(nonEmpty) with data, \(mismatches.count) differ")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared) differ:\n\(mismatches.prefix(15).joined(separator: "\n"))")
    }
}
