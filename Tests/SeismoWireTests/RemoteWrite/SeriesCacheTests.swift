import SeismoCore
import Testing

@testable import SeismoWire

@Suite("Remote write series cache")
struct SeriesCacheTests {
    static func series(_ pairs: [(String, String)], samples: [(Int64, Double)] = [(1, 1)]) -> [UInt8] {
        RemoteWriteTests.rawSeries(pairs, samples: samples)
    }

    /// A request of `count` distinct, valid series (`instance` tells them apart).
    static func distinct(_ count: Int, from first: Int = 0, timestamp: Int64 = 1) -> [UInt8] {
        var bytes: [UInt8] = []
        for i in first..<first + count {
            bytes += series(
                [("__name__", "http_requests_total"), ("instance", "10.0.\(i / 256).\(i % 256):9100"), ("job", "api")],
                samples: [(timestamp, Double(i))])
        }
        return bytes
    }

    /// A request mixing valid series (sorted and not) with every kind of invalid one.
    static var mixed: [UInt8] {
        series([("__name__", "up"), ("job", "a")])
            + series([("job", "b"), ("__name__", "up"), ("empty", "")], samples: [(2, 2), (3, 3)])
            + series([("__name__", "up"), ("bad-name", "x")])
            + series([("__name__", "up"), ("job", "a"), ("job", "b")])
            + series([("job", "no name")])
            + series([("__name__", "1bad")])
            + series([("__name__", "up"), ("a", "1"), ("b", "2"), ("c", "3"), ("d", "4"), ("e", "5"), ("f", "6")])
            + series([("__name__", "up"), ("job", "without samples")], samples: [])
            + series([("__name__", "up"), ("job", "a")], samples: [(9, 9)])
            + series([("__name__", "up"), ("city", "Zürich")])
            + series([("__name__", "up"), ("long", String(repeating: "v", count: 40))])
    }

    static let limits = LabelLimits(maxLabels: 6, maxNameBytes: 10, maxValueBytes: 32)

    @Test("cold and warm decoding give what decoding without a cache gives, rejections and messages included")
    func equivalence() throws {
        let cache = RemoteWriteSeriesCache(seed: 1)
        let plain = try RemoteWrite.decode(Self.mixed, limits: Self.limits)
        #expect(plain.rejectedSeries == 6)
        for pass in 0..<3 {
            let cached = try RemoteWrite.decode(Self.mixed, limits: Self.limits, cache: cache)
            #expect(cached == plain, "pass \(pass)")
            for series in cached.series {
                #expect(series.prepared?.labels == series.labels, "pass \(pass)")
                #expect(series.prepared?.stableHash == series.labels.stableHash, "pass \(pass)")
            }
        }
        // Four valid series with three distinct label runs: stored once, then found twice.
        let statistics = cache.statistics
        #expect(statistics.count == 3)
        #expect(statistics.hits == 2 * 4)
    }

    @Test("records from cached series are byte for byte those from uncached ones")
    func recordsAgree() throws {
        let cache = RemoteWriteSeriesCache(seed: 2)
        let bytes = Self.distinct(300) + Self.mixed
        _ = try RemoteWrite.decode(bytes, limits: Self.limits, cache: cache)
        let warm = try RemoteWrite.decode(bytes, limits: Self.limits, cache: cache)
        let plain = try RemoteWrite.decode(bytes, limits: Self.limits)
        #expect(warm.series.allSatisfy { $0.prepared != nil })
        #expect(SignalCodec.encode(SignalBatch(series: warm.series)) == SignalCodec.encode(SignalBatch(series: plain.series)))
        for batcher in [
            SignalBatcher(partitionCount: 4, maxSamplesPerRecord: 7), SignalBatcher(partitionCount: 3, keyLabels: ["job"]),
        ] {
            #expect(batcher.records(for: SignalBatch(series: warm.series)) == batcher.records(for: SignalBatch(series: plain.series)))
        }
        // Series prepared by two caches (different symbol generations) in one batch.
        let other = RemoteWriteSeriesCache(seed: 3)
        _ = try RemoteWrite.decode(bytes, limits: Self.limits, cache: other)
        let fromOther = try RemoteWrite.decode(bytes, limits: Self.limits, cache: other)
        #expect(
            SignalCodec.encode(SignalBatch(series: warm.series + fromOther.series))
                == SignalCodec.encode(SignalBatch(series: plain.series + plain.series)))
    }

    @Test("changing a series' labels drops what was prepared for the old ones")
    func changedLabels() throws {
        let cache = RemoteWriteSeriesCache(seed: 4)
        _ = try RemoteWrite.decode(Self.distinct(2), cache: cache)
        var series = try #require(try RemoteWrite.decode(Self.distinct(2), cache: cache).series.first)
        #expect(series.prepared != nil)
        series.labels = ["__name__": "renamed"]
        #expect(series.prepared == nil)
        let batcher = SignalBatcher(partitionCount: 8)
        #expect(batcher.records(for: SignalBatch(series: [series])).first?.key == RecordKey.series(series.labels))
    }

    @Test("holds at most its capacity of series, clearing itself when full")
    func capacityBound() throws {
        let cache = RemoteWriteSeriesCache(capacity: 100, seed: 5)
        for request in 0..<10 {
            let bytes = Self.distinct(70, from: request * 70)
            let cached = try RemoteWrite.decode(bytes, cache: cache)
            let plain = try RemoteWrite.decode(bytes)
            #expect(cached == plain)
            #expect(cache.statistics.count <= 100)
        }
        #expect(cache.statistics.clears >= 6)
        #expect(cache.statistics.hits == 0)
        // A stable set that fits is found again after a clear.
        _ = try RemoteWrite.decode(Self.distinct(50, from: 10_000), cache: cache)
        let hits = cache.statistics.hits
        _ = try RemoteWrite.decode(Self.distinct(50, from: 10_000, timestamp: 2), cache: cache)
        #expect(cache.statistics.hits == hits + 50)
    }

    @Test("holds at most its byte capacity; a series larger than all of it is decoded but not stored")
    func byteBound() throws {
        let cache = RemoteWriteSeriesCache(capacity: 1_000_000, byteCapacity: 8_000, seed: 6)
        for request in 0..<20 {
            _ = try RemoteWrite.decode(Self.distinct(25, from: request * 25), cache: cache)
            #expect(cache.statistics.byteCount <= 8_000)
            #expect(cache.statistics.count > 0)
        }
        cache.removeAll()
        let huge = Self.series([("__name__", "big"), ("value", String(repeating: "x", count: 9_000))])
        let twice = try (0..<2).map { _ in try RemoteWrite.decode(huge, cache: cache) }
        let plain = try RemoteWrite.decode(huge)
        #expect(twice[1] == plain)
        #expect(twice[1].series.first?.prepared == nil)
        #expect(cache.statistics.count == 0)
    }

    @Test("keys that share one hash are told apart by their bytes, and cost a bounded probe run")
    func collidingHashes() throws {
        let cache = RemoteWriteSeriesCache(seed: 7)
        let limits = LabelLimits.default
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for i in 0..<200 {
            let start = bytes.count
            bytes += Array("key \(i)".utf8)
            ranges.append(start..<bytes.count)
        }
        try bytes.withUnsafeBufferPointer { buffer in
            let probes = ranges.map { RemoteWriteSeriesCache.Probe(bytes: $0, hash: 42) }
            let insertions = try ranges.indices.map { i in
                RemoteWriteSeriesCache.Insertion(probe: probes[i], labels: try Labels(validating: ["__name__": "m", "i": "\(i)"]))
            }
            #expect(cache.lookup(probes, in: buffer, limits: limits).allSatisfy { $0 == nil })
            let stored = cache.insert(insertions, in: buffer, limits: limits)
            #expect(stored.compactMap { $0 }.count == RemoteWriteSeriesCache.maxProbes)
            #expect(cache.statistics.count == RemoteWriteSeriesCache.maxProbes)
            for (i, found) in cache.lookup(probes, in: buffer, limits: limits).enumerated() {
                if let found { #expect(found.labels["i"] == "\(i)") }
            }
            #expect(cache.lookup(probes, in: buffer, limits: limits).compactMap { $0 }.count == RemoteWriteSeriesCache.maxProbes)
        }
    }

    @Test("entries hold only for the limits they were validated under")
    func limitsChange() throws {
        let cache = RemoteWriteSeriesCache(seed: 8)
        let wide = Self.series([("__name__", "m"), ("a", "1"), ("b", "2"), ("c", "3")])
        #expect(try RemoteWrite.decode(wide, cache: cache).series.count == 1)
        #expect(try RemoteWrite.decode(wide, cache: cache).series.count == 1)
        let strict = try RemoteWrite.decode(wide, limits: LabelLimits(maxLabels: 2), cache: cache)
        #expect(strict.series.isEmpty && strict.rejectedSeries == 1)
        #expect(strict.firstRejection == "more than 2 labels")
        #expect(cache.statistics.clears == 1)
    }

    @Test("a series whose labels are not one run of fields is decoded the same and not stored")
    func interleavedLabels() throws {
        var inner = ProtoWriter()
        var piece = ProtoWriter()
        piece.bytesField(1, Array("__name__".utf8))
        piece.bytesField(2, Array("m".utf8))
        inner.bytesField(1, piece.bytes)
        piece.removeAll()
        piece.fixed64Field(1, Double(1).bitPattern)
        piece.varintField(2, 5)
        inner.bytesField(2, piece.bytes)
        piece.removeAll()
        piece.bytesField(1, Array("job".utf8))
        piece.bytesField(2, Array("x".utf8))
        inner.bytesField(1, piece.bytes)
        var out = ProtoWriter()
        out.bytesField(1, inner.bytes)
        let cache = RemoteWriteSeriesCache(seed: 9)
        let decoded = try RemoteWrite.decode(out.bytes, cache: cache)
        let plain = try RemoteWrite.decode(out.bytes)
        #expect(decoded == plain)
        #expect(decoded.series.first?.labels == ["__name__": "m", "job": "x"])
        #expect(cache.statistics.count == 0)
    }

    @Test("truncated requests fail as they do without a cache")
    func truncated() {
        let cache = RemoteWriteSeriesCache(seed: 10)
        let bytes = Self.distinct(3)
        _ = try? RemoteWrite.decode(bytes, cache: cache)
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            let plain = Result { () throws(WireError) in try RemoteWrite.decode(prefix) }
            let cached = Result { () throws(WireError) in try RemoteWrite.decode(prefix, cache: cache) }
            switch (plain, cached) {
            case (.success(let a), .success(let b)): #expect(a == b, "prefix of \(length)")
            case (.failure, .failure): break
            default: Issue.record("prefix of \(length): \(plain) vs \(cached)")
            }
        }
    }
}
