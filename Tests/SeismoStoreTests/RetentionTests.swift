import GRDB
import Logging
import SeismoCore
import ServiceLifecycle
import Testing

@testable import SeismoStore

@Suite("Retention")
struct RetentionTests {
    let old: Labels = ["__name__": "old"]
    let mixed: Labels = ["__name__": "mixed"]

    func store() async throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        appender.append(old, timestamp: 1_000, value: 1)
        appender.append(mixed, timestamp: 1_000, value: 1)
        appender.append(mixed, timestamp: 9_000, value: 2)
        appender.append(windowRow(end: 2_000, group: ["g": "1"], [("mean", 1)]), asSeries: false)
        appender.append(windowRow(end: 9_000, group: ["g": "1"], [("mean", 2)]), asSeries: false)
        appender.append(anomaly("early", end: 2_000))
        appender.append(anomaly("late", end: 9_000))
        try await appender.commit()
        return store
    }

    @Test func deletesRowsBeforeTheCutoffsAndSeriesLeftEmpty() async throws {
        let store = try await store()
        let report = try await store.deleteOlderThan(samples: 5_000, windows: 5_000, anomalies: 5_000)
        #expect(report == RetentionReport(samples: 2, series: 1, windowRows: 1, anomalies: 1))
        #expect(try await everything(store) == [StoredSeries(labels: mixed, timestamps: [9_000], values: [2])])
        #expect(try await store.labelValues("__name__", matching: []) == ["mixed"])
        #expect(try await store.featureRows(table: "features", from: .min, to: .max).map(\.windowEnd) == [9_000])
        #expect(try await store.anomalies(from: .min, to: .max, limit: 9).map(\.id) == ["late"])
    }

    @Test func nilCutoffsKeepEverything() async throws {
        let store = try await store()
        #expect(try await store.deleteOlderThan(samples: nil, windows: nil, anomalies: nil) == RetentionReport())
        #expect(try await everything(store).count == 2)
    }

    @Test func aDeletedSeriesIsCreatedAgainWhenWrittenAgain() async throws {
        let store = try await store()
        try await store.deleteOlderThan(samples: 5_000, windows: nil, anomalies: nil)
        var appender = store.appender()
        appender.append(old, timestamp: 10_000, value: 3)
        try await appender.commit()
        #expect(try await store.select([m(#"__name__="old""#)], from: .min, to: .max).map(\.values) == [[3]])
        #expect(try await store.labelValues("__name__", matching: []) == ["mixed", "old"])
    }

    @Test func theServiceRunsPassesUntilGracefulShutdown() async throws {
        let store = try await store()
        let (passes, continuation) = AsyncStream.makeStream(of: Result<RetentionReport, StoreError>.self)
        let service = RetentionService(
            store: store, policy: .init(samples: .seconds(5), windows: .seconds(5), anomalies: .seconds(5)),
            interval: .milliseconds(1), clock: ContinuousClock(), now: { 10_000 },
            onPass: { continuation.yield($0) })
        let group = ServiceGroup(
            configuration: .init(services: [service], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = passes.makeAsyncIterator()
            let first = await iterator.next()
            #expect(try first?.get() == RetentionReport(samples: 2, series: 1, windowRows: 1, anomalies: 1))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await everything(store).count == 1)
    }
}
