import SeismoCore
import SeismoStore
import Testing

@testable import SeismoQuery

@Suite("Engine")
struct EngineTests {
    /// `x{i="0"}`, `x{i="1"}`: a sample every minute for an hour, value = minute × (i + 1).
    static let querier = InMemoryQuerier(
        (0..<2).map { i in
            let ts = (0...60).map { Int64($0) * 60_000 }
            return StoredSeries(
                labels: ["__name__": "x", "i": String(i)], timestamps: ts, values: ts.map { Double($0 / 60_000 * Int64(i + 1)) })
        })

    @Test("the lookback delta is configurable")
    func lookback() async throws {
        let sparse = InMemoryQuerier([StoredSeries(labels: ["__name__": "y"], timestamps: [0], values: [1])])
        guard case .vector(let fiveMinutes) = try await Engine(querier: sparse).instantQuery("y", at: 240_000) else {
            Issue.record("expected a vector")
            return
        }
        #expect(fiveMinutes.count == 1)
        let short = Engine(querier: sparse, options: EngineOptions(lookbackDelta: 60_000))
        guard case .vector(let oneMinute) = try await short.instantQuery("y", at: 240_000) else {
            Issue.record("expected a vector")
            return
        }
        #expect(oneMinute.isEmpty)
    }

    @Test("a range query returns one series per label set, sorted by labels, with a point per step")
    func rangeShape() async throws {
        guard case .matrix(let m) = try await Engine(querier: Self.querier).rangeQuery("x * 2", start: 0, end: 600_000, step: 120_000)
        else {
            Issue.record("expected a matrix")
            return
        }
        #expect(m.map(\.labels) == [["i": "0"], ["i": "1"]])
        #expect(m[1].timestamps == [0, 120_000, 240_000, 360_000, 480_000, 600_000])
        #expect(m[1].values == [0, 8, 16, 24, 32, 40])
    }

    @Test("range queries reject range vectors and non-positive steps")
    func rangeErrors() async {
        let engine = Engine(querier: Self.querier)
        await #expect(throws: QueryError.self) { try await engine.rangeQuery("x[5m]", start: 0, end: 1, step: 1) }
        await #expect(throws: QueryError.self) { try await engine.rangeQuery("x", start: 0, end: 1, step: 0) }
    }

    @Test("the sample limit stops a query with an execution error")
    func maxSamples() async {
        let engine = Engine(querier: Self.querier, options: EngineOptions(maxSamples: 50))
        await #expect(throws: QueryError(.tooManySamples, "query processing would load too many samples into memory in query execution")) {
            try await engine.instantQuery("sum_over_time(x[1h])", at: 3_600_000)
        }
    }

    @Test("a query past its timeout fails with a timeout error")
    func timeout() async {
        let engine = Engine(querier: Self.querier, options: EngineOptions(timeout: .zero))
        await #expect(throws: QueryError(.timeout, "query timed out in query execution")) {
            try await engine.rangeQuery("x", start: 0, end: 3_600_000, step: 1000)
        }
    }

    @Test("floats format as Go's FormatFloat(v, 'f', -1, 64)")
    func formatting() {
        #expect(formatPromFloat(1) == "1")
        #expect(formatPromFloat(0.1) == "0.1")
        #expect(formatPromFloat(1e21) == "1000000000000000000000")
        #expect(formatPromFloat(1.5e-7) == "0.00000015")
        #expect(formatPromFloat(-2.5) == "-2.5")
        #expect(formatPromFloat(.infinity) == "+Inf")
        #expect(formatPromFloat(.nan) == "NaN")
        #expect(formatPromFloat(123456.789) == "123456.789")
    }
}
