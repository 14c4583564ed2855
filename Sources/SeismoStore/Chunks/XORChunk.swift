/// The chunk encoding of raw samples: delta-of-delta timestamps and XOR-compressed float
/// values, after Gorilla (Pelkonen et al., VLDB 2015) and Prometheus's XOR chunks.
///
/// A chunk is `[encoding: 1 byte = 1][count: uvarint][bits]`, where the bits are, per sample:
/// - timestamps: the first as a zigzag varint, the second as the zigzag varint of its delta,
///   then the delta of deltas `dod` in the first bucket it fits:
///   `0` (dod = 0), `10`+8 bits, `110`+14, `1110`+20, `11110`+32, `11111`+64 (two's complement);
/// - values: the first as its 64 raw bits, then `x = bits XOR previous bits`:
///   `0` when x = 0; `10` + the meaningful bits when they fit the previous window of
///   leading/trailing zeros; otherwise `11` + 5 bits of leading zeros (at most 31) + 6 bits
///   of meaningful-bit count (64 written as 0) + the meaningful bits.
///
/// Values round-trip bit for bit: every NaN payload (Prometheus's stale marker included),
/// ±Inf and -0.0. Timestamps must be strictly increasing; the store sorts and de-duplicates
/// before encoding. The codec is pure: no I/O, no shared state.
struct XORChunkEncoder: Sendable, Hashable {
    static let encodingByte: UInt8 = 1

    private var bits = BitWriter()
    private(set) var count = 0
    private(set) var firstTimestamp: Int64 = 0
    private(set) var lastTimestamp: Int64 = 0
    private var lastDelta: Int64 = 0
    private var valueStream = XORValueWriter()
    var lastBits: UInt64 { valueStream.lastBits }

    init() {}

    /// Encoded bytes (a whole chunk), without the 1 + varint header bytes: for size estimates.
    var bitCount: Int { bits.bitCount }

    /// Appends a sample; `timestamp` must be greater than `lastTimestamp` unless empty.
    mutating func append(_ timestamp: Int64, _ value: Double) {
        let valueBits = value.bitPattern
        switch count {
        case 0:
            bits.writeVarint(timestamp)
            valueStream.writeFirst(valueBits, to: &bits)
            firstTimestamp = timestamp
        case 1:
            lastDelta = timestamp &- lastTimestamp
            bits.writeVarint(lastDelta)
            valueStream.write(valueBits, to: &bits)
        default:
            let delta = timestamp &- lastTimestamp
            let dod = delta &- lastDelta
            lastDelta = delta
            let raw = UInt64(bitPattern: dod)
            if dod == 0 {
                bits.write(0, bits: 1)
            } else if dod >= -128 && dod < 128 {
                bits.write(0b10, bits: 2)
                bits.write(raw, bits: 8)
            } else if dod >= -(1 << 13) && dod < (1 << 13) {
                bits.write(0b110, bits: 3)
                bits.write(raw, bits: 14)
            } else if dod >= -(1 << 19) && dod < (1 << 19) {
                bits.write(0b1110, bits: 4)
                bits.write(raw, bits: 20)
            } else if dod >= -(1 << 31) && dod < (1 << 31) {
                bits.write(0b11110, bits: 5)
                bits.write(raw, bits: 32)
            } else {
                bits.write(0b11111, bits: 5)
                bits.write(raw, bits: 64)
            }
            valueStream.write(valueBits, to: &bits)
        }
        lastTimestamp = timestamp
        count &+= 1
    }

    /// The whole chunk: header and bits.
    var encoded: [UInt8] {
        var header = BitWriter()
        header.write(UInt64(Self.encodingByte), bits: 8)
        var rest = UInt64(count)
        while rest >= 0x80 {
            header.write(0x80 | (rest & 0x7F), bits: 8)
            rest >>= 7
        }
        header.write(rest, bits: 8)
        return header.bytes + bits.finished
    }

    /// Encodes sorted, distinct timestamps and their values as one chunk.
    static func encode(_ timestamps: some Collection<Int64>, _ values: some Collection<Double>) -> [UInt8] {
        var encoder = XORChunkEncoder()
        for (timestamp, value) in zip(timestamps, values) { encoder.append(timestamp, value) }
        return encoder.encoded
    }
}

/// Decodes chunks written by `XORChunkEncoder`.
enum XORChunk {
    /// Appends the chunk's samples to `timestamps` and `values`; a malformed chunk throws
    /// `StoreError.corrupt` and appends nothing.
    static func decode(_ chunk: [UInt8], into timestamps: inout [Int64], _ values: inout [Double]) throws(StoreError) {
        guard chunk.first == XORChunkEncoder.encodingByte else {
            throw StoreError(.corrupt, "chunk encoding \(chunk.first.map(String.init) ?? "missing") is not known")
        }
        var header = BitReader(chunk, startingAt: 1)
        let count = Int(truncatingIfNeeded: try header.readUVarint())
        var headerBytes = 1
        var rest = count
        repeat {
            headerBytes += 1
            rest >>= 7
        } while rest > 0
        guard count >= 0, count <= chunk.count * 8 else { throw StoreError(.corrupt, "chunk count \(count) is not possible") }
        var reader = BitReader(chunk, startingAt: headerBytes)
        let start = timestamps.count
        timestamps.reserveCapacity(start + count)
        values.reserveCapacity(start + count)
        var timestamp: Int64 = 0
        var delta: Int64 = 0
        var value = XORValueReader()
        do {
            for index in 0..<count {
                switch index {
                case 0:
                    timestamp = try reader.readVarint()
                    try value.readFirst(&reader)
                case 1:
                    delta = try reader.readVarint()
                    timestamp &+= delta
                    try value.read(&reader)
                default:
                    var dod: Int64
                    if try !reader.readBit() {
                        dod = 0
                    } else if try !reader.readBit() {
                        dod = signExtend(try reader.read(bits: 8), 8)
                    } else if try !reader.readBit() {
                        dod = signExtend(try reader.read(bits: 14), 14)
                    } else if try !reader.readBit() {
                        dod = signExtend(try reader.read(bits: 20), 20)
                    } else if try !reader.readBit() {
                        dod = signExtend(try reader.read(bits: 32), 32)
                    } else {
                        dod = Int64(bitPattern: try reader.read(bits: 64))
                    }
                    delta &+= dod
                    timestamp &+= delta
                    try value.read(&reader)
                }
                timestamps.append(timestamp)
                values.append(Double(bitPattern: value.bits))
            }
        } catch {
            timestamps.removeSubrange(start...)
            values.removeSubrange(start...)
            throw error
        }
    }

    /// The chunk's samples.
    static func decode(_ chunk: [UInt8]) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        var timestamps: [Int64] = []
        var values: [Double] = []
        try decode(chunk, into: &timestamps, &values)
        return (timestamps, values)
    }

    @inline(__always)
    private static func signExtend(_ raw: UInt64, _ bits: Int) -> Int64 {
        let shift = UInt64(64 - bits)
        return Int64(bitPattern: raw << shift) >> Int64(shift)
    }
}

/// The XOR value stream of a chunk (see `XORChunkEncoder`), reusable for any column of floats.
struct XORValueWriter: Sendable, Hashable {
    private(set) var lastBits: UInt64 = 0
    private var leading = 0xFF
    private var trailing = 0

    init() {}

    /// A stream whose first value is written with `write`, as an XOR against `previous`
    /// (cheap when the first value is close to a value the reader already knows).
    init(previous: UInt64) { lastBits = previous }

    mutating func writeFirst(_ valueBits: UInt64, to bits: inout BitWriter) {
        bits.write(valueBits, bits: 64)
        lastBits = valueBits
    }

    mutating func write(_ valueBits: UInt64, to bits: inout BitWriter) {
        let xor = valueBits ^ lastBits
        lastBits = valueBits
        if xor == 0 {
            bits.write(0, bits: 1)
            return
        }
        let newLeading = min(xor.leadingZeroBitCount, 31)
        let newTrailing = xor.trailingZeroBitCount
        if leading != 0xFF && newLeading >= leading && newTrailing >= trailing {
            bits.write(0b10, bits: 2)
            bits.write(xor >> UInt64(trailing), bits: 64 - leading - trailing)
        } else {
            leading = newLeading
            trailing = newTrailing
            let significant = 64 - leading - trailing
            bits.write(0b11, bits: 2)
            bits.write(UInt64(leading), bits: 5)
            bits.write(UInt64(significant & 63), bits: 6)
            bits.write(xor >> UInt64(trailing), bits: significant)
        }
    }
}

/// Reads what `XORValueWriter` wrote.
struct XORValueReader {
    private(set) var bits: UInt64 = 0
    private var leading = 0
    private var trailing = 0

    init() {}

    /// Reads a stream written by `XORValueWriter(previous:)`: every value with `read`.
    init(previous: UInt64) { bits = previous }

    mutating func readFirst(_ reader: inout BitReader) throws(StoreError) { bits = try reader.read(bits: 64) }

    @inline(__always)
    mutating func read(_ reader: inout BitReader) throws(StoreError) {
        guard try reader.readBit() else { return }
        if try reader.readBit() {
            leading = Int(try reader.read(bits: 5))
            var significant = Int(try reader.read(bits: 6))
            if significant == 0 { significant = 64 }
            guard leading + significant <= 64 else { throw StoreError(.corrupt, "chunk value window is not possible") }
            trailing = 64 - leading - significant
        }
        bits ^= try reader.read(bits: 64 - leading - trailing) << UInt64(trailing)
    }
}
