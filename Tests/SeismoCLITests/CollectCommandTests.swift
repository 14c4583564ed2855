import Foundation
import SeismoCore
import SeismoKafka
import SeismoTesting
import SeismoWire
import Testing

/// `seismo collect`: only the collectors, publishing to the brokers it is given.
@Suite("seismo collect", .serialized)
struct CollectCommandTests {
    @Test("runs the pipeline's host collector against --brokers, publishes node series, and stops on SIGTERM")
    func hostToBrokers() async throws {
        try await KafkaFixtures.withCluster(topics: ["signals.node": 2]) { cluster in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-collect-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("node.yaml")
            try """
                pipeline: node
                kafka:
                  topics:
                    signals.node: {partitions: 2, key_by: [instance]}
                collectors:
                  - name: host
                    type: host
                    topic: signals.node
                    interval: 1s
                    collectors: [load, memory]
                    labels: {instance: test-node}
                """.write(to: file, atomically: true, encoding: .utf8)
            let process = try BackgroundProcess(Binaries.seismo, ["collect", file.path, "--brokers", cluster.bootstrapServers])
            defer { if process.isRunning { process.signal(SIGKILL) } }
            #expect(try await process.waitForOutput("collector host"), "\(process.stderr)")

            let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
            try consumer.assign([TopicPartition("signals.node", 0): .beginning, TopicPartition("signals.node", 1): .beginning])
            var decoder = SignalDecoder()
            var names: Set<String> = []
            var decoded = 0
            let (_, satisfied) = try await KafkaFixtures.consume(consumer) { records in
                defer { decoded = records.count }
                for record in records[decoded...] {
                    for sample in (try? decoder.decode(record.value ?? []))?.samples ?? [] where sample.labels["instance"] == "test-node" {
                        names.insert(sample.labels.name ?? "")
                    }
                }
                return names.contains("node_load1") && names.contains("node_memory_MemTotal_bytes")
            }
            await consumer.close()
            #expect(satisfied, "saw \(names.sorted().prefix(10))")
            process.signal(SIGTERM)
            #expect(try await process.wait(timeout: .seconds(20)) == 0, "\(process.stderr)")
        }
    }

    @Test("a pipeline without collectors is a clear error")
    func noCollectors() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-nocollect-\(UUID().uuidString).yaml")
        try """
            pipeline: t
            kafka:
              topics:
                signals.t: {key_by: [service]}
            streams:
              - name: s
                topic: signals.t
                window: {size: 1m}
                by: [service]
                aggregations:
                  n: {fn: count}
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let out = try await ProcessRunner.run(Binaries.seismo, ["collect", file.path, "--brokers", "127.0.0.1:1"])
        #expect(out.status != 0)
        #expect((out.stderr + out.stdout).contains("declares no collectors"))
    }
}
