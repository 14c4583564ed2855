import Foundation
import Logging
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

/// Debian's exporters (make deps installs them).
let nodeExporterPath = "/usr/bin/prometheus-node-exporter"
let blackboxExporterPath = "/usr/bin/prometheus-blackbox-exporter"

/// The scrape collector against Debian's real exporters, started on free loopback ports.
@Suite("Scrape interop with node-exporter and blackbox-exporter", .serialized)
struct ExporterInteropTests {
    static let nodeExporter = nodeExporterPath
    static let blackboxExporter = blackboxExporterPath

    /// Starts node-exporter on a free port; nil when the binary is missing.
    static func startNodeExporter() async throws -> (BackgroundProcess, Int) {
        let port = try Loopback.freePort()
        let process = try BackgroundProcess(
            nodeExporter, ["--web.listen-address=127.0.0.1:\(port)", "--log.level=warn"])
        #expect(try await Loopback.waitForListener(port: port), "node-exporter did not listen: \(process.stderr)")
        return (process, port)
    }

    static func curl(_ url: String) async throws -> String {
        let out = try await ProcessRunner.run("/usr/bin/curl", ["-sS", "--max-time", "20", url])
        #expect(out.status == 0, "curl failed: \(out.stderr)")
        return out.stdout
    }

    /// Runs `spec` as a collector until the topic holds a scrape with `up`, then stops it;
    /// returns the decoded samples of the topic.
    static func scrapeOnce(_ spec: ScrapeSpec, until done: @escaping ([Sample]) -> Bool) async throws -> (samples: [Sample], stats: CollectorStatistics) {
        try await KafkaFixtures.withCluster(topics: ["signals.scrape": 3]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let topic = TopicSpec(name: "signals.scrape", partitions: 3, keyLabels: ["instance"])
            let collector = CollectorSpec(name: "scrape", topic: topic.name, kind: .prometheusScrape(spec))
            let service = CollectorService.make(spec: collector, topic: topic, producer: producer)
            let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
            var assignment: [TopicPartition: StartOffset] = [:]
            for partition in Int32(0)..<3 { assignment[TopicPartition(topic.name, partition)] = .beginning }
            try consumer.assign(assignment)
            var samples: [Sample] = []
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                var decoder = SignalDecoder()
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline, !done(samples) {
                    if case .records(let records) = try await consumer.poll(timeout: .milliseconds(200)) {
                        for record in records { samples += try decoder.decode(record.value ?? []).samples }
                    }
                }
                service.stop()
                try await group.waitForAll()
            }
            await consumer.close()
            try await producer.shutdown()
            return (samples, service.statistics)
        }
    }

    static func withoutTargetLabels(_ labels: Labels) -> Labels { labels.removing(["job", "instance"]) }

    @Test(
        "every sample node-exporter exposes arrives on the topic with curl's labels (plus job and instance) and values",
        .enabled(if: FileManager.default.isExecutableFile(atPath: nodeExporterPath)))
    func nodeExporterSamples() async throws {
        let (exporter, port) = try await Self.startNodeExporter()
        defer { exporter.signal(SIGTERM) }
        let url = "http://127.0.0.1:\(port)/metrics"
        let before = try await Self.curl(url)

        let spec = ScrapeSpec(
            jobName: "node", interval: .seconds(3600), timeout: .seconds(20),
            staticConfigs: [TargetGroupSpec(targets: ["127.0.0.1:\(port)"])])
        let (topicSamples, stats) = try await Self.scrapeOnce(spec) { samples in
            samples.contains { $0.labels.name == "scrape_series_added" }
        }
        let after = try await Self.curl(url)

        let now = Timestamp.now
        let a = ExpositionParser.parse(before, defaultTimestamp: now)
        let b = ExpositionParser.parse(after, defaultTimestamp: now)
        #expect(a.issues.isEmpty && b.issues.isEmpty)
        // The parser kept every sample line curl showed.
        let sampleLines = before.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.count
        #expect(a.samples.count == sampleLines)

        let valuesA = Dictionary(a.samples.map { ($0.labels, $0.value.bitPattern) }) { x, _ in x }
        let valuesB = Dictionary(b.samples.map { ($0.labels, $0.value.bitPattern) }) { x, _ in x }
        let scraped = topicSamples.filter { !ScrapeLoopState.reportNames.contains($0.labels.name ?? "") }
        #expect(stats.dropped == 0)
        #expect(stats.receivedSamples == stats.publishedSamples)

        // Labels: curl's plus job and instance, nothing else.
        #expect(scraped.allSatisfy { $0.labels["job"] == "node" && $0.labels["instance"] == "127.0.0.1:\(port)" })
        let topicValues = Dictionary(scraped.map { (Self.withoutTargetLabels($0.labels), $0.value.bitPattern) }) { x, _ in x }
        #expect(topicValues.count == scraped.count, "a series arrived twice")

        // Series sets: what both curls show arrived; what arrived, one curl showed.
        let both = Set(valuesA.keys).intersection(valuesB.keys)
        let either = Set(valuesA.keys).union(valuesB.keys)
        let missing = both.subtracting(topicValues.keys)
        let unknown = Set(topicValues.keys).subtracting(either)
        #expect(missing.isEmpty, "not on the topic: \(missing.prefix(5))")
        #expect(unknown.isEmpty, "not shown by curl: \(unknown.prefix(5))")
        #expect(both.count > 200, "node-exporter exposed only \(both.count) series")

        // Values: a counter with the same value in both curls had that value in between (it
        // only goes up), so the topic holds it. Gauges may move and come back (Go's stack
        // sizes do), so they are not compared.
        let counters = Set(before.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            return fields.count == 4 && fields[0] == "#" && fields[1] == "TYPE" && fields[3] == "counter" ? String(fields[2]) : nil
        })
        var stable = 0
        for series in both where valuesA[series] == valuesB[series] && counters.contains(series.name ?? "") {
            stable += 1
            #expect(topicValues[series] == valuesA[series], "value of \(series): \(Double(bitPattern: topicValues[series] ?? 0)) vs \(Double(bitPattern: valuesA[series] ?? 0))")
        }
        #expect(stable > 50, "only \(stable) counters kept their value between the curls")

        let up = topicSamples.first { $0.labels.name == "up" }
        #expect(up?.value == 1)
        #expect(topicSamples.first { $0.labels.name == "scrape_samples_scraped" }?.value == Double(scraped.count))
    }

    @Test(
        "blackbox-exporter probes through the relabeled __param_target; probe_success arrives per target",
        .enabled(if: FileManager.default.isExecutableFile(atPath: blackboxExporterPath) && FileManager.default.isExecutableFile(atPath: nodeExporterPath)))
    func blackboxExporter() async throws {
        let (exporter, nodePort) = try await Self.startNodeExporter()
        defer { exporter.signal(SIGTERM) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-blackbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("blackbox.yml")
        try """
            modules:
              http_2xx:
                prober: http
                timeout: 5s
              tcp_connect:
                prober: tcp
                timeout: 5s
            """.write(to: config, atomically: true, encoding: .utf8)
        let port = try Loopback.freePort()
        let blackbox = try BackgroundProcess(
            Self.blackboxExporter, ["--config.file=\(config.path)", "--web.listen-address=127.0.0.1:\(port)"])
        defer { blackbox.signal(SIGTERM) }
        #expect(try await Loopback.waitForListener(port: port), "blackbox-exporter did not listen: \(blackbox.stderr)")

        let closed = try Loopback.freePort()
        let spec = ScrapeSpec(
            jobName: "blackbox", interval: .seconds(3600), timeout: .seconds(20), metricsPath: "/probe",
            params: ["module": ["http_2xx"]],
            staticConfigs: [
                TargetGroupSpec(targets: ["http://127.0.0.1:\(nodePort)/metrics", "http://127.0.0.1:\(closed)/"])
            ],
            relabelConfigs: [
                RelabelRule(sourceLabels: ["__address__"], targetLabel: "__param_target"),
                RelabelRule(sourceLabels: ["__param_target"], targetLabel: "instance"),
                RelabelRule(targetLabel: "__address__", replacement: "127.0.0.1:\(port)"),
            ])
        let (samples, _) = try await Self.scrapeOnce(spec) { samples in
            samples.filter { $0.labels.name == "up" }.count >= 2
        }
        func value(_ name: String, _ instance: String) -> Double? {
            samples.first { $0.labels.name == name && $0.labels["instance"] == instance }?.value
        }
        let good = "http://127.0.0.1:\(nodePort)/metrics"
        let bad = "http://127.0.0.1:\(closed)/"
        #expect(value("up", good) == 1)
        #expect(value("probe_success", good) == 1)
        #expect(value("probe_http_status_code", good) == 200)
        #expect(value("probe_success", bad) == 0)
        #expect(samples.allSatisfy { $0.labels["job"] == "blackbox" })
    }
}
