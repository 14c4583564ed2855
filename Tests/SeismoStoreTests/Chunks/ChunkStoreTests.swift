import Foundation
import GRDB
import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Chunk store: heads, chunks, replay, crash consistency")
struct ChunkStoreTests {
    let cpu: Labels = ["__name__": "cpu_seconds_total", "cpu": "0", "instance": "a"]
    let small = ChunkOptions(samplesPerChunk: 10, maxHeadAgeInCommits: 16)

    func temporaryPath() -> String { NSTemporaryDirectory() + "seismo-chunks-\(UInt64.random(in: 0...UInt64.max)).sqlite" }
    func remove(_ path: String) { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }

    /// [min_t, max_t, count] of every stored chunk, by min_t.
    func chunkRows(_ store: SQLiteStore) throws -> [[Int64]] {
        try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT min_t, max_t, count FROM chunks ORDER BY min_t").map { row -> [Int64] in
                [row[0], row[1], row[2]]
            }
        }
    }

    /// Every row of chunks, rollups and head_log, as text.
    func storedRows(_ store: SQLiteStore) throws -> [String] {
        try store.writer.read { db in
            let chunks = try Row.fetchAll(db, sql: "SELECT * FROM chunks ORDER BY id").map(\.description)
            let rollups = try Row.fetchAll(db, sql: "SELECT * FROM rollups ORDER BY chunk_id").map(\.description)
            let log = try Row.fetchAll(db, sql: "SELECT * FROM head_log ORDER BY seq").map(\.description)
            return chunks + rollups + log
        }
    }

    func append(_ store: SQLiteStore, _ labels: Labels, _ samples: [(Int64, Double)]) async throws {
        var appender = store.appender()
        for (t, v) in samples { appender.append(labels, timestamp: t, value: v) }
        try await appender.commit()
    }

    @Test func aFullHeadIsCutIntoAChunkAndTheRestStaysInTheHead() async throws {
        let store = try SQLiteStore.inMemory(chunks: small)
        try await append(store, cpu, (0..<25).map { (Int64($0) * 15_000, Double($0)) })
        let chunks = try chunkRows(store)
        #expect(chunks == [[0, 135_000, 10], [150_000, 285_000, 10]])
        #expect(store.heads.withLock { $0.heads.values.map(\.count) } == [5])
        let series = try await everything(store)
        #expect(series.map(\.timestamps) == [(0..<25).map { Int64($0) * 15_000 }])
        #expect(series.map(\.values) == [(0..<25).map(Double.init)])
        // A range inside one chunk, and one across chunk and head.
        let part = try await store.select([m(#"cpu="0""#)], from: 30_000, to: 60_000)
        #expect(part.map(\.timestamps) == [[30_000, 45_000, 60_000]])
        let across = try await store.select([m(#"cpu="0""#)], from: 280_000, to: 320_000)
        #expect(across.map(\.timestamps) == [[285_000, 300_000, 315_000]])
        #expect(try await store.series([], from: 301_000, to: 314_000).isEmpty)
        #expect(try await store.series([], from: 301_000, to: 315_000) == [cpu])
    }

    @Test func outOfOrderSamplesMergeIntoTheHeadOrTheirChunk() async throws {
        let store = try SQLiteStore.inMemory(chunks: small)
        let even = (0..<15).map { (Int64($0) * 2_000, Double($0)) }
        try await append(store, cpu, even)
        // 7_000 is in the stored chunk [0, 18_000]; 25_000 in the head; -1_000 before everything.
        try await append(store, cpu, [(25_000, -25), (7_000, -7), (-1_000, -1), (4_000, 44)])
        let series = try await everything(store)[0]
        var expected = Dictionary(uniqueKeysWithValues: even)
        expected[25_000] = -25
        expected[7_000] = -7
        expected[-1_000] = -1
        expected[4_000] = 44
        let times = expected.keys.sorted()
        let values: [Double] = times.map { expected[$0]! }
        #expect(series.timestamps == times)
        #expect(series.values == values)
        let chunks = try chunkRows(store)
        #expect(chunks == [[-1_000, 18_000, 12]], "late samples re-encode their chunk, not a new one")
    }

    @Test func aReplayOfCommittedSamplesChangesNothing() async throws {
        let store = try SQLiteStore.inMemory(chunks: small)
        let samples = (0..<23).map { (Int64($0) * 15_000, Double($0) * 0.5) }
        try await append(store, cpu, samples)
        let before = try storedRows(store)
        try await append(store, cpu, samples)
        try await append(store, cpu, Array(samples.suffix(4)))
        let after = try storedRows(store)
        #expect(before == after)
        #expect(try await everything(store).map(\.timestamps.count) == [23])
    }

    @Test func everythingCommittedIsQueryableAfterAReopenWithoutFlush() async throws {
        let path = temporaryPath()
        defer { remove(path) }
        let labels: [Labels] = (0..<20).map { ["__name__": "m", "i": "\($0)"] }
        var expected: [StoredSeries] = []
        do {
            let store = try SQLiteStore(path: path, chunks: small)
            var appender = store.appender()
            for round in 0..<37 {
                for (index, l) in labels.enumerated() where round % (index % 3 + 1) == 0 {
                    appender.append(l, timestamp: Int64(round) * 1_000, value: Double(round * index))
                }
                try await appender.commit()
            }
            appender.append(labels[0], timestamp: 5_500, value: 55)  // late, into a stored chunk
            appender.append(labels[1], timestamp: 36_500, value: 365)  // late, into the head
            try await appender.commit()
            expected = try await everything(store)
            // 7 series every round, 7 every second round, 6 every third round, and the 2 late samples.
            let stored = expected.map(\.timestamps.count).reduce(0, +)
            let appended: Int = 7 * 37 + 7 * 19 + 6 * 13 + 2
            #expect(stored == appended)
            // The store is dropped here as a crash would: no flush.
        }
        let reopened = try SQLiteStore(path: path, chunks: small)
        #expect(try await everything(reopened) == expected)
        // Writing on after the reopen extends the rebuilt heads.
        try await append(reopened, labels[0], [(100_000, 1)])
        #expect(try await everything(reopened).first { $0.labels == labels[0] }?.timestamps.last == 100_000)
    }

    @Test func theHeadLogStaysBoundedAndIdleHeadsAreCut() async throws {
        let store = try SQLiteStore.inMemory(chunks: small)
        let idle: Labels = ["__name__": "idle"]
        try await append(store, idle, [(0, 1), (1, 2)])
        for round in 0..<200 { try await append(store, cpu, [(Int64(round) * 1_000, Double(round))]) }
        let logRows = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM head_log")! }
        #expect(logRows <= 16 + 64)
        #expect(store.heads.withLock { $0.heads[1] == nil }, "the idle series' head was cut into a chunk")
        #expect(try await store.select([m(#"__name__="idle""#)], from: .min, to: .max).map(\.values) == [[1, 2]])
        try await store.flushHeads()
        let after = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM head_log")! }
        #expect(after == 0)
        #expect(try await everything(store).map(\.timestamps.count).sorted() == [2, 200])
    }

    @Test func retentionDropsWholeChunksAndTrimsTheOneSpanningTheCutoff() async throws {
        let store = try SQLiteStore.inMemory(chunks: small)
        try await append(store, cpu, (0..<35).map { (Int64($0) * 1_000, Double($0)) })
        let report = try await store.deleteOlderThan(samples: 15_000, windows: nil, anomalies: nil)
        #expect(report.samples == 15)
        #expect(try await everything(store).map(\.timestamps) == [(15..<35).map { Int64($0) * 1_000 }])
        let chunks = try chunkRows(store)
        #expect(chunks == [[15_000, 19_000, 5], [20_000, 29_000, 10]])
        // A sample older than the cutoff is not brought back by a reopen's head rebuild.
        let rebuilt = try await store.writer.read { db in try SQLiteStore.rebuildHeads(db) }
        #expect(rebuilt.heads.values.allSatisfy { $0.firstTimestamp >= 15_000 })
    }

    @Test func theMigrationMovesRawSamplesIntoChunks() async throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v1-anomalies")
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO series (id, hash, metric, labels) VALUES (1, 0, 'up', ?)", arguments: [LabelText.encode(["__name__": "up"])])
            try db.execute(sql: "INSERT INTO series_label (name, value, series_id) VALUES ('__name__', 'up', 1)")
            for t in 0..<300 {
                try db.execute(
                    sql: "INSERT INTO samples (series_id, ts, value) VALUES (1, ?, ?)",
                    arguments: [t * 1_000, t == 7 ? "stale".databaseValue : Double(t).databaseValue])
            }
        }
        let store = try SQLiteStore(writer: queue)
        let series = try await everything(store)
        #expect(series.map(\.timestamps) == [(0..<300).map { Int64($0) * 1_000 }])
        #expect(StaleMarker.isStale(series[0].values[7]) && series[0].values[299] == 299)
        let tables = try await queue.read { db in try db.tableExists("samples") }
        #expect(!tables)
    }

    @Test func rollupsWrittenBeforeTheirFormatChangedAreComputedAgain() async throws {
        let queue = try DatabaseQueue()
        try Schema.migrator.migrate(queue, upTo: "v2-rollups")
        let chunk = StoredChunk(timestamps: (0..<40).map { Int64($0) * 30_000 }, values: (0..<40).map(Double.init))
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO series (id, hash, metric, labels) VALUES (1, 0, 'up', ?)", arguments: [LabelText.encode(["__name__": "up"])])
            try db.execute(sql: "INSERT INTO series_label (name, value, series_id) VALUES ('__name__', 'up', 1)")
            try db.execute(
                sql: "INSERT INTO chunks (id, series_id, min_t, max_t, count, data) VALUES (1, 1, 0, ?, 40, ?)",
                arguments: [chunk.maxTimestamp, Data(chunk.data)])
            // The old format: no format byte, 5 m and 1 h buckets left-closed.
            try db.execute(sql: "INSERT INTO rollups (chunk_id, data) VALUES (1, ?)", arguments: [Data([4, 0, 2, 2, 2])])
        }
        let store = try SQLiteStore(writer: queue)
        let rollups = try await store.selectRollups([], from: 0, to: .max, resolution: .fiveMinutes)
        #expect(rollups.map(\.timestamps) == [(0...4).map { Int64($0) * 300_000 }])
        #expect(rollups.map(\.count) == [[1, 10, 10, 10, 9]])
    }
}
