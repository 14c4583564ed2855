import Foundation
import GRDB
import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Raw samples")
struct SamplesTests {
    let up: Labels = ["__name__": "up", "job": "api", "instance": "a:9090"]

    @Test func committedSamplesAreReadBackInTimeOrder() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(up, timestamp: 2_000, value: 0)
        appender.append(up, timestamp: 1_000, value: 1)
        #expect(appender.pendingCount == 2)
        try await appender.commit()
        #expect(appender.pendingCount == 0)
        let series = try await store.select([m(#"__name__="up""#)], from: 0, to: 10_000)
        #expect(series == [StoredSeries(labels: up, timestamps: [1_000, 2_000], values: [1, 0])])
    }

    @Test func theSameBatchTwiceLeavesTheSameRows() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        for pass in 0..<2 {
            for t in 0..<50 { appender.append(up, timestamp: Int64(t) * 1_000, value: Double(t)) }
            appender.append(windowRow(end: 60_000, group: ["job": "api"], [("mean", 1.5)]), asSeries: true)
            appender.append(anomaly("a1", end: 60_000))
            try await appender.commit()
            let samples = try await everything(store).map(\.timestamps.count).reduce(0, +)
            let rows = try await store.writer.read { db in
                try [
                    samples,
                    Int.fetchOne(db, sql: "SELECT count(*) FROM series")!,
                    Int.fetchOne(db, sql: "SELECT count(*) FROM features")!,
                    Int.fetchOne(db, sql: "SELECT count(*) FROM anomalies")!,
                ]
            }
            #expect(rows == [51, 2, 1, 1], "after pass \(pass)")
        }
    }

    @Test func aSecondWriteOfATimestampReplacesTheValue() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(up, timestamp: 1_000, value: 1)
        try await appender.commit()
        appender.append(up, timestamp: 1_000, value: 2)
        appender.append(up, timestamp: 1_000, value: 3)  // the last in a batch wins
        try await appender.commit()
        #expect(try await everything(store).map(\.values) == [[3]])
    }

    @Test func nanAndStaleMarkersSurvive() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(up, timestamp: 1, value: .nan)
        appender.append(up, timestamp: 2, value: StaleMarker.value)
        appender.append(up, timestamp: 3, value: -.infinity)
        try await appender.commit()
        let values = try await everything(store)[0].values
        #expect(values[0].isNaN && !StaleMarker.isStale(values[0]))
        #expect(StaleMarker.isStale(values[1]))
        #expect(values[2] == -.infinity)
    }

    @Test func rollbackLeavesNothing() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(up, timestamp: 1_000, value: 1)
        appender.append(anomaly("a", end: 1_000))
        appender.rollback()
        #expect(appender.pendingCount == 0)
        try await appender.commit()
        #expect(try await everything(store).isEmpty)
        #expect(try await store.labelNames([]).isEmpty)
        #expect(try await store.anomalies(from: .min, to: .max, limit: 10).isEmpty)
    }

    @Test func aFailedCommitStoresNothingAndKeepsTheBuffer() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(up, timestamp: 1_000, value: 1)
        appender.append(windowRow(table: "bad name", end: 1_000, group: [:], [("x", 1)]), asSeries: false)
        #expect(await code { () async throws(StoreError) in try await appender.commit() } == .invalidInput)
        #expect(appender.pendingCount == 2)
        #expect(try await everything(store).isEmpty)
    }

    @Test func aFailureInsideTheTransactionRollsBackSeriesAndCache() async throws {
        let store = try SQLiteStore.inMemory()
        // A trigger makes the anomaly insert fail after the samples and series were written.
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER refuse BEFORE INSERT ON anomalies
                    BEGIN SELECT RAISE(ABORT, 'refused'); END
                    """)
        }
        var appender = store.appender()
        appender.append(up, timestamp: 1_000, value: 1)
        appender.append(anomaly("a", end: 1_000))
        #expect(await code { () async throws(StoreError) in try await appender.commit() } == .io)
        #expect(try await everything(store).isEmpty)
        #expect(store.caches.withLock { $0.series.isEmpty })
        try await store.writer.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        try await appender.commit()
        #expect(try await everything(store).count == 1)
    }

    @Test func aFileBackedStoreReopenedKeepsEverything() async throws {
        let path = "/tmp/seismo-store-test-\(UInt64.random(in: 0...UInt64.max)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        do {
            let store = try SQLiteStore(path: path)
            var appender = store.appender()
            appender.append(up, timestamp: 1_000, value: 1)
            appender.append(windowRow(end: 60_000, group: ["job": "api"], [("mean", 1.5)]), asSeries: false)
            appender.append(anomaly("a", end: 60_000))
            try await appender.commit()
        }
        let store = try SQLiteStore(path: path)
        #expect(try await everything(store) == [StoredSeries(labels: up, timestamps: [1_000], values: [1])])
        #expect(try await store.featureRows(table: "features", from: 0, to: .max).count == 1)
        #expect(try await store.anomalies(from: 0, to: .max, limit: 5).map(\.id) == ["a"])
        let mode = try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // A series known from before the reopen is found, not duplicated.
        var appender = store.appender()
        appender.append(up, timestamp: 2_000, value: 2)
        try await appender.commit()
        #expect(try await everything(store).map(\.timestamps) == [[1_000, 2_000]])
    }

    @Test func concurrentAppendersCreatingTheSameSeriesEndWithOneRow() async throws {
        let path = "/tmp/seismo-store-test-\(UInt64.random(in: 0...UInt64.max)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let store = try SQLiteStore(path: path)
        let labels: [Labels] = (0..<200).map { ["__name__": "m", "i": "\($0)"] }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var appender = store.appender()
                    for round in 0..<5 {
                        for l in labels { appender.append(l, timestamp: Int64(worker * 10 + round), value: 1) }
                        try await appender.commit()
                    }
                }
            }
            // Reads run while the writers write.
            group.addTask { _ = try await store.select([m(#"__name__="m""#)], from: .min, to: .max) }
            try await group.waitForAll()
        }
        let series = try await everything(store)
        #expect(series.count == 200)
        #expect(series.allSatisfy { $0.timestamps.count == 20 })
        let rows = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM series")! }
        #expect(rows == 200)
    }

    @Test func seriesWithTheSameHashAreKeptApart() async throws {
        let store = try SQLiteStore.inMemory()
        let a: Labels = ["__name__": "a"]
        let b: Labels = ["__name__": "b"]
        // Forge a collision: a stored series with b's text under a's hash.
        try await store.writer.write { db in
            try db.execute(
                sql: "INSERT INTO series (hash, metric, labels) VALUES (?, 'b', ?)",
                arguments: [Int64(bitPattern: a.stableHash), LabelText.encode(b)])
        }
        var appender = store.appender()
        appender.append(a, timestamp: 1, value: 1)
        try await appender.commit()
        let series = try await store.select([m(#"__name__="a""#)], from: .min, to: .max)
        #expect(series.map(\.labels) == [a])
    }

    @Test func labelTextRoundTrips() throws {
        let labels: Labels = ["__name__": "x", "path": #"/a "b" \c"#, "msg": "line1\nline2,=\"", "e": "e\u{301}"]
        #expect(try LabelText.decode(LabelText.encode(labels)) == labels)
        #expect(throws: StoreError.self) { try LabelText.decode(#"a="unterminated"#) }
    }

    @Test func aNewFileGetsThePageSizeAskedForAndAnExistingOneKeepsItsOwn() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-page-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        func pageSize(_ asked: Int) async throws -> Int {
            let store = try SQLiteStore(path: path, options: SQLiteStore.Options(pageSize: asked))
            return try await store.read("page size") { db in try Int.fetchOne(db, sql: "PRAGMA page_size")! }
        }
        #expect(try await pageSize(16_384) == 16_384)
        #expect(try await pageSize(4_096) == 16_384)
    }
}
