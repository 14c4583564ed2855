import Foundation
import SeismoQuery
import SeismoServer
import SeismoStore
import SeismoTesting

/// Compressed storage against the real Prometheus (Debian's 2.42, `promtool tsdb
/// create-blocks-from openmetrics`) on the same node-exporter-like data in the same run:
/// ingest time and bytes per sample on disk, printed as Seismo/Prometheus ratios; then the
/// raw-append figure of the store alone.
///
/// Scale: `SEISMO_BENCH_STORAGE_HOSTS` hosts × 507 series (default 4, i.e. 2,028 series) ×
/// `SEISMO_BENCH_STORAGE_HOURS` hours at 15 s (default 24): about 11.7 M samples.
enum StorageBenchmarks {
    static func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let hosts = environment["SEISMO_BENCH_STORAGE_HOSTS"].flatMap(Int.init) ?? 4
        let hours = environment["SEISMO_BENCH_STORAGE_HOURS"].flatMap(Double.init) ?? 24
        let data = NodeExporterData(hosts: hosts, hours: hours)
        print(
            "\nStorage vs Prometheus 2.42 (node-exporter-like: \(data.labels.count) series x \(hours) h at 15 s = \(data.sampleCount) samples)"
        )
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-storage-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var options = SQLiteStore.Options()
        if let pageSize = environment["SEISMO_BENCH_STORAGE_PAGE_SIZE"].flatMap(Int.init) { options.pageSize = pageSize }
        let seismo = try await StoreBenchmark.ingest(data, path: directory.appendingPathComponent("store.sqlite").path, options: options)
        let samples = Double(data.sampleCount)
        let seismoRate = samples / seismo.seconds
        let seismoBytes = Double(seismo.fileBytes) / samples

        let prometheus = try promtool(data, directory: directory)
        var rows = [["", "Seismo", "Prometheus", "Seismo/Prometheus", "target"]]
        if let prometheus {
            let rate = samples / prometheus.seconds
            rows.append([
                "ingest samples/s", String(format: "%.0f", seismoRate), String(format: "%.0f", rate),
                String(format: "%.2f", seismoRate / rate), ">= 1.0 (Prometheus also parses the text)",
            ])
            rows.append([
                "bytes/sample on disk", String(format: "%.3f", seismoBytes),
                String(format: "%.3f", Double(prometheus.bytes) / samples),
                String(format: "%.2f", seismoBytes / (Double(prometheus.bytes) / samples)), "<= 1.0, and <= 1.5 bytes",
            ])
            rows.append([
                "  chunk payload alone", String(format: "%.3f", Double(seismo.chunkBytes) / samples),
                String(format: "%.3f", Double(prometheus.chunkBytes) / samples),
                String(format: "%.2f", Double(seismo.chunkBytes) / Double(prometheus.chunkBytes)), "",
            ])
        } else {
            rows.append(["ingest samples/s", String(format: "%.0f", seismoRate), "n/a (no promtool)", "", ""])
            rows.append(["bytes/sample on disk", String(format: "%.3f", seismoBytes), "n/a", "", "<= 1.5"])
        }
        printTable(rows)
        print(
            "  Seismo: \(seismo.chunks) chunks, final head flush \(String(format: "%.2f", seismo.flushSeconds)) s;"
                + " size after flush, checkpoint and VACUUM (label index included)")
        let tables = seismo.tables.prefix(6).map { "\($0.name) \(String(format: "%.3f", Double($0.bytes) / samples))" }
        print("  Seismo bytes/sample by table and index: \(tables.joined(separator: ", "))")
        if let prometheus {
            print("  Prometheus: \(prometheus.blocks) blocks of 2 h, as promtool writes them (index included, not compacted further)")
        }

        if prometheus != nil {
            try await longRangeQueries(data, store: directory.appendingPathComponent("store.sqlite").path, directory: directory)
        }

        print("\nSQLite store raw append (10,000 series x 100 samples, 10,000 per commit; end-to-end needs >= 1 M samples/s)")
        let store = try await StoreBenchmark.run(path: directory.appendingPathComponent("append.sqlite").path)
        print("  \(store)".replacingOccurrences(of: "\n", with: "\n  "))
    }

    struct PrometheusFigures {
        var seconds: Double
        var bytes: Int
        var chunkBytes: Int
        var blocks: Int
    }

    /// Writes the OpenMetrics file, times promtool, and sizes the blocks; nil without promtool.
    static func promtool(_ data: NodeExporterData, directory: URL) throws -> PrometheusFigures? {
        let binary = "/usr/bin/promtool"
        guard FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        let input = directory.appendingPathComponent("data.om").path
        let output = directory.appendingPathComponent("blocks")
        try data.writeOpenMetrics(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["tsdb", "create-blocks-from", "openmetrics", "--quiet", input, output.path]
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        let elapsed = ContinuousClock.now - start
        guard process.terminationStatus == 0 else {
            print("  promtool failed with status \(process.terminationStatus)")
            return nil
        }
        try? FileManager.default.removeItem(atPath: input)
        var bytes = 0
        var chunkBytes = 0
        var blocks = Set<String>()
        if let files = FileManager.default.enumerator(at: output, includingPropertiesForKeys: [.fileSizeKey]) {
            for case let url as URL in files {
                let size = (try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0
                bytes += size
                let parts = url.path.dropFirst(output.path.count).split(separator: "/")
                if parts.count > 1 { blocks.insert(String(parts[0])) }
                if parts.contains("chunks") { chunkBytes += size }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return PrometheusFigures(seconds: seconds, bytes: bytes, chunkBytes: chunkBytes, blocks: blocks.count)
    }

    /// Dashboard panels over the whole day at a 5-minute step (and one at 1 hour), Seismo
    /// (with its rollups, and without) against Prometheus on the blocks promtool wrote.
    static func longRangeQueries(_ data: NodeExporterData, store path: String, directory: URL) async throws {
        let end = data.start + Int64(data.scrapes) * data.interval
        let from = data.start + 3_600_000
        guard
            let prometheus = try await PrometheusServer.serve(
                tsdb: directory.appendingPathComponent("blocks").path, directory: directory.appendingPathComponent("prometheus"))
        else { return }
        do {
            try await compareLongRange(data, store: path, prometheus: prometheus, from: from, end: end)
        } catch {
            await prometheus.stop()
            throw error
        }
        await prometheus.stop()
    }

    static func compareLongRange(_ data: NodeExporterData, store path: String, prometheus: PrometheusServer, from: Int64, end: Int64)
        async throws
    {
        let store = try SQLiteStore(path: path)
        let rollups = Engine(querier: store)
        let raw = Engine(querier: store, options: EngineOptions(useRollups: false))
        print("\nLong-range dashboard queries over the stored day (range query from hour 1 to the end), median of 7")
        var rows = [["query", "step", "Seismo (rollups)", "Seismo (raw)", "Prometheus", "Prometheus/Seismo"]]
        let queries: [(String, Int64)] = [
            ("avg_over_time(node_load1[1h])", 300_000),
            ("max by (instance) (max_over_time(node_memory_MemFree_bytes[1h]))", 300_000),
            ("sum by (instance) (avg_over_time(node_scrape_collector_duration_seconds[1h]))", 300_000),
            ("max_over_time(node_network_receive_bytes_total[12h])", 3_600_000),
        ]
        for (query, step) in queries {
            let form = ["query": query, "start": String(from / 1000), "end": String(end / 1000), "step": String(step / 1000)]
            let theirs = try await QueryBenchmarks.median { _ = try await prometheus.post("/api/v1/query_range", form) }
            let ours = try await QueryBenchmarks.median {
                _ = PrometheusAPI.encode(try await rollups.rangeQuery(query, start: from, end: end, step: step))
            }
            let plain = try await QueryBenchmarks.median {
                _ = PrometheusAPI.encode(try await raw.rangeQuery(query, start: from, end: end, step: step))
            }
            rows.append([
                query, "\(step / 60_000)m", QueryBenchmarks.ms(ours), QueryBenchmarks.ms(plain), QueryBenchmarks.ms(theirs),
                String(format: "%.2fx", theirs / ours),
            ])
        }
        printTable(rows)
    }
}
