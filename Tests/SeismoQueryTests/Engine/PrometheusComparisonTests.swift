import Foundation
import SeismoCore
import SeismoQuery
import SeismoStore
import SeismoTesting
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Generated dashboard-like data: counters (with a reset), gauges, classic histogram
/// buckets and a gauge with a gap, every 15 s for 90 minutes from `start`.
enum ComparisonData {
    static let start: Int64 = 1_699_999_200_000
    static let step: Int64 = 15_000
    static let count = 360

    static func series() -> [StoredSeries] {
        var rng = SplitMix64(seed: 42)
        var out: [StoredSeries] = []
        let ts = (0..<count).map { start + Int64($0) * step }
        for job in ["api", "web", "db"] {
            for instance in ["0", "1", "2"] {
                for code in ["200", "500"] {
                    var v = Double(rng.next(below: 1000))
                    var values: [Double] = []
                    let reset = job == "web" && instance == "1" && code == "200"
                    for i in 0..<count {
                        v += Double(rng.next(below: 1000)) / 100 * (code == "200" ? 10 : 1)
                        if reset && i == 200 { v = 3 }
                        values.append(v)
                    }
                    out.append(
                        StoredSeries(
                            labels: ["__name__": "http_requests_total", "job": job, "instance": instance, "code": code],
                            timestamps: ts, values: values))
                }
                let phase = rng.nextUnit() * 6
                out.append(
                    StoredSeries(
                        labels: ["__name__": "cpu_usage", "job": job, "instance": instance], timestamps: ts,
                        values: (0..<count).map { i in
                            0.5 + 0.35 * sin(Double(i) / 40 + phase) + (rng.nextUnit() - 0.5) * 0.1
                        }))
            }
            let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
            var counts = [Double](repeating: 0, count: bounds.count)
            var bucketValues = [[Double]](repeating: [], count: bounds.count)
            for _ in 0..<count {
                var running = 0.0
                for b in bounds.indices {
                    running += Double(rng.next(below: 50))
                    counts[b] += running
                    bucketValues[b].append(counts[b])
                }
            }
            for (b, le) in bounds.enumerated() {
                out.append(
                    StoredSeries(
                        labels: ["__name__": "latency_seconds_bucket", "job": job, "le": le], timestamps: ts,
                        values: bucketValues[b]))
            }
        }
        for room in ["kitchen", "hall"] {
            var t: [Int64] = []
            var v: [Double] = []
            for i in 0..<count where !(room == "hall" && (150..<190).contains(i)) {
                t.append(ts[i])
                v.append(18 + Double(rng.next(below: 80)) / 10)
            }
            out.append(StoredSeries(labels: ["__name__": "temperature", "room": room], timestamps: t, values: v))
        }
        return out
    }

    /// The series in OpenMetrics text, for `promtool tsdb create-blocks-from openmetrics`.
    static func openMetrics(_ series: [StoredSeries]) -> String {
        var out = ""
        for s in series {
            let name = s.labels.name ?? ""
            let rest = s.labels.filter { $0.name != Labels.metricName }
                .map { "\($0.name)=\"\(Labels.escape($0.value))\"" }.joined(separator: ",")
            for (t, v) in zip(s.timestamps, s.values) {
                out += "\(name){\(rest)} \(v) \(t / 1000)\n"
            }
        }
        return out + "# EOF\n"
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

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Backfills `series` into a fresh data directory and starts Prometheus on it.
    static func startPrometheus(_ series: [StoredSeries]) async throws -> (BackgroundProcess, URL, String)? {
        guard let promtool = ProcessRunner.which("promtool"), let prometheus = ProcessRunner.which("prometheus") else {
            return nil
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("data.om")
        try ComparisonData.openMetrics(series).write(to: input, atomically: true, encoding: .utf8)
        let tsdb = dir.appendingPathComponent("tsdb").path
        let backfill = try await ProcessRunner.run(
            promtool, ["tsdb", "create-blocks-from", "openmetrics", input.path, tsdb], timeout: .seconds(300))
        guard backfill.status == 0 else { throw ScriptRunner.Failure(line: 0, message: "backfill: \(backfill.stderr)") }
        let config = dir.appendingPathComponent("prometheus.yml")
        try "scrape_configs: []\n".write(to: config, atomically: true, encoding: .utf8)
        let port = freePort()
        let process = BackgroundProcess(
            prometheus,
            [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(tsdb)", "--web.listen-address=127.0.0.1:\(port)",
                "--storage.tsdb.retention.time=100y", "--log.level=warn",
            ])
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<120 {
            if let url = URL(string: "\(base)/-/ready"), let (_, response) = try? await URLSession.shared.data(from: url),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return (process, dir, base)
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        process.signal(SIGTERM)
        throw ScriptRunner.Failure(line: 0, message: "prometheus did not become ready: \(process.stderr)")
    }

    static func prometheusQuery(_ base: String, _ path: String, _ params: [String: String]) async throws -> Result {
        var components = URLComponents(string: base + path)!
        components.queryItems = params.map { URLQueryItem(name: $0.key, value: $0.value) }
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B").data(using: .utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try decode(data)
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
        let series = ComparisonData.series()
        guard let (process, dir, base) = try await Self.startPrometheus(series) else {
            Issue.record("prometheus and promtool are needed (Debian package prometheus)")
            return
        }
        defer {
            process.signal(SIGTERM)
            try? FileManager.default.removeItem(at: dir)
        }
        let engine = Engine(querier: InMemoryQuerier(series))
        var compared = 0
        var mismatches: [String] = []
        let fixed = String(ComparisonData.at(20) / 1000)
        for minutes in [30, 47, 89] {
            let t = ComparisonData.at(minutes)
            for template in ComparisonData.expressions {
                let query = template.replacingOccurrences(of: "@T", with: fixed)
                let theirs = try await Self.prometheusQuery(base, "/api/v1/query", ["query": query, "time": String(Double(t) / 1000)])
                let ours: Result
                do { ours = try Self.seismo(try await engine.instantQuery(query, at: t)) } catch {
                    ours = Result(type: "error", series: [:], order: [])
                }
                compared += 1
                let ordered = query.hasPrefix("sort")
                if ours != theirs || (ordered && ours.order != theirs.order) {
                    mismatches.append("\(query) @\(minutes)m:\n  prometheus \(theirs.type) \(theirs.series)\n  seismo     \(ours.type) \(ours.series)")
                }
            }
        }
        for query in ComparisonData.rangeExpressions {
            let (start, end, step) = (ComparisonData.at(10), ComparisonData.at(85), Int64(60_000))
            let theirs = try await Self.prometheusQuery(
                base, "/api/v1/query_range",
                ["query": query, "start": String(start / 1000), "end": String(end / 1000), "step": "60"])
            let ours: Result
            do { ours = try Self.seismo(try await engine.rangeQuery(query, start: start, end: end, step: step)) } catch {
                ours = Result(type: "error", series: [:], order: [])
            }
            compared += 1
            if ours != theirs || ours.order != theirs.order {
                mismatches.append("range \(query): prometheus \(theirs.series.count) series, seismo \(ours.series.count)")
            }
        }
        #expect(compared >= 150)
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared) differ:\n\(mismatches.prefix(15).joined(separator: "\n"))")
    }
}
