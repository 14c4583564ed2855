import Foundation
import SeismoCore
import SeismoStore
import SeismoTesting
import SeismoWire
import Testing

/// A known signal history, published with kcat into a broker that `seismo broker` runs in its
/// own process, and the values a correct pipeline must store for it — computed here,
/// independently of SeismoStream.
///
/// Two services × two instances, a sample every 10 s for 30 minutes:
/// - `latency_seconds`, a gauge cycling through 0.10…0.14 s, with one 5 s spike on
///   `a-0` at minute 25;
/// - `requests_total`, a counter, with a reset on `b-1` at step 100.
struct PipelineFixture {
    static let t0: Int64 = 1_800_000_000_000  // a whole minute
    static let steps = 180
    static let stepMs: Int64 = 10_000
    static let services = ["a", "b"]
    static let spikeStep = 25 * 6 + 2

    let directory: URL
    let name: String

    init(name: String) throws {
        self.name = name
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    static func labels(_ metric: String, service: Int, instance: Int) -> Labels {
        try! Labels(validating: [
            "__name__": metric, "service": services[service], "instance": "\(services[service])-\(instance)", "job": "e2e",
        ])
    }

    static func latency(step k: Int, service s: Int, instance j: Int) -> Double {
        if s == 0 && j == 0 && k == spikeStep { return 5.0 }
        return 0.1 + 0.01 * Double((k + 3 * j + 5 * s) % 5)
    }

    static func requests(step k: Int, service s: Int, instance j: Int) -> Double {
        var total = 0.0
        for i in 0...k {
            if s == 1 && j == 1 && i == 100 { total = 0 }
            total += Double(10 + (i + j) % 3)
        }
        return total
    }

    /// The samples of step `k`.
    static func samples(step k: Int) -> [Sample] {
        let t = Timestamp(milliseconds: t0 + Int64(k) * stepMs)
        var out: [Sample] = []
        for s in services.indices {
            for j in 0..<2 {
                out.append(Sample(labels: labels("latency_seconds", service: s, instance: j), timestamp: t, value: latency(step: k, service: s, instance: j)))
                out.append(Sample(labels: labels("requests_total", service: s, instance: j), timestamp: t, value: requests(step: k, service: s, instance: j)))
            }
        }
        return out
    }

    /// The pipeline file, reading `signals.<name>` from brokers given on the command line.
    func pipelineYAML(consumerGroup: String) -> String {
        """
        pipeline: \(name)
        kafka:
          consumer_group: \(consumerGroup)
          topics:
            signals.\(name): {partitions: 2, key_by: [service]}
        streams:
          - name: lat
            topic: signals.\(name)
            selector: '{job="e2e"}'
            window: {type: tumbling, size: 1m}
            by: [service]
            aggregations:
              samples: {fn: count, selector: latency_seconds}
              latency_avg: {fn: avg, selector: latency_seconds}
              latency_max: {fn: max, selector: latency_seconds}
              requests: {fn: increase, selector: requests_total}
              request_rate: {fn: rate, selector: requests_total}
            features:
              ms_per_request: 1000 * latency_avg / request_rate
        outputs:
          feature_table: \(name)_features
        detectors:
          - name: latency_z
            type: zscore
            stream: lat
            features: [latency_avg]
            params: {history: 20, min_history: 5, z: 4}
        runtime: {workers: 2, listen: "127.0.0.1:0"}
        """
    }

    func writePipeline(consumerGroup: String) throws -> String {
        let path = directory.appendingPathComponent("\(name)-\(consumerGroup).yaml").path
        try pipelineYAML(consumerGroup: consumerGroup).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Publishes steps `range` with kcat, one record per step and partition, each file one
    /// message (`kcat -P -p N file…`), plus `poison` garbage records after the first step.
    func publish(steps range: Range<Int>, brokers: String, poison: Int = 0) async throws {
        let kcat = try #require(Binaries.kcat, "kcat is not installed (make deps installs it)")
        let batcher = SignalBatcher(partitionCount: 2, source: "kcat-fixture", keyLabels: ["service"])
        var files: [Int32: [String]] = [:]
        for k in range {
            for record in batcher.records(samples: Self.samples(step: k)) {
                let path = directory.appendingPathComponent("step-\(k)-p\(record.partition).bin").path
                try Data(record.payload).write(to: URL(fileURLWithPath: path))
                files[record.partition, default: []].append(path)
            }
            if k == range.lowerBound && poison > 0 {
                for i in 0..<poison {
                    let path = directory.appendingPathComponent("poison-\(k)-\(i).bin").path
                    try Data("this is not a signal batch \(i)".utf8).write(to: URL(fileURLWithPath: path))
                    files[0, default: []].append(path)
                }
            }
        }
        for (partition, paths) in files.sorted(by: { $0.key < $1.key }) {
            let out = try await ProcessRunner.run(
                kcat,
                ["-P", "-b", brokers, "-t", "signals.\(name)", "-p", "\(partition)", "-k", "fixture",
                 "-H", "\(WireHeaders.contentType)=\(WireHeaders.signalBatchV1)"] + paths,
                timeout: .seconds(60))
            #expect(out.status == 0, "kcat -P: \(out.stderr)")
        }
    }

    // MARK: What a correct pipeline stores

    /// Windows that close once every step is in: those ending at or before the last sample.
    static var closedWindows: Range<Int> { 0..<((steps - 1) * Int(stepMs) / 60_000) }

    struct ExpectedRow {
        var service: String
        var windowStart: Int64
        var values: [String: Double]
    }

    /// Each closed window × service, computed from the definitions in pipelines/README.md.
    static func expectedRows() -> [ExpectedRow] {
        var rows: [ExpectedRow] = []
        for w in closedWindows {
            let start = t0 + Int64(w) * 60_000
            for s in services.indices {
                var latencies: [Double] = []
                var increase = 0.0
                for k in (w * 6)..<(w * 6 + 6) {
                    for j in 0..<2 {
                        latencies.append(latency(step: k, service: s, instance: j))
                        guard k > 0 else { continue }
                        let previous = requests(step: k - 1, service: s, instance: j)
                        let current = requests(step: k, service: s, instance: j)
                        increase += current >= previous ? current - previous : current
                    }
                }
                let avg = latencies.reduce(0, +) / Double(latencies.count)
                rows.append(
                    ExpectedRow(
                        service: services[s], windowStart: start,
                        values: [
                            "samples": Double(latencies.count), "latency_avg": avg, "latency_max": latencies.max()!,
                            "requests": increase, "request_rate": increase / 60,
                            "ms_per_request": 1000 * avg / (increase / 60),
                        ]))
            }
        }
        return rows
    }

    // MARK: Processes

    /// `seismo broker` in its own process, so that killing a pipeline keeps the log.
    static func startBroker(in directory: URL, topics: [String]) async throws -> (BackgroundProcess, String) {
        let addressFile = directory.appendingPathComponent("broker.address").path
        let broker = try BackgroundProcess(
            Binaries.seismo, ["broker", "--brokers", "1", "--address-file", addressFile] + topics.flatMap { ["--topic", $0] })
        let deadline = ContinuousClock.now + .seconds(90)
        repeat {
            if let address = try? String(contentsOfFile: addressFile, encoding: .utf8), !address.isEmpty {
                return (broker, address)
            }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline || (try? String(contentsOfFile: addressFile, encoding: .utf8))?.isEmpty == false
        Issue.record("broker did not start: \(broker.stderr)")
        throw CancellationError()
    }

    func run(pipeline path: String, brokers: String, dataDir: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            Binaries.seismo,
            ["run", path, "--brokers", brokers, "--data-dir", dataDir, "--no-collectors", "--log-level", "info"])
    }

    /// Waits until the store at `path` holds `rows` rows of the feature table.
    func waitForRows(_ rows: Int, store path: String, timeout: Duration = .seconds(90), while process: BackgroundProcess?)
        async throws -> [WindowRow]
    {
        let deadline = ContinuousClock.now + timeout
        var last: [WindowRow] = []
        while ContinuousClock.now < deadline {
            if FileManager.default.fileExists(atPath: path), let store = try? SQLiteStore(path: path) {
                last = (try? await store.featureRows(table: "\(name)_features", from: 0, to: .max)) ?? []
                if last.count >= rows { return last }
            }
            if let process, !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }
}
