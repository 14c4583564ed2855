import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import Testing

@testable import SeismoStream

/// The worker's bookkeeping between polls, without Kafka: decoding, dead letters, the raw
/// buffer, and which offsets it may commit.
@Suite("worker loop: records in, flushes and commits out")
struct WorkerLoopTests {
    static let topic = "signals.t"
    static let stream = StreamSpec(
        name: "s", topic: topic, window: .tumbling(.seconds(60)), grouping: .by(["job"]),
        aggregations: [AggregationSpec(name: "n", function: .count)])

    private func loop(storeRaw: Bool = true) -> WorkerLoop {
        var loop = WorkerLoop(
            configuration: WorkerConfiguration(
                pipeline: "p", topics: [TopicSpec(name: Self.topic, partitions: 1, keyLabels: ["job"])],
                streams: [Self.stream], storeRaw: storeRaw, deadLetterTopic: "deadletter.p"))
        loop.assign([TopicPartition(Self.topic, 0)])
        return loop
    }

    private func record(offset: Int64, at seconds: Int64, value: Double = 1) -> ConsumerRecord {
        let labels: Labels = ["__name__": "m", "job": "a"]
        let batch = SignalBatch(series: [SeriesSamples(labels: labels, timestamps: [seconds * 1000], values: [value])])
        return ConsumerRecord(
            topic: Self.topic, partition: 0, offset: offset, value: SignalCodec.encode(batch),
            headers: [KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)])
    }

    private let tp = TopicPartition(topic, 0)

    @Test func anOffsetIsCommittableOnlyOnceTheWindowsHoldingItsRecordsHaveClosed() {
        var loop = loop()
        loop.ingest([record(offset: 0, at: 0), record(offset: 1, at: 30)], now: 0, metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        #expect(loop.advance(now: 0).isEmpty)
        #expect(loop.committableOffsets(nil)[tp] == 0, "window [0, 60) is open and holds offset 0")

        loop.ingest([record(offset: 2, at: 61)], now: 0, metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        let closed = loop.advance(now: 0)
        #expect(closed.map(\.values) == [[2]])
        #expect(loop.committableOffsets(nil)[tp] == 2, "only the record in the open window [60, 120) is still needed")
    }

    @Test func undecodableRecordsBecomeDeadLettersWithTheReasonAndTheStreamGoesOn() {
        var loop = loop()
        let poison = ConsumerRecord(topic: Self.topic, partition: 0, offset: 1, key: [1], value: Array("garbage".utf8))
        let wrongType = ConsumerRecord(
            topic: Self.topic, partition: 0, offset: 2, value: [1, 2], headers: [KafkaHeader(WireHeaders.contentType, "text/plain")])
        loop.ingest(
            [record(offset: 0, at: 0), poison, wrongType, record(offset: 3, at: 61)], now: 0,
            metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        let letters = loop.takeDeadLetters()
        #expect(letters.map(\.topic) == ["deadletter.p", "deadletter.p"])
        #expect(letters[0].value == Array("garbage".utf8) && letters[0].key == [1])
        let reasons = letters.map { $0.headers.first { $0.key == DeadLetter.reasonHeader }.map { String(decoding: $0.value!, as: UTF8.self) } ?? "" }
        #expect(reasons[0].hasPrefix("undecodable signals"))
        #expect(reasons[1] == "unsupported content-type text/plain")
        #expect(letters[0].headers.contains(KafkaHeader(DeadLetter.offsetHeader, "1")))
        #expect(loop.advance(now: 0).map(\.values) == [[1]], "the good records around them still count")
    }

    @Test func rawSamplesAreBufferedOnlyWhenStoredAndOnlyForSelectedSeries() {
        var stored = loop()
        stored.ingest([record(offset: 0, at: 0)], now: 0, metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        #expect(stored.bufferedSamples == 1)
        #expect(stored.takeRaw().count == 1 && stored.bufferedSamples == 0)

        var notStored = loop(storeRaw: false)
        notStored.ingest([record(offset: 0, at: 0)], now: 0, metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        #expect(notStored.bufferedSamples == 0)
    }

    @Test func commitsOnlyMoveForward() {
        var loop = loop()
        loop.committed([tp: 5])
        #expect(loop.offsetsToCommit([tp: 5]).isEmpty)
        #expect(loop.offsetsToCommit([tp: 4]).isEmpty)
        #expect(loop.offsetsToCommit([tp: 6]) == [tp: 6])
    }

    @Test func revokeReturnsWhatCanCloseAndForgetsThePartition() {
        var loop = loop()
        loop.ingest([record(offset: 0, at: 0), record(offset: 1, at: 61)], now: 0, metrics: WorkerMetrics(worker: 0), logger: .init(label: "t"))
        let offsets = loop.committableOffsets([tp])
        let outputs = loop.revoke([tp], now: 0)
        #expect(offsets[tp] == 0 || offsets[tp] == 1)
        #expect(outputs.allSatisfy { $0.windowEnd <= 61_000 })
        #expect(loop.assignedPartitions.isEmpty)
        #expect(loop.committableOffsets(nil).isEmpty)
    }
}
