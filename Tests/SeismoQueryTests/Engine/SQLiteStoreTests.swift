import Foundation
import SeismoCore
import SeismoStore
import Testing

@testable import SeismoQuery

/// The engine reads only through `Querier`: over the SQLite store it must answer exactly as
/// over the in-memory one.
@Suite("Engine over the SQLite store")
struct SQLiteStoreTests {
    @Test("every comparison query gives the same result over SQLite as in memory")
    func sameAnswers() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-query-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("q.sqlite").path)
        var appender = store.appender()
        for s in ComparisonData.series {
            for (t, v) in zip(s.timestamps, s.values) { appender.append(s.labels, timestamp: t, value: v) }
        }
        try await appender.commit()
        let onDisk = Engine(querier: store)
        let inMemory = Engine(querier: InMemoryQuerier(ComparisonData.series))
        let t = ComparisonData.at(47)
        var compared = 0
        for query in ComparisonData.expressions {
            let q = query.replacingOccurrences(of: "@T", with: String(ComparisonData.at(20) / 1000))
            let a = try PrometheusComparisonTests.seismo(try await onDisk.instantQuery(q, at: t))
            let b = try PrometheusComparisonTests.seismo(try await inMemory.instantQuery(q, at: t))
            #expect(a == b, "\(q)")
            compared += 1
        }
        for query in ComparisonData.rangeExpressions {
            let (start, end) = (ComparisonData.at(10), ComparisonData.at(85))
            let a = try PrometheusComparisonTests.seismo(try await onDisk.rangeQuery(query, start: start, end: end, step: 60_000))
            let b = try PrometheusComparisonTests.seismo(try await inMemory.rangeQuery(query, start: start, end: end, step: 60_000))
            #expect(a == b && a.order == b.order, "\(query)")
        }
        #expect(compared == ComparisonData.expressions.count)
        // Queries that read the store's rollups answer as raw samples do.
        let raw = Engine(querier: store, options: EngineOptions(useRollups: false))
        for (query, from, to, step) in ComparisonData.rollupRangeQueries {
            let (start, end) = (ComparisonData.at(from), ComparisonData.at(to))
            let a = try PrometheusComparisonTests.seismo(try await onDisk.rangeQuery(query, start: start, end: end, step: Int64(step) * 60_000))
            let b = try PrometheusComparisonTests.seismo(try await raw.rangeQuery(query, start: start, end: end, step: Int64(step) * 60_000))
            #expect(!a.series.isEmpty && a == b && a.order == b.order, "\(query)")
        }
    }
}
