import Foundation
import SeismoCore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One generated series: labels and samples in time order.
public struct GeneratedSeries: Sendable {
    public var labels: Labels
    public var timestamps: [Int64]
    public var values: [Double]
}

/// Dashboard-like data: `http_requests_total` counters (one with a reset), `cpu_usage`
/// gauges, classic `latency_seconds_bucket` histograms and a `temperature` gauge with a gap,
/// one sample every `step` from `start`.
public enum DashboardData {
    public static func generate(instances: Int = 3, count: Int = 360, start: Int64 = 1_699_999_200_000, step: Int64 = 15_000)
        -> [GeneratedSeries]
    {
        var rng = SplitMix64(seed: 42)
        var out: [GeneratedSeries] = []
        let ts = (0..<count).map { start + Int64($0) * step }
        let bounds = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"]
        for job in ["api", "web", "db"] {
            for instance in (0..<instances).map(String.init) {
                for code in ["200", "500"] {
                    var v = Double(rng.next(below: 1000))
                    var values: [Double] = []
                    let reset = job == "web" && instance == "1" && code == "200"
                    for i in 0..<count {
                        v += Double(rng.next(below: 1000)) / 100 * (code == "200" ? 10 : 1)
                        if reset && i == count * 5 / 9 { v = 3 }
                        values.append(v)
                    }
                    out.append(
                        GeneratedSeries(
                            labels: ["__name__": "http_requests_total", "job": job, "instance": instance, "code": code],
                            timestamps: ts, values: values))
                }
                let phase = rng.nextUnit() * 6
                out.append(
                    GeneratedSeries(
                        labels: ["__name__": "cpu_usage", "job": job, "instance": instance], timestamps: ts,
                        values: (0..<count).map { i in
                            0.5 + 0.35 * sin(Double(i) / 40 + phase) + (rng.nextUnit() - 0.5) * 0.1
                        }))
                if instance == "0" || instances > 3 {
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
                            GeneratedSeries(
                                labels: ["__name__": "latency_seconds_bucket", "job": job, "instance": instance, "le": le],
                                timestamps: ts, values: bucketValues[b]))
                    }
                }
            }
        }
        for room in ["kitchen", "hall"] {
            var t: [Int64] = []
            var v: [Double] = []
            for i in 0..<count where !(room == "hall" && (count * 5 / 12..<count * 19 / 36).contains(i)) {
                t.append(ts[i])
                v.append(18 + Double(rng.next(below: 80)) / 10)
            }
            out.append(GeneratedSeries(labels: ["__name__": "temperature", "room": room], timestamps: t, values: v))
        }
        return out
    }

    /// The series in OpenMetrics text, for `promtool tsdb create-blocks-from openmetrics`.
    public static func openMetrics(_ series: [GeneratedSeries], to url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var buffer = ""
        for s in series {
            let name = s.labels.name ?? ""
            let rest = s.labels.filter { $0.name != Labels.metricName }
                .map { "\($0.name)=\"\(Labels.escape($0.value))\"" }.joined(separator: ",")
            for (t, v) in zip(s.timestamps, s.values) {
                buffer += "\(name){\(rest)} \(v) \(t / 1000)"
                if t % 1000 != 0 { buffer += String(format: ".%03d", Int(t % 1000)) }
                buffer += "\n"
            }
            if buffer.utf8.count > 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer = ""
            }
        }
        buffer += "# EOF\n"
        handle.write(Data(buffer.utf8))
    }
}

/// The real Prometheus (Debian package `prometheus`), on a data directory backfilled with
/// `promtool tsdb create-blocks-from openmetrics`, listening on a free loopback port.
public final class PrometheusServer: Sendable {
    public let baseURL: String
    private let process: BackgroundProcess
    private let directory: URL

    /// Nil when `prometheus` or `promtool` is not installed.
    public static func start(with series: [GeneratedSeries]) async throws -> PrometheusServer? {
        guard let promtool = ProcessRunner.which("promtool"), ProcessRunner.which("prometheus") != nil else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-prom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent("data.om")
        try DashboardData.openMetrics(series, to: input)
        let tsdb = dir.appendingPathComponent("tsdb").path
        let backfill = try await ProcessRunner.run(
            promtool, ["tsdb", "create-blocks-from", "openmetrics", input.path, tsdb], timeout: .seconds(900))
        try? FileManager.default.removeItem(at: input)
        guard backfill.status == 0 else { throw FixtureError("promtool backfill failed: \(backfill.stderr.suffix(500))") }
        return try await serve(tsdb: tsdb, directory: dir)
    }

    /// Serves the TSDB at `tsdb` (e.g. blocks `promtool` wrote); its configuration goes in
    /// `directory`, which `stop()` removes. Nil when `prometheus` is not installed.
    public static func serve(tsdb: String, directory dir: URL) async throws -> PrometheusServer? {
        guard let prometheus = ProcessRunner.which("prometheus") else { return nil }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = dir.appendingPathComponent("prometheus.yml")
        try "scrape_configs: []\n".write(to: config, atomically: true, encoding: .utf8)
        let port = freeLoopbackPort()
        let process = try BackgroundProcess(
            prometheus,
            [
                "--config.file=\(config.path)", "--storage.tsdb.path=\(tsdb)", "--web.listen-address=127.0.0.1:\(port)",
                "--storage.tsdb.retention.time=100y", "--log.level=warn",
            ])
        let server = PrometheusServer(baseURL: "http://127.0.0.1:\(port)", process: process, directory: dir)
        for _ in 0..<240 {
            if let url = URL(string: "\(server.baseURL)/-/ready"),
                let (_, response) = try? await URLSession.shared.data(from: url),
                (response as? HTTPURLResponse)?.statusCode == 200
            {
                return server
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        await server.stop()
        throw FixtureError("prometheus did not become ready: \(process.stderr.suffix(500))")
    }

    private init(baseURL: String, process: BackgroundProcess, directory: URL) {
        self.baseURL = baseURL
        self.process = process
        self.directory = directory
    }

    /// POSTs a form to `path` (e.g. `/api/v1/query`) and returns the response body.
    public func post(_ path: String, _ form: [String: String]) async throws -> Data {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        request.httpBody = Data(
            form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&").utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return data
    }

    /// Stops the server and removes its data directory.
    public func stop() async {
        process.signal(SIGTERM)
        _ = try? await process.wait(timeout: .seconds(20))
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A fixture that could not be set up.
public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
