import Foundation
import GRDB
import SeismoCore
import Testing

@testable import SeismoStore

/// Series scraped at the same times store their timestamps once per cut (see ChunkTimes.swift).
@Suite("Shared time sets")
struct SharedTimesTests {
    static func labels(_ index: Int) -> Labels { ["__name__": "m\(index)", "instance": "a"] }

    /// Three series at the same times, and one scraped 7 ms later; 25 samples 15 s apart each.
    static func fill(_ store: SQLiteStore) async throws {
        var appender = store.appender()
        for step in 0..<25 {
            for index in 0..<4 {
                let t = Int64(step) * 15_000 + (index == 3 ? 7 : 0)
                appender.append(labels(index), timestamp: t, value: Double(index * 1_000 + step))
            }
        }
        try await appender.commit()
    }

    static func rows(_ store: SQLiteStore) async throws -> (times: Int, shared: Int, inline: Int) {
        try await store.read("count") { db in
            let times = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunk_times")!
            let encodings = try Row.fetchAll(db, sql: "SELECT data FROM chunks").map { ([UInt8]($0[0] as Data)).first }
            return (times, encodings.filter { $0 == SharedTimesChunk.encodingByte }.count, encodings.filter { $0 != SharedTimesChunk.encodingByte }.count)
        }
    }

    static func expected(_ index: Int) -> StoredSeries {
        StoredSeries(
            labels: labels(index), timestamps: (0..<25).map { Int64($0) * 15_000 + (index == 3 ? 7 : 0) },
            values: (0..<25).map { Double(index * 1_000 + $0) })
    }

    @Test func chunksCutTogetherWithTheSameTimestampsShareOneTimeSet() async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 10))
        try await Self.fill(store)
        // Two cuts of 10: each one time set for the three series; the fourth keeps its own.
        let rows = try await Self.rows(store)
        #expect(rows.times == 2 && rows.shared == 6 && rows.inline == 2)
        let all = try await store.select([], from: .min, to: .max)
        #expect(all == (0..<4).map(Self.expected))
        let window = try await store.select([try Matcher(.equal, "__name__", "m1")], from: 40_000, to: 200_000)
        #expect(window.first?.timestamps == (3...13).map { Int64($0) * 15_000 })
    }

    @Test func aLateSampleRewritesItsChunkInlineAndTheOthersKeepTheTimeSet() async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 10))
        try await Self.fill(store)
        var appender = store.appender()
        appender.append(Self.labels(0), timestamp: 22_500, value: -1)
        try await appender.commit()
        let rows = try await Self.rows(store)
        #expect(rows.times == 2 && rows.shared == 5 && rows.inline == 3)
        let all = try await store.select([], from: .min, to: .max)
        var first = Self.expected(0)
        first.timestamps.insert(22_500, at: 2)
        first.values.insert(-1, at: 2)
        #expect(all == [first] + (1..<4).map(Self.expected))
    }

    @Test func retentionDeletesTimeSetsWithTheirChunks() async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 10))
        try await Self.fill(store)
        // The first cut ends at 135 s: its chunks and time set go; the second cut is trimmed.
        try await store.deleteOlderThan(samples: 140_000, windows: nil, anomalies: nil)
        let rows = try await Self.rows(store)
        #expect(rows.times == 1)
        let all = try await store.select([], from: .min, to: .max)
        #expect(all.map { $0.timestamps.first } == [150_000, 150_000, 150_000, 150_007])
        #expect(all.allSatisfy { $0.timestamps.count == 15 })
    }

    @Test func sharedChunksReadBackAfterAReopen() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-shared-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let store = try SQLiteStore(path: path, chunks: ChunkOptions(samplesPerChunk: 10))
            try await Self.fill(store)
        }
        let reopened = try SQLiteStore(path: path, chunks: ChunkOptions(samplesPerChunk: 10))
        #expect(try await reopened.select([], from: .min, to: .max) == (0..<4).map(Self.expected))
    }

    @Test func aSharedChunkWithoutItsTimeSetIsCorruptNotACrash() async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 10))
        try await Self.fill(store)
        try await store.writer.write { db in try db.execute(sql: "DELETE FROM chunk_times") }
        await #expect(throws: StoreError.self) { _ = try await store.select([], from: .min, to: .max) }
        let chunk = SharedTimesChunk.encode(timesID: 1, values: [1, 2, 3])
        #expect(throws: StoreError.self) { _ = try Chunk.decode(chunk) }
        #expect(throws: StoreError.self) {
            var t: [Int64] = []
            var v: [Double] = []
            try SharedTimesChunk.decode(chunk, times: { _ in [1, 2] }, into: &t, &v)
        }
    }
}
