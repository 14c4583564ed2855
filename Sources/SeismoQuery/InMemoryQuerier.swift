import SeismoCore
import SeismoStore

/// A `Querier` over series held in memory: for tests, test scripts and benchmarks.
public struct InMemoryQuerier: Querier {
    /// The series, sorted by labels, each with samples in time order.
    public let all: [StoredSeries]

    /// Sorts the series by labels and each series' samples by time (the last of equal timestamps wins).
    public init(_ series: [StoredSeries]) {
        var merged: [Labels: [(Int64, Double)]] = [:]
        for s in series {
            merged[s.labels, default: []].append(contentsOf: zip(s.timestamps, s.values))
        }
        all = merged.map { labels, points in
            var byTime: [Int64: Double] = [:]
            for (t, v) in points { byTime[t] = v }
            let times = byTime.keys.sorted()
            return StoredSeries(labels: labels, timestamps: times, values: times.map { byTime[$0]! })
        }.sorted { Labels.compare($0.labels, $1.labels) }
    }

    public func select(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [StoredSeries] {
        var out: [StoredSeries] = []
        for s in all where matchers.matches(s.labels) {
            let lo = lowerBound(s.timestamps, from)
            let hi = lowerBound(s.timestamps, to == .max ? .max : to + 1)
            guard lo < hi else { continue }
            out.append(
                StoredSeries(
                    labels: s.labels, timestamps: Array(s.timestamps[lo..<hi]), values: Array(s.values[lo..<hi])))
        }
        return out
    }

    public func series(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [Labels] {
        try await select(matchers, from: from, to: to).map(\.labels)
    }

    public func labelNames(_ matchers: [Matcher]) async throws(StoreError) -> [String] {
        Set(all.filter { matchers.matches($0.labels) }.flatMap { $0.labels.map(\.name) }).sorted()
    }

    public func labelValues(_ name: String, matching matchers: [Matcher]) async throws(StoreError) -> [String] {
        Set(all.filter { matchers.matches($0.labels) }.compactMap { $0.labels[name] }).sorted()
    }

    public func featureRows(table: String, from: Int64, to: Int64) async throws(StoreError) -> [WindowRow] { [] }

    public func anomalies(from: Int64, to: Int64, limit: Int) async throws(StoreError) -> [AnomalyRecord] { [] }
}
