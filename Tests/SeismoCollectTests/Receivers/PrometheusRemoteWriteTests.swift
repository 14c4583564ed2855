import Foundation
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

/// The real Prometheus (Debian's `prometheus`) scrapes a static exposition served by
/// Python's http.server and remote-writes into Seismo's receiver over loopback.
@Suite("remote_write receiver with the real Prometheus", .serialized, .enabled(if: ProcessRunner.which("prometheus") != nil))
struct PrometheusRemoteWriteTests {
    static let exposition = """
        # HELP shop_orders_total Orders.
        # TYPE shop_orders_total counter
        shop_orders_total{region="eu",status="ok"} 1027
        shop_orders_total{region="us",status="failed"} 3
        # TYPE shop_queue_depth gauge
        shop_queue_depth{queue="pay\\"ments"} 12.5
        shop_queue_depth{queue="ünïcode"} -4e-3
        # TYPE shop_latency_seconds histogram
        shop_latency_seconds_bucket{le="0.1"} 5
        shop_latency_seconds_bucket{le="1"} 9
        shop_latency_seconds_bucket{le="+Inf"} 10
        shop_latency_seconds_sum 4.25
        shop_latency_seconds_count 10

        """

    @Test("what Prometheus scraped (read back through /federate) is what Seismo published")
    func prometheusInterop() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-rw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.exposition.write(to: dir.appendingPathComponent("metrics.txt"), atomically: true, encoding: .utf8)
        let topic = TopicSpec(name: "signals.rw", partitions: 4)

        try await KafkaFixtures.withCluster(topics: [topic.name: 4]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let spec = CollectorSpec(name: "prom", topic: topic.name, kind: .remoteWrite(RemoteWriteSpec(listen: ReceiverListen(port: 0))))
            var receiver: ReceiverService?
            try await ReceiverHarness.withReceiver({ onListening in
                let service = Collectors.service(spec: spec, topic: topic, producer: producer, onListening: onListening)
                receiver = service as? ReceiverService
                return service
            }) { port in
                let exporterPort = try Loopback.freePort()
                let exporter = try BackgroundProcess(
                    ProcessRunner.which("python3")!, ["-m", "http.server", "\(exporterPort)", "--bind", "127.0.0.1", "--directory", dir.path])
                defer { exporter.signal(SIGTERM) }
                let webPort = try Loopback.freePort()
                let config = """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: shop
                        metrics_path: /metrics.txt
                        static_configs:
                          - targets: ["127.0.0.1:\(exporterPort)"]
                    remote_write:
                      - url: http://127.0.0.1:\(port)/api/v1/write
                        queue_config:
                          batch_send_deadline: 500ms
                          min_backoff: 100ms
                    """
                try config.write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
                let prometheus = try BackgroundProcess(
                    ProcessRunner.which("prometheus")!,
                    [
                        "--config.file=\(dir.path)/prometheus.yml", "--storage.tsdb.path=\(dir.path)/data",
                        "--web.listen-address=127.0.0.1:\(webPort)",
                    ])
                defer { prometheus.signal(SIGTERM) }

                // Wait until Prometheus has scraped the target at least twice.
                var federated: [Sample] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    let out = try await ProcessRunner.run(
                        ProcessRunner.which("curl")!,
                        ["-sf", "-g", "http://127.0.0.1:\(webPort)/federate?match[]={job=\"shop\"}"], timeout: .seconds(10))
                    federated = ExpositionParser.parse(out.stdout, defaultTimestamp: Timestamp(milliseconds: 0)).samples
                    if federated.contains(where: { $0.labels.name == "shop_latency_seconds_count" }),
                        federated.contains(where: { $0.labels.name == "scrape_samples_scraped" })
                    {
                        break
                    }
                    try await Task.sleep(for: .milliseconds(500))
                }
                #expect(prometheus.isRunning, "prometheus: \(prometheus.stderr.suffix(2000))")
                let exposed = ExpositionParser.parse(Self.exposition, defaultTimestamp: Timestamp(milliseconds: 0)).samples
                // Every exposed sample, plus up and the scrape_* series, is federated.
                #expect(federated.count == exposed.count + 5, "\(federated.map(\.labels))")

                // Each federated sample (labels, timestamp, value) arrives on the topic as is.
                var seen: [Labels: [Int64: UInt64]] = [:]
                func missing() -> [Sample] {
                    federated.filter { seen[$0.labels]?[$0.timestamp.milliseconds] != $0.value.bitPattern }
                }
                let batches = try await TopicReader.batches(cluster.bootstrapServers, topic: topic.name, partitions: 4, timeout: .seconds(30)) {
                    seen = TopicReader.samples($0)
                    return missing().isEmpty
                }
                seen = TopicReader.samples(batches)
                #expect(missing().isEmpty, "not on the topic: \(missing())")
                for sample in exposed {
                    var labels = sample.labels
                    labels = try labels.setting("job", to: "shop").setting("instance", to: "127.0.0.1:\(exporterPort)")
                    #expect(seen[labels]?.values.contains(sample.value.bitPattern) == true, "\(labels)")
                }
                // Prometheus keeps writing: a request may be between received and published.
                let service = try #require(receiver).receiver
                let settle = ContinuousClock.now + .seconds(30)
                while service.statistics.published != service.statistics.received, ContinuousClock.now < settle {
                    try await Task.sleep(for: .milliseconds(50))
                }
                let stats = service.statistics
                #expect(stats.requests > 0 && stats.rejectedRequests == 0 && stats.dropped == 0)
                #expect(stats.published == stats.received)
            }
            try await producer.shutdown()
        }
    }
}
