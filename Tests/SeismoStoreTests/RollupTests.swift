import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Rollups")
struct RollupTests {
    let gauge: Labels = ["__name__": "load", "instance": "a"]

    /// Buckets computed directly from the samples, without the store.
    func direct(_ samples: [(Int64, Double)], width: Int64) -> [Int64: (min: Double, max: Double, sum: Double, count: Int, last: Double)] {
        var buckets: [Int64: (min: Double, max: Double, sum: Double, count: Int, last: Double)] = [:]
        for (t, v) in samples.sorted(by: { $0.0 < $1.0 }) where !StaleMarker.isStale(v) {
            // Right-closed: the bucket labelled e holds (e - width, e].
            let start = Int64((Double(t) / Double(width)).rounded(.up)) * width
            if let b = buckets[start] {
                buckets[start] = (Swift.min(b.min, v), Swift.max(b.max, v), b.sum + v, b.count + 1, v)
            } else {
                buckets[start] = (v, v, v, 1, v)
            }
        }
        return buckets
    }

    func samples() -> [(Int64, Double)] {
        var generator = SplitMix(seed: 5)
        var result: [(Int64, Double)] = []
        var t: Int64 = -3_600_000
        for index in 0..<2_000 {
            t += 1_000 + Int64(generator.next() % 29_000)
            result.append((t, index % 97 == 0 ? StaleMarker.value : Double(generator.next() % 10_000) / 100))
        }
        return result
    }

    @Test(arguments: [Resolution.fiveMinutes, .oneHour])
    func storedRollupsEqualBucketsComputedFromTheSamples(_ resolution: Resolution) async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 120))
        let samples = samples()
        var appender = store.appender()
        // Out of order, in several commits: late samples re-encode chunks and their rollups.
        for (index, sample) in samples.enumerated() where index % 10 != 3 { appender.append(gauge, timestamp: sample.0, value: sample.1) }
        try await appender.commit()
        for (index, sample) in samples.enumerated() where index % 10 == 3 { appender.append(gauge, timestamp: sample.0, value: sample.1) }
        try await appender.commit()

        let expected = direct(samples, width: resolution.milliseconds)
        let from = samples[300].0
        let to = samples[1_700].0
        let series = try await store.selectRollups([m(#"__name__="load""#)], from: from, to: to, resolution: resolution)
        #expect(series.count == 1)
        let rollup = try #require(series.first)
        let width = resolution.milliseconds
        let starts = expected.keys.filter { $0 >= RollupSeries.bucket(from, width) && $0 <= RollupSeries.bucket(to, width) }.sorted()
        #expect(rollup.timestamps == starts)
        for (index, start) in rollup.timestamps.enumerated() {
            let bucket = try #require(expected[start])
            #expect(rollup.min[index] == bucket.min && rollup.max[index] == bucket.max)
            #expect(abs(rollup.sum[index] - bucket.sum) <= 1e-9 * abs(bucket.sum))
            #expect(rollup.count[index] == bucket.count && rollup.last[index] == bucket.last)
        }
        // The protocol's default (computed from select) gives the same buckets.
        let fallback = try await DefaultRollups(store: store).selectRollups(
            [m(#"__name__="load""#)], from: from, to: to, resolution: resolution)
        #expect(fallback.map(\.timestamps) == [rollup.timestamps])
        #expect(fallback.map(\.count) == [rollup.count])
    }

    @Test func rollupsOfHeadAndChunksAddUpAndFollowRetention() async throws {
        let store = try SQLiteStore.inMemory(chunks: ChunkOptions(samplesPerChunk: 7))
        var appender = store.appender()
        // 30 samples a minute apart: 4 chunks stored, 2 samples in the head.
        for minute in 0..<30 { appender.append(gauge, timestamp: Int64(minute) * 60_000, value: Double(minute)) }
        try await appender.commit()
        // Buckets are right-closed: minute 0 is alone in (-5m, 0], minutes 1-5 in (0, 5m], …
        var rollup = try await store.selectRollups([], from: 0, to: .max, resolution: .fiveMinutes)
        #expect(rollup.map(\.timestamps) == [(0...6).map { Int64($0) * 300_000 }])
        #expect(rollup.map(\.count) == [[1, 5, 5, 5, 5, 5, 4]])
        #expect(rollup.map(\.sum) == [[0, 15, 40, 65, 90, 115, 110]])
        #expect(rollup.map(\.last) == [[0, 5, 10, 15, 20, 25, 29]])
        let hour = try await store.selectRollups([], from: 0, to: .max, resolution: .oneHour)
        #expect(hour.map(\.timestamps) == [[0, 3_600_000]])
        #expect(hour.map(\.min) == [[0, 1]] && hour.map(\.max) == [[0, 29]] && hour.map(\.count) == [[1, 29]])
        try await store.deleteOlderThan(samples: 12 * 60_000, windows: nil, anomalies: nil)
        rollup = try await store.selectRollups([], from: 0, to: .max, resolution: .fiveMinutes)
        #expect(rollup.map(\.timestamps) == [(3...6).map { Int64($0) * 300_000 }])
        #expect(rollup.map(\.count) == [[4, 5, 5, 4]])
    }

    @Test func aBucketHoldsTheSamplesAfterThePreviousLabelUpToItsOwn() {
        #expect(RollupSeries.bucket(0, 300_000) == 0)
        #expect(RollupSeries.bucket(1, 300_000) == 300_000)
        #expect(RollupSeries.bucket(300_000, 300_000) == 300_000)
        #expect(RollupSeries.bucket(-1, 300_000) == 0)
        #expect(RollupSeries.bucket(-300_000, 300_000) == -300_000)
        #expect(RollupSeries.bucket(-300_001, 300_000) == -300_000)
        #expect(RollupSeries.bucket(.max, 300_000) == .max && RollupSeries.bucket(.min, 300_000) <= .min + 300_000)
    }

    @Test func aFlatSeriesCostsAboutABitPerValuePerBucket() throws {
        // 240 samples 15 s apart (12 buckets of 20) of one value, as most node-exporter series are.
        let timestamps = (0..<240).map { 1_700_000_000_000 + Int64($0) * 15_000 + 1 }
        let data = RollupCodec.encode(timestamps: timestamps, values: Array(repeating: 6_553_600, count: 240))
        #expect(data.count <= 32)  // 13 buckets (the first and the last partial): 0.13 bytes per sample
        var series = RollupSeries(labels: Labels(), resolution: .fiveMinutes)
        try RollupCodec.decode(data, minTimestamp: timestamps[0], into: &series)
        let expected = RollupSeries(StoredSeries(labels: Labels(), timestamps: timestamps, values: Array(repeating: 6_553_600, count: 240)), resolution: .fiveMinutes)
        #expect(series == expected)
    }

    @Test func rollupsRoundTripGapsVaryingCountsAndSpecialValues() throws {
        var timestamps: [Int64] = []
        var values: [Double] = []
        var generator = SplitMix(seed: 11)
        var t: Int64 = -7_200_000
        for index in 0..<500 {
            t += index % 50 == 49 ? 3_000_000 : 1 + Int64(generator.next() % 40_000)
            timestamps.append(t)
            let special = [Double.nan, .infinity, -0.0, StaleMarker.value][(index / 97) % 4]
            values.append(index % 97 == 0 ? special : Double(generator.next() % 1_000) / 7)
        }
        let data = RollupCodec.encode(timestamps: timestamps, values: values)
        for resolution in [Resolution.fiveMinutes, .oneHour] {
            var series = RollupSeries(labels: Labels(), resolution: resolution)
            try RollupCodec.decode(data, minTimestamp: timestamps[0], into: &series)
            var direct = RollupSeries(StoredSeries(labels: Labels(), timestamps: timestamps, values: values), resolution: resolution)
            // Merging 5-minute buckets into an hour adds the sums in another order.
            if resolution == .oneHour {
                #expect(zip(series.sum, direct.sum).allSatisfy { $0 == $1 || $0.isNaN && $1.isNaN || abs($0 - $1) <= 1e-9 * Swift.max(1, abs($1)) })
                direct.sum = series.sum
            }
            #expect(series == direct)
        }
    }

    @Test func rollupsOfAnotherFormatAreReportedCorrupt() {
        var series = RollupSeries(labels: Labels(), resolution: .fiveMinutes)
        #expect(throws: StoreError.self) { try RollupCodec.decode([0, 3, 0], minTimestamp: 0, into: &series) }
        var truncated = RollupCodec.encode(timestamps: [1, 400_000, 900_000], values: [1, 2, 3])
        truncated.removeLast(3)
        #expect(throws: StoreError.self) { try RollupCodec.decode(truncated, minTimestamp: 1, into: &series) }
    }

    @Test func theSuggestedResolutionFitsWindowAndStep() {
        #expect(Resolution.suggested(window: 7 * 86_400_000, step: 3_600_000) == .oneHour)
        #expect(Resolution.suggested(window: 86_400_000, step: 300_000) == .fiveMinutes)
        #expect(Resolution.suggested(window: 3_600_000, step: 3_600_000) == .fiveMinutes)
        #expect(Resolution.suggested(window: 30 * 60_000, step: 3_600_000) == .raw)
        #expect(Resolution.suggested(window: 86_400_000, step: 15_000) == .raw)
    }
}

/// A querier that only forwards `select`, to exercise `Querier.selectRollups`'s default.
struct DefaultRollups: Querier {
    let store: SQLiteStore
    func select(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [StoredSeries] {
        try await store.select(matchers, from: from, to: to)
    }
    func series(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [Labels] { [] }
    func labelNames(_ matchers: [Matcher]) async throws(StoreError) -> [String] { [] }
    func labelValues(_ name: String, matching matchers: [Matcher]) async throws(StoreError) -> [String] { [] }
    func featureRows(table: String, from: Int64, to: Int64) async throws(StoreError) -> [WindowRow] { [] }
    func anomalies(from: Int64, to: Int64, limit: Int) async throws(StoreError) -> [AnomalyRecord] { [] }
}
