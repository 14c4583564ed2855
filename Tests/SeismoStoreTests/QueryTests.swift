import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Selecting series with matchers")
struct QueryTests {
    static let a: Labels = ["__name__": "http_requests", "job": "api", "code": "200"]
    static let b: Labels = ["__name__": "http_requests", "job": "api", "code": "500"]
    static let c: Labels = ["__name__": "http_requests", "job": "web"]  // no `code`
    static let d: Labels = ["__name__": "up", "job": "api"]

    func store() async throws -> SQLiteStore {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        for (index, labels) in [Self.a, Self.b, Self.c, Self.d].enumerated() {
            appender.append(labels, timestamp: 1_000, value: Double(index))
            appender.append(labels, timestamp: 2_000, value: Double(index))
        }
        try await appender.commit()
        return store
    }

    func names(_ store: SQLiteStore, _ matchers: [String]) async throws -> [Labels] {
        try await store.select(matchers.map(m), from: .min, to: .max).map(\.labels)
    }

    @Test func equalityMatchersIntersect() async throws {
        let store = try await store()
        #expect(try await names(store, [#"__name__="http_requests""#, #"job="api""#]) == [Self.a, Self.b])
        #expect(try await names(store, [#"job="nope""#]) == [])
    }

    @Test func notEqualMatchesAbsentLabels() async throws {
        let store = try await store()
        #expect(try await names(store, [#"__name__="http_requests""#, #"code!="500""#]) == [Self.a, Self.c])
    }

    @Test func regexMatchersAreAnchored() async throws {
        let store = try await store()
        #expect(try await names(store, [#"code=~"2..""#]) == [Self.a])
        #expect(try await names(store, [#"job=~"ap""#]) == [])
        #expect(try await names(store, [#"__name__=~"http_.*|up""#, #"job="api""#]) == [Self.a, Self.b, Self.d])
    }

    @Test func negativeRegexMatchesAbsentLabels() async throws {
        let store = try await store()
        #expect(try await names(store, [#"__name__="http_requests""#, #"code!~"5..""#]) == [Self.a, Self.c])
    }

    @Test func matchersThatMatchTheEmptyStringSelectSeriesWithoutTheLabel() async throws {
        let store = try await store()
        #expect(try await names(store, [#"__name__="http_requests""#, #"code="""#]) == [Self.c])
        #expect(try await names(store, [#"__name__="http_requests""#, #"code=~"|200""#]) == [Self.a, Self.c])
        #expect(try await names(store, [#"code=~".*""#]) == [Self.a, Self.b, Self.c, Self.d])
        #expect(try await names(store, [#"code!="""#]) == [Self.a, Self.b])
        #expect(try await names(store, [#"code=~".+""#]) == [Self.a, Self.b])
    }

    @Test func selectKeepsSamplesInRangeAndDropsEmptySeries() async throws {
        let store = try await store()
        let series = try await store.select([m(#"job="web""#)], from: 1_500, to: 2_000)
        #expect(series == [StoredSeries(labels: Self.c, timestamps: [2_000], values: [2])])
        #expect(try await store.select([m(#"job="web""#)], from: 3_000, to: 4_000).isEmpty)
        #expect(try await store.series([m(#"job="api""#)], from: 2_000, to: 2_000) == [Self.a, Self.b, Self.d])
        #expect(try await store.series([m(#"job="api""#)], from: 2_001, to: 9_000) == [])
    }

    @Test func labelNamesAndValues() async throws {
        let store = try await store()
        #expect(try await store.labelNames([]) == ["__name__", "code", "job"])
        #expect(try await store.labelNames([m(#"job="web""#)]) == ["__name__", "job"])
        #expect(try await store.labelValues("job", matching: []) == ["api", "web"])
        #expect(try await store.labelValues("code", matching: [m(#"job="api""#)]) == ["200", "500"])
        #expect(try await store.labelValues("__name__", matching: [m(#"code=~"5.*""#)]) == ["http_requests"])
        #expect(try await store.labelValues("missing", matching: []) == [])
    }
}
