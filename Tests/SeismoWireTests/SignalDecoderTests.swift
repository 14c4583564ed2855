import SeismoCore
import SeismoTesting
import SwiftProtobuf
import Testing

@testable import SeismoWire

@Suite("SignalDecoder")
struct SignalDecoderTests {
    /// A decoder's answer: the batch, or the error code.
    private enum Outcome: Equatable {
        case batch(SignalBatch)
        case failure(WireError.Code)
    }

    /// The stateless decoder's answer.
    private func reference(_ bytes: [UInt8]) -> Outcome {
        do throws(WireError) { return .batch(try SignalCodec.decode(bytes)) } catch { return .failure(error.code) }
    }

    private func decode(_ decoder: inout SignalDecoder, _ bytes: [UInt8]) -> Outcome {
        do throws(WireError) { return .batch(try decoder.decode(bytes)) } catch { return .failure(error.code) }
    }

    private func message(symbols: [String], series: [(labels: [UInt32], values: [Double])]) throws -> [UInt8] {
        var message = Seismo_Wire_V1_SignalBatch()
        message.schemaVersion = 1
        message.symbols = symbols
        message.series = series.map { one in
            var series = Seismo_Wire_V1_Series()
            series.labels = one.labels
            series.timestamps = one.values.indices.map { Int64($0) }
            series.values = one.values
            return series
        }
        return try message.serializedBytes()
    }

    // MARK: Hits

    @Test("a repeated record hits for every series and decodes equal to SignalCodec.decode")
    func hits() throws {
        let batch = SignalGenerator(seed: 4).batch(series: 50, points: 3)
        let bytes = SignalCodec.encode(batch)
        var decoder = SignalDecoder()
        let first = try decoder.decode(bytes)
        #expect(decoder.statistics.misses == 50)
        #expect(decoder.statistics.hits == 0)
        #expect(decoder.statistics.entries == 50)
        let second = try decoder.decode(bytes)
        #expect(decoder.statistics.hits == 50)
        #expect(decoder.statistics.misses == 50)
        #expect(first == batch)
        #expect(second == batch)
        #expect(second.series.map(\.labels) == batch.series.map(\.labels))
    }

    @Test("a hit needs the same strings, not the same symbol numbers: a reordered string table still hits")
    func hitsAcrossTables() throws {
        let one = try message(symbols: ["", "__name__", "up", "job", "api"], series: [([1, 2, 3, 4], [1])])
        let two = try message(symbols: ["", "job", "api", "__name__", "up", "unused"], series: [([3, 4, 1, 2], [2])])
        var decoder = SignalDecoder()
        let first = try decoder.decode(one)
        let second = try decoder.decode(two)
        #expect(decoder.statistics.hits == 1)
        #expect(first.series[0].labels == ["__name__": "up", "job": "api"])
        #expect(second.series[0].labels == first.series[0].labels)
        #expect(Array(second.series[0].values) == [2])
    }

    @Test("1,000 random records, decoded in a stream, equal SignalCodec.decode record by record")
    func randomStream() {
        var signals = RandomSignals(seed: 11)
        let payloads = (0..<40).map { _ in SignalCodec.encode(signals.batch()) }
        var decoder = SignalDecoder()
        var random = SeededRandom(seed: 12)
        for _ in 0..<1_000 {
            let bytes = payloads[Int.random(in: 0..<payloads.count, using: &random)]
            #expect(decode(&decoder, bytes) == reference(bytes))
        }
        #expect(decoder.statistics.hits > 0)
    }

    // MARK: No collisions

    @Test("label sets whose concatenated strings are equal stay apart")
    func separators() throws {
        // "a"+"bc" and "ab"+"c"; "x"+"" and "" + "x" would be equal without separators.
        let symbols = ["", "__name__", "m", "a", "bc", "ab", "c"]
        let bytes = try message(symbols: symbols, series: [([1, 2, 3, 4], [1]), ([1, 2, 5, 6], [2])])
        var decoder = SignalDecoder()
        for _ in 0..<3 {
            let batch = try decoder.decode(bytes)
            #expect(batch.series[0].labels == ["__name__": "m", "a": "bc"])
            #expect(batch.series[1].labels == ["__name__": "m", "ab": "c"])
        }
        #expect(decoder.statistics.entries == 2)
    }

    @Test("NFC and NFD spellings of a value are different label sets")
    func canonicalEquivalents() throws {
        let bytes = try message(
            symbols: ["", "__name__", "m", "city", "Z\u{FC}rich", "Zu\u{308}rich"],
            series: [([1, 2, 3, 4], [1]), ([1, 2, 3, 5], [2])])
        var decoder = SignalDecoder()
        for _ in 0..<2 {
            let batch = try decoder.decode(bytes)
            #expect(batch.series[0].labels["city"].map { Array($0.utf8) } == Array("Z\u{FC}rich".utf8))
            #expect(batch.series[1].labels["city"].map { Array($0.utf8) } == Array("Zu\u{308}rich".utf8))
        }
        #expect(decoder.statistics.entries == 2)
    }

    @Test("label sets with the same hash are told apart by their string ids")
    func forcedCollision() {
        let ab: [Int32] = [1, 2]
        let ac: [Int32] = [1, 3]
        var cache = LabelCache(capacity: 10, byteCapacity: 1_000, seed: 1)
        ab.withUnsafeBufferPointer { ab in
            ac.withUnsafeBufferPointer { ac in
                let abLabels: Labels = ["a": "b"]
                let acLabels: Labels = ["a": "c"]
                cache.insert(abLabels, hash: 42, key: ab)
                #expect(cache.find(hash: 42, key: ac) == nil)
                cache.insert(acLabels, hash: 42, key: ac)
                #expect(cache.find(hash: 42, key: ab) == abLabels)
                #expect(cache.find(hash: 42, key: ac) == acLabels)
                #expect(cache.count == 2)
            }
        }
    }

    @Test("strings with the same hash are told apart by their bytes")
    func forcedStringCollision() {
        let payload: [UInt8] = Array("abcab".utf8)
        var cache = LabelCache(capacity: 10, byteCapacity: 1_000, seed: 1)
        payload.withUnsafeBufferPointer { payload in
            let ab = UnsafeBufferPointer(rebasing: payload[0..<2])
            let bc = UnsafeBufferPointer(rebasing: payload[1..<3])
            let ab2 = UnsafeBufferPointer(rebasing: payload[3..<5])
            guard case .inserted(let first) = cache.intern(ab, hash: 7) else { Issue.record("not inserted"); return }
            guard case .inserted(let second) = cache.intern(bc, hash: 7) else { Issue.record("not inserted"); return }
            #expect(first != second)
            guard case .found(let again) = cache.intern(ab2, hash: 7) else { Issue.record("not found"); return }
            #expect(again == first)
            #expect(cache.strings == ["ab", "bc"])
        }
    }

    // MARK: Repeated string tables and field order

    @Test("records that repeat the previous string table (with other series, extra symbols, or a table prefix) decode like SignalCodec.decode")
    func repeatedTables() throws {
        let symbols = ["", "__name__", "up", "job", "api", "node", "ünïcode"]
        let records = [
            try message(symbols: symbols, series: [([1, 2, 3, 4], [1]), ([1, 2, 3, 6], [2])]),
            try message(symbols: symbols, series: [([1, 2, 3, 5], [3])]),
            try message(symbols: symbols + ["extra"], series: [([1, 2, 3, 7], [4]), ([1, 2, 3, 6], [5])]),
            try message(symbols: symbols + ["extra"], series: [([1, 2, 3, 7], [6])]),
            try message(symbols: Array(symbols.prefix(5)), series: [([1, 2, 3, 4], [7])]),
            try message(symbols: symbols, series: [([1, 2, 3, 9], [8])]),
            try message(symbols: symbols, series: [([3, 4, 1, 2], [9])]),
            try message(symbols: symbols, series: [([1, 2, 3, 4], [10])]),
            // Same table, same position, references now invalid: duplicate name, odd count, out of range.
            try message(symbols: symbols, series: [([1, 2, 1, 2], [11])]),
            try message(symbols: symbols, series: [([1, 2, 3], [12])]),
            try message(symbols: symbols, series: [([1, 2, 3, 40], [13])]),
            try message(symbols: symbols, series: [([1, 2, 3, 4], [14])]),
        ]
        var decoder = SignalDecoder()
        for _ in 0..<3 {
            for bytes in records { #expect(decode(&decoder, bytes) == reference(bytes)) }
        }
        #expect(decoder.statistics.hits > 0)
        // A repeated table after a clear maps to fresh string ids.
        decoder.removeAllCachedLabels()
        for bytes in records { #expect(decode(&decoder, bytes) == reference(bytes)) }
    }

    @Test("a payload whose version is not first, or whose symbols follow series, decodes as protobuf merges it")
    func otherFieldOrders() throws {
        let batch = SignalGenerator(seed: 5).batch(series: 20, points: 3)
        let bytes = SignalCodec.encode(batch)
        #expect(Array(bytes.prefix(2)) == [0x08, 0x01])
        let versionLast = Array(bytes.dropFirst(2)) + [0x08, 0x01]
        var decoder = SignalDecoder()
        for _ in 0..<2 {
            #expect(try decoder.decode(versionLast) == batch)
            #expect(try SignalCodec.decode(versionLast) == batch)
        }
        // Two messages concatenated are one merged message: the second table follows the
        // first one's series.
        let other = SignalCodec.encode(SignalGenerator(seed: 6).batch(series: 5, points: 1))
        let merged = bytes + other
        for _ in 0..<2 { #expect(decode(&decoder, merged) == reference(merged)) }
        let expected = try Seismo_Wire_V1_SignalBatch(serializedBytes: merged)
        #expect(expected.symbols.count > 0)
        if case .batch(let decoded) = reference(merged) {
            #expect(decoded.series.count == expected.series.count)
        } else {
            Issue.record("the merged payload did not decode")
        }
    }

    @Test("a record that repeats the previous table but is damaged after it throws SignalCodec.decode's error")
    func damagedAfterRepeatedTable() throws {
        let batch = SignalGenerator(seed: 7).batch(series: 30, points: 1)
        let bytes = SignalCodec.encode(batch)
        var decoder = SignalDecoder()
        _ = try decoder.decode(bytes)
        for cut in stride(from: bytes.count - 1, to: bytes.count / 2, by: -7) {
            let truncated = Array(bytes.prefix(cut))
            #expect(decode(&decoder, truncated) == reference(truncated))
            var flipped = bytes
            flipped[cut] ^= 0x5A
            #expect(decode(&decoder, flipped) == reference(flipped))
            #expect(try decoder.decode(bytes) == batch)
        }
    }

    // MARK: Bounds

    @Test("the cache never holds more than cacheCapacity label sets; when full it clears and refills")
    func capacityBound() throws {
        let generator = SignalGenerator(seed: 9)
        let records = (0..<8).map { record in
            SignalCodec.encode(
                SignalBatch(series: (0..<25).map { index in
                    SeriesSamples(labels: generator.labels(series: record * 25 + index), timestamps: [1], values: [1])
                }))
        }
        var decoder = SignalDecoder(cacheCapacity: 30)
        for _ in 0..<3 {
            for bytes in records {
                #expect(decode(&decoder, bytes) == reference(bytes))
                #expect(decoder.statistics.entries <= 30)
            }
        }
        #expect(decoder.statistics.clears > 0)
        #expect(decoder.cacheCapacity == 30)
    }

    @Test("the cache never holds more than cacheBytes bytes of label text")
    func byteBound() throws {
        let bytes = SignalCodec.encode(SignalGenerator(seed: 2).batch(series: 100, points: 1))
        var decoder = SignalDecoder(cacheBytes: 1_000)
        for _ in 0..<3 {
            #expect(decode(&decoder, bytes) == reference(bytes))
            #expect(decoder.statistics.bytes <= 1_000)
        }
        #expect(decoder.statistics.entries > 0)
        #expect(decoder.statistics.clears > 0)
    }

    @Test("a capacity of 0 caches nothing and still decodes")
    func disabled() throws {
        let bytes = SignalCodec.encode(SignalGenerator(seed: 2).batch(series: 10, points: 2))
        var decoder = SignalDecoder(cacheCapacity: 0)
        for _ in 0..<2 { #expect(decode(&decoder, bytes) == reference(bytes)) }
        #expect(decoder.statistics.entries == 0)
        #expect(decoder.statistics.hits == 0)
    }

    // MARK: Malformed input after hits

    @Test("malformed records whose series would hit still throw, with SignalCodec.decode's error")
    func malformedAfterHit() throws {
        let good = try message(symbols: ["", "__name__", "up", "job", "api"], series: [([1, 2, 3, 4], [1])])
        var decoder = SignalDecoder()
        _ = try decoder.decode(good)
        _ = try decoder.decode(good)
        #expect(decoder.statistics.hits == 1)

        var mismatched = Seismo_Wire_V1_SignalBatch()
        mismatched.schemaVersion = 1
        mismatched.symbols = ["", "__name__", "up", "job", "api"]
        var series = Seismo_Wire_V1_Series()
        series.labels = [1, 2, 3, 4]
        series.timestamps = [1, 2]
        series.values = [1]
        mismatched.series = [series]
        let cases: [(String, [UInt8], WireError.Code)] = [
            ("lengths", try mismatched.serializedBytes(), .mismatchedLengths),
            ("odd refs", try message(symbols: ["", "__name__", "up", "job", "api"], series: [([1, 2, 3, 4, 1], [1])]), .invalidLabels),
            ("ref past the table", try message(symbols: ["", "__name__", "up", "job"], series: [([1, 2, 3, 4], [1])]), .symbolOutOfRange),
            ("truncated", Array(good.dropLast()), .malformed),
        ]
        for (name, bytes, code) in cases {
            #expect(decode(&decoder, bytes) == .failure(code), "\(name)")
            #expect(reference(bytes) == .failure(code), "\(name)")
        }
        // An unused symbol that is not UTF-8, beside series that hit.
        var writer = ProtoWriter()
        writer.varintField(1, 1)
        for symbol in ["", "__name__", "up", "job", "api"] { writer.stringField(3, symbol) }
        writer.bytesField(3, [0x61, 0xFF])
        var body = ProtoWriter()
        body.packedVarints(1, [1, 2, 3, 4])
        body.packedDeltas(2, SampleColumn([1]))
        body.packedDoubles(3, SampleColumn([1.0]))
        writer.messageField(4, body)
        #expect(decode(&decoder, writer.bytes) == .failure(.malformed))
        #expect(reference(writer.bytes) == .failure(.malformed))
        // The cache still works afterwards.
        #expect(decode(&decoder, good) == reference(good))
    }

    @Test("an invalid label set is never cached: it throws every time")
    func invalidNeverCached() throws {
        let bad = try message(symbols: ["", "1bad", "x"], series: [([1, 2], [1])])
        var decoder = SignalDecoder()
        for _ in 0..<3 { #expect(decode(&decoder, bad) == .failure(.invalidLabels)) }
        #expect(decoder.statistics.entries == 0)
    }

    @Test("10,000 mutations of cached records give SignalCodec.decode's result or error; never a trap")
    func mutationsAfterHits() {
        var signals = RandomSignals(seed: 31)
        var random = SeededRandom(seed: 32)
        let payloads = (0..<20).map { _ in SignalCodec.encode(signals.batch()) }
        var decoder = SignalDecoder()
        for bytes in payloads { _ = decode(&decoder, bytes) }
        for round in 0..<10_000 {
            var bytes = payloads[round % payloads.count]
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
                if bytes.isEmpty { break }
            }
            #expect(decode(&decoder, bytes) == reference(bytes))
        }
        #expect(decoder.statistics.hits > 0)
    }
}
