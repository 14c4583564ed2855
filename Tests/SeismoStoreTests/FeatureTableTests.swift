import GRDB
import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Feature tables and anomalies")
struct FeatureTableTests {
    let api: Labels = ["service": "api"]
    let web: Labels = ["service": "web"]

    @Test func windowRowsAreReadBackByWindowEndThenGroup() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(end: 120_000, group: api, [("mean", 2), ("p99", .nan)]), asSeries: false)
        appender.append(windowRow(end: 60_000, group: web, [("mean", 3), ("p99", 5)]), asSeries: false)
        appender.append(windowRow(end: 60_000, group: api, [("mean", 1), ("p99", 4)]), asSeries: false)
        try await appender.commit()
        let rows = try await store.featureRows(table: "features", from: 0, to: .max)
        #expect(
            rows == [
                windowRow(end: 60_000, group: api, [("mean", 1), ("p99", 4)]),
                windowRow(end: 60_000, group: web, [("mean", 3), ("p99", 5)]),
                windowRow(end: 120_000, group: api, [("mean", 2), ("p99", .nan)]),
            ])
        #expect(try await store.featureRows(table: "features", from: 100_000, to: 130_000).count == 1)
        #expect(try await store.featureRows(table: "never_written", from: 0, to: .max).isEmpty)
    }

    @Test func anUpsertReplacesTheRowsValues() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(end: 60_000, group: api, [("mean", 1)], count: 3), asSeries: false)
        try await appender.commit()
        appender.append(windowRow(end: 60_000, group: api, [("mean", 7)], count: 4), asSeries: false)
        try await appender.commit()
        let rows = try await store.featureRows(table: "features", from: 0, to: .max)
        #expect(rows == [windowRow(end: 60_000, group: api, [("mean", 7)], count: 4)])
    }

    @Test func aNewFeatureAddsAColumnAndOlderRowsReadNaN() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(end: 60_000, group: api, [("mean", 1)]), asSeries: false)
        try await appender.commit()
        appender.append(windowRow(end: 120_000, group: api, [("max", 9), ("mean", 2)]), asSeries: false)
        try await appender.commit()
        let rows = try await store.featureRows(table: "features", from: 0, to: .max)
        #expect(rows.map { $0.features.map(\.name) } == [["mean", "max"], ["mean", "max"]])
        #expect(rows[0][feature: "max"]!.isNaN)
        #expect(rows[1][feature: "max"] == 9)
        let columns = try await store.writer.read { db in try db.columns(in: "features").map(\.name) }
        #expect(columns == ["stream", "window_start", "window_end", "group_id", "sample_count", "mean", "max"])
    }

    @Test func asSeriesWritesOneSamplePerFeatureAtTheWindowEnd() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(end: 60_000, group: api, [("mean", 1), ("p99", 4)]), asSeries: true)
        try await appender.commit()
        let series = try await store.select([m(#"service="api""#)], from: .min, to: .max)
        #expect(
            series == [
                StoredSeries(labels: ["__name__": "http:mean", "service": "api"], timestamps: [60_000], values: [1]),
                StoredSeries(labels: ["__name__": "http:p99", "service": "api"], timestamps: [60_000], values: [4]),
            ])
    }

    @Test(arguments: ["", "1abc", "a-b", "x; DROP TABLE series", "series", "anomalies", "sqlite_master", "a\"b"])
    func badTableNamesAreRejected(_ name: String) async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(table: name, end: 60_000, group: api, [("mean", 1)]), asSeries: false)
        #expect(await code { () async throws(StoreError) in try await appender.commit() } == .invalidInput)
        #expect(await code { () async throws(StoreError) in _ = try await store.featureRows(table: name, from: 0, to: 1) } == .invalidInput)
    }

    @Test(arguments: ["window_end", "bad-name", "", "a b"])
    func badFeatureNamesAreRejected(_ name: String) async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(windowRow(end: 60_000, group: api, [(name, 1)]), asSeries: false)
        #expect(await code { () async throws(StoreError) in try await appender.commit() } == .invalidInput)
    }

    @Test func anomaliesAreUpsertedAndReadNewestFirst() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(anomaly("a", end: 60_000))
        appender.append(anomaly("b", end: 120_000))
        appender.append(anomaly("c", end: 180_000))
        try await appender.commit()
        appender.append(anomaly("b", end: 120_000, score: 0.99))
        try await appender.commit()
        let all = try await store.anomalies(from: 0, to: .max, limit: 10)
        #expect(all.map(\.id) == ["c", "b", "a"])
        #expect(all[1] == anomaly("b", end: 120_000, score: 0.99))
        #expect(try await store.anomalies(from: 0, to: 130_000, limit: 1).map(\.id) == ["b"])
    }
}
