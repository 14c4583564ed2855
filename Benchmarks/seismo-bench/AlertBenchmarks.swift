import Foundation
import Logging
import Prometheus
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoRuntime
import SeismoWire

/// End-to-end alert latency: from the produce time of the sample that makes a window
/// anomalous to the webhook receiver's arrival time of the firing alert, for 1,000 alerts
/// (1,000 groups, 1 s tumbling windows, a sample per group every 100 ms in wall time; ten
/// waves of 100 groups spike one sample each). Target: p99 ≤ window length + 2 s.
///
/// The detector scores the window average (`avg`) with a z a user would pick for this
/// data: with the window max and z 6, the max of ten uniform samples bunches near the top
/// of its range, the robust scale collapses, and about 2 % of normal windows alerted (some
/// 500 false alerts a run, whose arrivals were counted as the spikes'). A latency runs from
/// a spike's produce time to its group's first firing arrival at or after it; firing
/// arrivals of a group before its spike are reported as false alerts.
enum AlertBenchmarks {
    static let groups = 1_000
    static let waves = 10
    static let stepMs: Int64 = 100
    static let warmUpSteps = 100  // 10 s: ten windows of history before the first wave
    static let stepsBetweenWaves = 20
    static let windowSeconds = 1.0

    /// A threaded webhook receiver in python3's standard library: one line per alert with
    /// the group, the status and the arrival time (Unix ms).
    static let receiverScript = """
        import http.server, sys, json, time, threading
        out = open(sys.argv[1], 'a', buffering=1)
        lock = threading.Lock()
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
                now = int(time.time() * 1000)
                message = json.loads(body)
                with lock:
                    for a in message['alerts']:
                        out.write('%s\\t%s\\t%d\\n' % (a['labels'].get('job', ''), a['status'], now))
                self.send_response(200); self.send_header('Content-Length', '0'); self.end_headers()
            def log_message(self, *a): pass
        s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """

    static func run() async throws {
        print("\nAlert latency: produce of the anomalous sample → webhook arrival, \(groups) alerts, 1s windows")
        print("(target p99 <= window length + 2 s = \(String(format: "%.0f", windowSeconds + 2)) s)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-alert-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let hooks = directory.appendingPathComponent("hooks.tsv").path
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        receiver.arguments = ["python3", "-c", receiverScript, hooks]
        let portPipe = Pipe()
        receiver.standardOutput = portPipe
        try receiver.run()
        defer { receiver.terminate() }
        guard let portLine = String(data: portPipe.fileHandleForReading.availableData, encoding: .utf8)?
            .trimmingCharacters(in: .whitespacesAndNewlines), let port = Int(portLine)
        else { throw BenchError("webhook receiver did not start") }

        let broker = try await BrokerProcess.start(topics: ["signals.alertbench"])
        defer { broker.stop() }
        let yaml = """
            pipeline: alertbench
            kafka:
              topics:
                signals.alertbench: {partitions: 4, key_by: [job]}
            streams:
              - name: s
                topic: signals.alertbench
                window: {type: tumbling, size: 1s, idle_timeout: 2s}
                by: [job]
                aggregations:
                  level: {fn: avg}
            outputs:
              raw: {store: false}
            detectors:
              - {name: z, type: zscore, stream: s, features: [level], params: {history: 20, min_history: 8, z: 20}}
            alerts:
              rules:
                - {name: Spike, detector: z}
              route: {receiver: hook, group_by: [job], group_wait: 0s, group_interval: 1s}
              receivers:
                - {name: hook, webhook: {url: 'http://127.0.0.1:\(port)/hook'}, timeout: 5s}
            runtime: {workers: 2, listen: "127.0.0.1:0"}
            """
        let path = directory.appendingPathComponent("alertbench.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let pipeline = try PipelineLoader.load(path: path)
        let logger = {
            var logger = Logger(label: "bench")
            logger.logLevel = ProcessInfo.processInfo.environment["SEISMO_BENCH_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
            return logger
        }()
        let options = RunOptions(
            dataDirectory: directory.appendingPathComponent("data").path, brokers: [broker.bootstrapServers],
            withoutCollectors: true)
        let runtime = try await PipelineRuntime.prepare(pipeline, options: options, registry: PrometheusCollectorRegistry(), logger: logger)

        let spikes = try await withThrowingTaskGroup(of: [String: Int64]?.self) { group in
            group.addTask {
                try await runtime.run(logger: logger, signals: [])
                return nil
            }
            group.addTask { try await produce(to: broker.bootstrapServers) }
            var spikes: [String: Int64] = [:]
            while let result = try await group.next() {
                if let result {
                    spikes = result
                    break
                }
            }
            // Let the last wave's alerts arrive.
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, arrivals(hooks, after: spikes).count < spikes.count {
                try await Task.sleep(for: .milliseconds(100))
            }
            group.cancelAll()
            _ = try? await group.waitForAll()
            return spikes
        }
        let arrived = arrivals(hooks, after: spikes)
        let falseAlerts = firings(hooks).filter { job, at in spikes[job].map { at < $0 } ?? true }.count
        let latencies = spikes.compactMap { job, producedAt in arrived[job].map { Double($0 - producedAt) / 1000 } }.sorted()
        func quantile(_ q: Double) -> Double {
            latencies.isEmpty ? .nan : latencies[min(latencies.count - 1, Int(q * Double(latencies.count)))]
        }
        printTable([
            ["alerts", "arrived", "false alerts", "p50", "p99", "max", "target p99"],
            [
                "\(spikes.count)", "\(latencies.count)", "\(falseAlerts)", String(format: "%.2f s", quantile(0.5)), String(format: "%.2f s", quantile(0.99)),
                String(format: "%.2f s", latencies.last ?? .nan), String(format: "<= %.1f s", windowSeconds + 2),
            ],
        ])
    }

    /// Every firing arrival: (group, arrival time).
    static func firings(_ path: String) -> [(job: String, at: Int64)] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t")
            guard fields.count == 3, fields[1] == "firing", let at = Int64(fields[2]) else { return nil }
            return (String(fields[0]), at)
        }
    }

    /// Per spiked group, its first firing arrival at or after its spike's produce time.
    static func arrivals(_ path: String, after spikes: [String: Int64]) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (job, at) in firings(path) {
            guard let spike = spikes[job], at >= spike else { continue }
            out[job] = min(out[job] ?? .max, at)
        }
        return out
    }

    /// Publishes a sample per group every 100 ms of wall time (event time = wall time);
    /// returns each spiked group's produce time of its spike sample.
    static func produce(to brokers: String) async throws -> [String: Int64] {
        let labels = (0..<groups).map { i in try! Labels(validating: ["__name__": "bench_alert", "job": "job-\(i)"]) }
        let batcher = SignalBatcher(partitionCount: 4, maxSamplesPerRecord: 1000, source: "bench", keyLabels: ["job"])
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.linger = .milliseconds(1)
        let producer = try KafkaProducer(configuration: configuration)
        var random = SplitMix64(seed: 11)
        var spikes: [String: Int64] = [:]
        let totalSteps = warmUpSteps + waves * stepsBetweenWaves + 30
        let clock = ContinuousClock()
        var next = clock.now
        for step in 0..<totalSteps {
            let wave = step >= warmUpSteps && (step - warmUpSteps) % stepsBetweenWaves == 0 ? (step - warmUpSteps) / stepsBetweenWaves : nil
            let now = Timestamp.now
            var samples: [Sample] = []
            samples.reserveCapacity(groups)
            for i in 0..<groups {
                let spiking = wave.map { $0 < waves && i % waves == $0 } ?? false
                let value = spiking ? 1_000 : 100 + Double(random.next() % 100) / 10
                samples.append(Sample(labels: labels[i], timestamp: now, value: value))
            }
            let records = batcher.records(samples: samples).map {
                ProducerRecord(
                    topic: "signals.alertbench", partition: $0.partition, key: $0.key, value: $0.payload,
                    headers: [KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)])
            }
            let sentAt = Timestamp.now.milliseconds
            _ = try await producer.send(records)
            if let wave, wave < waves {
                for i in stride(from: wave, to: groups, by: waves) { spikes["job-\(i)"] = sentAt }
            }
            next = next.advanced(by: .milliseconds(stepMs))
            try await clock.sleep(until: next, tolerance: nil)
        }
        try await producer.shutdown()
        return spikes
    }
}
