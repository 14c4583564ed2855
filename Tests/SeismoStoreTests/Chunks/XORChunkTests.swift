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
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
