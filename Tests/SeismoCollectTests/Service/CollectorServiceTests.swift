import Foundation
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

@Suite("CollectorService", .serialized)
struct CollectorServiceTests {
    static let start = Timestamp(milliseconds: 1_795_392_000_000)

    struct Row: Hashable {
        var labels: Labels
        var timestamp: Int64
        var bits: UInt64
    }

    /// Reads every record of `topic` from the beginning until `count` samples arrived.
    static func consume(_ cluster: EmbeddedKafkaCluster, topic: String, partitions: Int32, samples count: Int)
        async throws -> [(record: ConsumerRecord, batch: SignalBatch)]
    {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
        var assignment: [TopicPartition: StartOffset] = [:]
        for partition in 0..<partitions { assignment[TopicPartition(topic, partition)] = .beginning }
        try consumer.assign(assignment)
        var decoder = SignalDecoder()
        var out: [(ConsumerRecord, SignalBatch)] = []
        var seen = 0
        let (records, _) = try await KafkaFixtures.consume(consumer) { records in
            records.reduce(0) { $0 + ((try? SignalCodec.decode($1.value ?? []))?.sampleCount ?? 0) } >= count
        }
        for record in records {
            let batch = try decoder.decode(record.value ?? [])
            seen += batch.sampleCount
            out.append((record, batch))
        }
        await consumer.close()
        return out
    }

    @Test("the synthetic collector publishes every sample exactly once; series of one service share a partition")
    func synthetic() async throws {
        try await KafkaFixtures.withCluster(topics: ["signals.synthetic": 6]) { cluster in
            let synthetic = SyntheticSpec(
                seed: 3, start: Self.start, step: .seconds(10), speed: 0, duration: .seconds(600),
                services: ["api", "db", "web"], instances: 3, restartEvery: .seconds(200),
                anomalies: [AnomalyInjection(kind: .missingData, at: .seconds(100), duration: .seconds(50))])
            let spec = CollectorSpec(name: "synth", topic: "signals.synthetic", kind: .synthetic(synthetic))
            let topic = TopicSpec(name: "signals.synthetic", partitions: 6, keyLabels: ["service"])
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let service = CollectorService.make(
                spec: spec, topic: topic, producer: producer, clock: ContinuousClock(),
                options: .init(maxSamplesPerRecord: 50, maxSamplesPerSend: 200, maxInFlight: 2))
            try await service.run()
            try await producer.shutdown()

            var source = try SyntheticSource(spec: synthetic)
            var expected: [Row: Int] = [:]
            while let batch = source.next() {
                for sample in batch.samples {
                    expected[Row(labels: sample.labels, timestamp: sample.timestamp.milliseconds, bits: sample.value.bitPattern), default: 0] += 1
                }
            }
            let total = expected.values.reduce(0, +)
            #expect(total == 60 * 45 - 5 * 3)  // 60 points × 45 series, minus missing latency points

            let stats = service.statistics
            #expect(stats.publishedSamples == total)
            #expect(stats.errors == 0 && stats.dropped == 0)
            #expect(stats.batches == 60)
            #expect(stats.lastEventTime == Self.start + .seconds(590))

            let consumed = try await Self.consume(cluster, topic: "signals.synthetic", partitions: 6, samples: total)
            #expect(consumed.count == stats.records)
            var seen: [Row: Int] = [:]
            var partitionsOf: [String: Set<Int32>] = [:]
            for (record, batch) in consumed {
                #expect(batch.source == "synth")
                #expect(record.header(WireHeaders.contentType) == WireHeaders.signalBatchV1)
                #expect(KafkaPartitioner.murmur2(key: record.key ?? [], partitionCount: 6) == record.partition)
                for sample in batch.samples {
                    seen[Row(labels: sample.labels, timestamp: sample.timestamp.milliseconds, bits: sample.value.bitPattern), default: 0] += 1
                    partitionsOf[sample.labels["service"] ?? "", default: []].insert(record.partition)
                }
            }
            #expect(seen == expected)
            #expect(partitionsOf.count == 3)
            #expect(partitionsOf.values.allSatisfy { $0.count == 1 })
        }
    }

    @Test("the file collector replays a file, counts its bad lines, and paces by speed")
    func fileReplay() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = "timestamp,value,name=temp,room=a\n"
        for i in 0..<20 { text += "\(1_795_392_000 + i),\(i),name=temp,room=\(i % 2 == 0 ? "a" : "b")\n" }
        text += "oops\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        try await KafkaFixtures.withCluster(topics: ["signals.file": 2]) { cluster in
            let spec = CollectorSpec(
                name: "replay", topic: "signals.file", kind: .file(FileReplaySpec(path: path, format: .csv, speed: 100)))
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let service = CollectorService.make(
                spec: spec, topic: TopicSpec(name: "signals.file", partitions: 2), producer: producer)
            let clock = ContinuousClock()
            let began = clock.now
            try await service.run()
            let elapsed = began.duration(to: clock.now)
            try await producer.shutdown()
            // 19 s of event time at 100× takes at least 0.19 s.
            #expect(elapsed >= .milliseconds(190))
            let stats = service.statistics
            #expect(stats.publishedSamples == 20 && stats.parseIssues == 1 && stats.dropped == 0)
            let consumed = try await Self.consume(cluster, topic: "signals.file", partitions: 2, samples: 20)
            #expect(consumed.reduce(0) { $0 + $1.batch.sampleCount } == 20)
        }
    }

    @Test("stop() ends an unbounded run after what is in flight is delivered")
    func stop() async throws {
        try await KafkaFixtures.withCluster(topics: ["signals.stop": 1]) { cluster in
            let synthetic = SyntheticSpec(seed: 1, start: Self.start, step: .seconds(1), speed: 50, services: ["a"], instances: 1)
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let service = CollectorService.make(
                spec: CollectorSpec(name: "s", topic: "signals.stop", kind: .synthetic(synthetic)),
                topic: TopicSpec(name: "signals.stop", partitions: 1), producer: producer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                // Let a few batches go out (however loaded the machine), then stop.
                let deadline = ContinuousClock.now + .seconds(60)
                while service.statistics.batches <= 3 && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                service.stop()
                try await group.waitForAll()
            }
            try await producer.shutdown()
            let stats = service.statistics
            #expect(stats.batches > 3)
            #expect(stats.publishedSamples == stats.batches * 5)
        }
    }
}
