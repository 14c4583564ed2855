import SeismoKafka
import SeismoTesting
import Testing

@Suite("KafkaConsumer")
struct ConsumerTests {
    private func produce(_ cluster: EmbeddedKafkaCluster, topic: String, count: Int, from start: Int = 0) async throws {
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
        let records = (start..<(start + count)).map {
            ProducerRecord(topic: topic, key: Array("k\($0)".utf8), value: Array("\($0)".utf8))
        }
        let reports = try await producer.send(records)
        #expect(reports.allSatisfy { $0.isDelivered })
        try await producer.shutdown()
    }

    private func consumer(_ cluster: EmbeddedKafkaCluster, group: String) throws -> KafkaConsumer {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: cluster.bootstrapServers, groupID: group)
        configuration.sessionTimeout = .seconds(6)
        return try KafkaConsumer(configuration: configuration)
    }

    /// Commits; false when the group refused because it is rebalancing.
    private func commitUnlessRebalancing(_ consumer: KafkaConsumer, _ offsets: [TopicPartition: Int64]) async throws
        -> Bool
    {
        do {
            try await consumer.commit(offsets)
            return true
        } catch {
            if error.code == .rebalance { return false }
            throw error
        }
    }

    @Test("a group member reads every record, and committed offsets are what the group reports")
    func commitAndDescribe() async throws {
        try await KafkaFixtures.withCluster(topics: ["c": 3]) { cluster in
            try await produce(cluster, topic: "c", count: 90)
            let consumer = try consumer(cluster, group: "g")
            try consumer.subscribe(["c"])
            let (records, ok) = try await KafkaFixtures.consume(consumer) { $0.count >= 90 }
            #expect(ok)
            #expect(Set(records.map { String(decoding: $0.value!, as: UTF8.self) }).count == 90)
            var next: [TopicPartition: Int64] = [:]
            for record in records { next[record.topicPartition] = max(next[record.topicPartition] ?? 0, record.offset + 1) }
            try await consumer.commit(next)
            let admin = try KafkaAdmin(embedded: cluster)
            let committed = try await admin.committedOffsets(group: "g", topics: ["c"])
            #expect(committed.count == 3)
            for (tp, offset) in next { #expect(committed[tp] == offset) }
            #expect(try consumer.lag().allSatisfy { $0.lag == 0 })
            await consumer.close()
        }
    }

    @Test("seek moves an assigned partition back")
    func seek() async throws {
        try await KafkaFixtures.withCluster(topics: ["s": 1]) { cluster in
            try await produce(cluster, topic: "s", count: 10)
            let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
            try consumer.assign([TopicPartition("s", 0): .beginning])
            let (first, ok) = try await KafkaFixtures.consume(consumer) { $0.count >= 10 }
            #expect(ok)
            #expect(first.map(\.offset) == Array(0..<10))
            try consumer.seek(TopicPartition("s", 0), to: .offset(7))
            let (again, ok2) = try await KafkaFixtures.consume(consumer) { $0.count >= 3 }
            #expect(ok2)
            #expect(again.map(\.offset) == [7, 8, 9])
            await consumer.close()
        }
    }

    @Test("two members share six partitions; when one leaves the other takes all six, and nothing committed is delivered again")
    func groupRebalance() async throws {
        try await KafkaFixtures.withCluster(topics: ["g6": 6]) { cluster in
            try await produce(cluster, topic: "g6", count: 600)
            let a = try consumer(cluster, group: "shared")
            let b = try consumer(cluster, group: "shared")
            try a.subscribe(["g6"])
            try b.subscribe(["g6"])

            var owned: [String: Set<TopicPartition>] = ["a": [], "b": []]
            var committed: [TopicPartition: Int64] = [:]
            var deliveredAfterCommit: [(TopicPartition, Int64)] = []
            var processed: [String: [TopicPartition: Int64]] = ["a": [:], "b": [:]]
            var seen = Set<String>()

            // Drives one member for one poll, committing on revoke as a worker does.
            func step(_ name: String, _ consumer: KafkaConsumer) async throws {
                switch try await consumer.poll(timeout: .milliseconds(100)) {
                case .partitionsAssigned(let partitions):
                    owned[name]!.formUnion(partitions)
                case .partitionsRevoked(let partitions):
                    // A last commit before the partitions go. A group that is already
                    // rebalancing may refuse it; the new owner then re-reads from the
                    // previous commit, which is at-least-once and still never re-delivers
                    // a committed offset.
                    let mine = processed[name]!.filter { partitions.contains($0.key) }
                    if try await commitUnlessRebalancing(consumer, mine) {
                        for (tp, offset) in mine { committed[tp] = max(committed[tp] ?? 0, offset) }
                    }
                    owned[name]!.subtract(partitions)
                case .records(let records):
                    var next: [TopicPartition: Int64] = [:]
                    for record in records {
                        if let done = committed[record.topicPartition], record.offset < done {
                            deliveredAfterCommit.append((record.topicPartition, record.offset))
                        }
                        processed[name]![record.topicPartition] = record.offset + 1
                        next[record.topicPartition] = record.offset + 1
                        seen.insert(String(decoding: record.value!, as: UTF8.self))
                    }
                    // Commit after processing, as a worker does once its output is stored.
                    if try await commitUnlessRebalancing(consumer, next) {
                        for (tp, offset) in next { committed[tp] = max(committed[tp] ?? 0, offset) }
                    }
                }
            }

            let deadline = ContinuousClock.now + .seconds(60)
            while (owned["a"]!.count + owned["b"]!.count < 6 || owned["a"]!.isEmpty || owned["b"]!.isEmpty || seen.count < 600)
                && ContinuousClock.now < deadline
            {
                try await step("a", a)
                try await step("b", b)
            }
            #expect(owned["a"]!.count + owned["b"]!.count == 6)
            #expect(owned["a"]!.count == 3 && owned["b"]!.count == 3)
            #expect(seen.count == 600)

            // Member a commits what it processed and leaves.
            let aDone = processed["a"]!.filter { owned["a"]!.contains($0.key) }
            try await a.commit(aDone)
            for (tp, offset) in aDone { committed[tp] = offset }
            await a.close()
            try await produce(cluster, topic: "g6", count: 120, from: 600)

            while (owned["b"]!.count < 6 || seen.count < 720) && ContinuousClock.now < deadline + .seconds(30) {
                try await step("b", b)
            }
            #expect(owned["b"]!.count == 6)
            #expect(seen.count == 720)
            #expect(deliveredAfterCommit.isEmpty, "records at offsets already committed were delivered again")
            await b.close()
        }
    }
}
