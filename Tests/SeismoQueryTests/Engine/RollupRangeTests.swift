import SeismoCore
import SeismoStore
import Synchronization
import Testing

@testable import SeismoQuery

/// Range queries with a long window and a big step read rollups, and answer as raw samples do.
@Suite("Range queries over rollups")
struct RollupRangeTests {
    /// Forwards to an in-memory querier and records what the engine read.
    final class Spy: Querier {
        let inner: InMemoryQuerier
        let reads = Mutex<[String]>([])
        init(_ series: [StoredSeries]) { inner = InMemoryQuerier(series) }

        func select(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [StoredSeries] {
            reads.withLock { $0.append("raw") }
            return try await inner.select(matchers, from: from, to: to)
        }
        func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution) async throws(StoreError)
            -> [RollupSeries]
        {
            reads.withLock { $0.append("\(resolution.milliseconds / 60_000)m") }
            return try await inner.selectRollups(matchers, from: from, to: to, resolution: resolution)
        }
        func series(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [Labels] { [] }
        func labelNames(_ matchers: [Matcher]) async throws(StoreError) -> [String] { [] }
        func labelValues(_ name: String, matching matchers: [Matcher]) async throws(StoreError) -> [String] { [] }
        func featureRows(table: String, from: Int64, to: Int64) async throws(StoreError) -> [WindowRow] { [] }
        func anomalies(from: Int64, to: Int64, limit: Int) async throws(StoreError) -> [AnomalyRecord] { [] }
    }

    static let hour: Int64 = 3_600_000

    /// Two days of two gauges at 15 s; one scrapes on the minute (so samples fall on bucket
    /// edges), the other 7.3 s after. A few NaNs and a stale marker.
    static let series: [StoredSeries] = (0..<2).map { index in
        var timestamps: [Int64] = []
        var values: [Double] = []
        for step in 0..<(2 * 24 * 240) {
            timestamps.append(Int64(step) * 15_000 + (index == 0 ? 0 : 7_300))
            let value = step % 997 == 5 ? Double.nan : step == 4_000 ? StaleMarker.value : Double((step * 37 + index) % 101) / 4
            values.append(value)
        }
        return StoredSeries(labels: ["__name__": "load", "host": "h\(index)"], timestamps: timestamps, values: values)
    }

    func results(_ query: String, start: Int64, end: Int64, step: Int64) async throws -> (reads: [String], rollups: QueryValue, raw: QueryValue) {
        let spy = Spy(Self.series)
        let rollups = try await Engine(querier: spy).rangeQuery(query, start: start, end: end, step: step)
        let raw = try await Engine(querier: InMemoryQuerier(Self.series), options: EngineOptions(useRollups: false))
            .rangeQuery(query, start: start, end: end, step: step)
        return (spy.reads.withLock { $0 }, rollups, raw)
    }

    func expectClose(_ a: QueryValue, _ b: QueryValue, _ comment: Comment) {
        guard case .matrix(let x) = a, case .matrix(let y) = b else {
            Issue.record("not matrices: \(comment)")
            return
        }
        #expect(x.map(\.labels) == y.map(\.labels), comment)
        #expect(!x.isEmpty, comment)
        for (p, q) in zip(x, y) {
            #expect(p.timestamps == q.timestamps, comment)
            let same = zip(p.values, q.values).allSatisfy { u, v in
                u == v || (u.isNaN && v.isNaN) || abs(u - v) <= 1e-12 * Swift.max(abs(u), abs(v))
            }
            #expect(same, comment)
        }
    }

    @Test(arguments: [
        "avg_over_time(load[1h])", "min_over_time(load[1h])", "max_over_time(load[1h])", "sum_over_time(load[1h])",
        "count_over_time(load[1h])", "last_over_time(load[1h])", "present_over_time(load[1h])",
        "sum by (host) (avg_over_time(load[3h] offset 30m))",
    ])
    func aFiveMinuteStepOverAnHourReadsFiveMinuteBuckets(_ query: String) async throws {
        let (reads, rollups, raw) = try await results(query, start: 2 * Self.hour, end: 40 * Self.hour, step: 300_000)
        #expect(reads == ["5m"])
        expectClose(rollups, raw, "\(query)")
    }

    @Test func anHourlyStepOverADayReadsHourBuckets() async throws {
        let (reads, rollups, raw) = try await results("max_over_time(load[1d])", start: 24 * Self.hour, end: 47 * Self.hour, step: Self.hour)
        #expect(reads == ["60m"])
        expectClose(rollups, raw, "max_over_time(load[1d])")
    }

    /// Queries (with a start and a step) that rollups cannot answer exactly.
    static let untiled: [(query: String, start: Int64, step: Int64)] = [
        ("avg_over_time(load[1h])", 2 * hour + 1_000, 300_000),  // start off the bucket grid
        ("avg_over_time(load[1h])", 2 * hour, 60_000),  // step below a bucket
        ("avg_over_time(load[50m])", 2 * hour, 300_000),  // window under 12 buckets
        ("avg_over_time(load[1h] offset 1m)", 2 * hour, 300_000),
        ("stddev_over_time(load[1h])", 2 * hour, 300_000),  // not answerable from buckets
        ("max_over_time(avg_over_time(load[1h])[2h:5m])", 2 * hour, 300_000),  // in a subquery
    ]

    @Test("raw samples where buckets would not tile the windows", arguments: untiled)
    func rawSamplesWhereBucketsDoNotTile(_ query: String, _ start: Int64, _ step: Int64) async throws {
        let (reads, rollups, raw) = try await results(query, start: start, end: start + 10 * Self.hour, step: step)
        #expect(reads == ["raw"])
        expectClose(rollups, raw, "\(query)")
    }

    @Test func seriesThatCollideOnceTheNameIsDroppedAreAnErrorAsWithRawSamples() async throws {
        let twins = [
            StoredSeries(labels: ["__name__": "a", "host": "x"], timestamps: [0, 60_000], values: [1, 2]),
            StoredSeries(labels: ["__name__": "b", "host": "x"], timestamps: [0, 60_000], values: [3, 4]),
        ]
        for useRollups in [true, false] {
            let engine = Engine(querier: InMemoryQuerier(twins), options: EngineOptions(useRollups: useRollups))
            await #expect(throws: QueryError.self) {
                _ = try await engine.rangeQuery(#"avg_over_time({host="x"}[1h])"#, start: 0, end: Self.hour, step: 300_000)
            }
        }
    }
}
