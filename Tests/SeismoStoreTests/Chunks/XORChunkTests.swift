import SeismoCore
import Testing

@testable import SeismoStore

@Suite("XOR chunk codec")
struct XORChunkTests {
    /// Encodes and decodes, expecting the same timestamps and the same value bits.
    func roundTrip(_ timestamps: [Int64], _ values: [Double], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let chunk = XORChunkEncoder.encode(timestamps, values)
        let decoded = try XORChunk.decode(chunk)
        #expect(decoded.timestamps == timestamps, sourceLocation: sourceLocation)
        #expect(decoded.values.map(\.bitPattern) == values.map(\.bitPattern), sourceLocation: sourceLocation)
    }

    @Test func bitWriterAndReaderAgreeOnEveryWidth() throws {
        var writer = BitWriter()
        var generator = SplitMix(seed: 7)
        var written: [(UInt64, Int)] = []
        for _ in 0..<2_000 {
            let width = Int(generator.next() % 65)
            let value = generator.next() & lowMask(width)
            writer.write(value, bits: width)
            written.append((value, width))
        }
        writer.writeVarint(-123_456_789)
        writer.writeUVarint(.max)
        var reader = BitReader(writer.finished)
        for (value, width) in written { #expect(try reader.read(bits: width) == value) }
        #expect(try reader.readVarint() == -123_456_789)
        #expect(try reader.readUVarint() == .max)
    }

    @Test func specialValuesRoundTripBitExactly() throws {
        let values: [Double] = [
            1, .nan, StaleMarker.value, .infinity, -.infinity, -0.0, 0.0, .greatestFiniteMagnitude,
            .leastNonzeroMagnitude, -.leastNormalMagnitude, Double(bitPattern: 0x7FF8_0000_DEAD_BEEF), 42, 42,
            StaleMarker.value, StaleMarker.value, -0.0,
        ]
        try roundTrip(values.indices.map { Int64($0) * 15_000 }, values)
        let decoded = try XORChunk.decode(XORChunkEncoder.encode([5, 6, 7], [StaleMarker.value, .nan, 1]))
        #expect(StaleMarker.isStale(decoded.values[0]) && !StaleMarker.isStale(decoded.values[1]))
    }

    @Test func irregularIntervalsAndBigJumpsRoundTrip() throws {
        var generator = SplitMix(seed: 11)
        var timestamps: [Int64] = [-9_000_000_000_000]
        let steps: [Int64] = [1, 15_000, 14_999, 15_003, 127, 128, -1, 8_191, 8_192, 600_000, 1 << 31, 1 << 40]
        for index in 0..<500 {
            let step = index % 3 == 0 ? steps[index % steps.count] : Int64(generator.next() % 1_000_000) + 1
            timestamps.append(timestamps.last! + max(1, step))
        }
        timestamps.append(Int64.max / 2)
        let values = timestamps.indices.map { index -> Double in
            switch index % 5 {
            case 0: Double(index)
            case 1: Double(bitPattern: generator.next())
            case 2: 1e300 * Double(index)
            case 3: -Double(index) / 7
            default: 0.1 * Double(index)
            }
        }
        try roundTrip(timestamps, values)
    }

    @Test func randomSeriesRoundTrip() throws {
        var generator = SplitMix(seed: 3)
        for length in [0, 1, 2, 3, 119, 120, 121, 1_000] {
            var t: Int64 = Int64(generator.next() % 1_000_000_000_000)
            var timestamps: [Int64] = []
            var values: [Double] = []
            var value = 0.0
            for _ in 0..<length {
                t += 1 + Int64(generator.next() % 30_000)
                value += Double(generator.next() % 1_000) / 100
                timestamps.append(t)
                values.append(generator.next() % 17 == 0 ? .nan : value)
            }
            try roundTrip(timestamps, values)
        }
    }

    @Test func regularCountersTakeLittleSpace() throws {
        let timestamps = (0..<120).map { Int64($0) * 15_000 + 1_700_000_000_000 }
        let constant = XORChunkEncoder.encode(timestamps, Array(repeating: 1, count: 120))
        // 120 regular timestamps and one repeated value: about 2 bits per sample after the first.
        #expect(constant.count < 50)
        let counter = XORChunkEncoder.encode(timestamps, timestamps.indices.map { Double($0 * 4_096) })
        #expect(counter.count < 120 * 3)
    }

    @Test func truncatedOrForeignChunksAreCorruptNotACrash() throws {
        let chunk = XORChunkEncoder.encode((0..<50).map { Int64($0) * 1_000 }, (0..<50).map { Double($0) * 1.1 })
        for cut in [0, 1, 2, 10, chunk.count - 1] {
            var timestamps: [Int64] = [1]
            var values: [Double] = [1]
            #expect(throws: StoreError.self) { try XORChunk.decode(Array(chunk.prefix(cut)), into: &timestamps, &values) }
            #expect(timestamps == [1] && values == [1])
        }
        var foreign = chunk
        foreign[0] = 9
        #expect(throws: StoreError.self) { try XORChunk.decode(foreign) }
    }
}

/// A small deterministic generator (SplitMix64) for property tests.
typealias SplitMix = NodeExporterData.Generator

@Suite("Adaptive chunk codec")
struct AdaptiveChunkTests {
    func roundTrip(_ timestamps: [Int64], _ values: [Double], sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        let chunk = AdaptiveChunk.encode(timestamps, values)
        let decoded = try Chunk.decode(chunk)
        #expect(decoded.timestamps == timestamps, sourceLocation: sourceLocation)
        #expect(decoded.values.map(\.bitPattern) == values.map(\.bitPattern), sourceLocation: sourceLocation)
        return chunk
    }

    @Test func specialValuesTakeTheXORModeAndRoundTrip() throws {
        let values: [Double] = [1, .nan, StaleMarker.value, .infinity, -.infinity, -0.0, 0, 1e300, .leastNonzeroMagnitude, 2.5]
        let chunk = try roundTrip(values.indices.map { Int64($0) * 15_000 + 3 }, values)
        #expect(chunk[0] == AdaptiveChunk.encodingByte)
        // -0.0 alone must not become +0.0 through the decimal mode.
        _ = try roundTrip([1, 2, 3], [0, -0.0, 0])
        _ = try roundTrip([1, 2], [-0.0, -0.0])
    }

    @Test func decimalValuesRoundTripBitExactly() throws {
        var generator = SplitMix(seed: 9)
        for exponent in 0...6 {
            var value = Double(generator.next() % 1_000_000)
            var timestamps: [Int64] = []
            var values: [Double] = []
            var t: Int64 = 1_700_000_000_000
            for _ in 0..<240 {
                t += 15_000 + Int64(generator.next() % 5) - 2
                let scale = AdaptiveChunk.powersOfTen[exponent]
                value = ((value + Double(generator.next() % 100_000) / scale) * scale).rounded() / scale
                timestamps.append(t)
                values.append(generator.next() % 3 == 0 ? -value : value)
            }
            _ = try roundTrip(timestamps, values)
        }
        // Values no decimal exponent reproduces, and integers near 2^53.
        _ = try roundTrip([1, 2, 3, 4], [0.1 + 0.2, 1.0 / 3, 2.0 / 3, 1e-17])
        _ = try roundTrip([1, 2, 3], [9_007_199_254_740_991, -9_007_199_254_740_991, 9_007_199_254_740_992])
    }

    @Test func everyLengthAndIrregularTimestampsRoundTrip() throws {
        var generator = SplitMix(seed: 13)
        for length in [0, 1, 2, 3, 4, 120, 241] {
            var t = -Int64(generator.next() % 1_000_000_000)
            var timestamps: [Int64] = []
            for index in 0..<length {
                t += index % 50 == 7 ? 1 << 40 : 1 + Int64(generator.next() % 60_000)
                timestamps.append(t)
            }
            _ = try roundTrip(timestamps, timestamps.map { Double($0 % 1_000) / 4 })
            _ = try roundTrip(timestamps, timestamps.map { _ in Double(bitPattern: generator.next()) })
        }
    }

    @Test func neverLargerThanXORAndMuchSmallerOnDecimalCounters() throws {
        let timestamps = (0..<240).map { Int64($0) * 15_000 + Int64(($0 * 7) % 5) }
        var value = 12_345.67
        let counter = timestamps.indices.map { index -> Double in
            value = ((value + 11.7 + Double((index * 37) % 50) / 100) * 100).rounded() / 100
            return value
        }
        let xor = XORChunkEncoder.encode(timestamps, counter)
        let adaptive = try roundTrip(timestamps, counter)
        #expect(adaptive.count * 3 < xor.count, "\(adaptive.count) vs \(xor.count) bytes")
        var generator = SplitMix(seed: 1)
        let noise = timestamps.map { _ in Double(generator.next() >> 11) / Double(1 << 53) }
        #expect(try roundTrip(timestamps, noise).count <= XORChunkEncoder.encode(timestamps, noise).count)
    }

    @Test func truncatedChunksAreCorrupt() throws {
        let chunk = AdaptiveChunk.encode((0..<50).map { Int64($0) * 1_000 }, (0..<50).map { Double($0) * 1.5 })
        for cut in [1, 2, 5, chunk.count - 1] {
            var timestamps: [Int64] = []
            var values: [Double] = []
            #expect(throws: StoreError.self) { try Chunk.decode(Array(chunk.prefix(cut)), into: &timestamps, &values) }
            #expect(timestamps.isEmpty && values.isEmpty)
        }
    }
}
