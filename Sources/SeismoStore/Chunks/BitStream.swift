/// Appends bits most-significant first into bytes. A value type: copying it copies the
/// stream (the head of a series is copied to snapshot it).
struct BitWriter: Sendable, Hashable {
    /// Whole bytes written so far.
    private(set) var bytes: [UInt8] = []
    /// The last `pending` (< 8) bits of `accumulator` are written but not yet a whole byte.
    private var accumulator: UInt64 = 0
    private var pending = 0

    init() {}

    /// Bits written so far.
    var bitCount: Int { bytes.count &* 8 &+ pending }

    /// Writes the low `count` bits of `value` (0...64 bits).
    mutating func write(_ value: UInt64, bits count: Int) {
        if count > 56 {
            write(value >> 32, bits: count - 32)
            write(value & 0xFFFF_FFFF, bits: 32)
            return
        }
        guard count > 0 else { return }
        accumulator = (accumulator &<< UInt64(count)) | (value & lowMask(count))
        pending &+= count
        while pending >= 8 {
            pending &-= 8
            bytes.append(UInt8(truncatingIfNeeded: accumulator &>> UInt64(pending)))
        }
    }

    mutating func writeBit(_ bit: Bool) { write(bit ? 1 : 0, bits: 1) }

    /// Writes `value` as groups of 7 bits, each preceded by a continuation bit.
    mutating func writeUVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            write(0x80 | (rest & 0x7F), bits: 8)
            rest >>= 7
        }
        write(rest, bits: 8)
    }

    mutating func writeVarint(_ value: Int64) { writeUVarint(zigzag(value)) }

    /// Appends every bit of `other`.
    mutating func append(_ other: BitWriter) {
        for byte in other.bytes { write(UInt64(byte), bits: 8) }
        write(other.accumulator & lowMask(other.pending), bits: other.pending)
    }

    /// The stream padded with zero bits to a whole byte.
    var finished: [UInt8] {
        guard pending > 0 else { return bytes }
        var result = bytes
        result.append(UInt8(truncatingIfNeeded: accumulator &<< UInt64(8 - pending)))
        return result
    }
}

/// Reads bits written by `BitWriter`; reading past the end throws `StoreError.corrupt`.
struct BitReader {
    private let bytes: [UInt8]
    private var index: Int
    private var accumulator: UInt64 = 0
    private var available = 0

    init(_ bytes: [UInt8], startingAt index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    mutating func read(bits count: Int) throws(StoreError) -> UInt64 {
        if count > 56 {
            let high = try read(bits: count - 32)
            return (high << 32) | (try read(bits: 32))
        }
        guard count > 0 else { return 0 }
        while available < count {
            guard index < bytes.count else { throw StoreError(.corrupt, "chunk ends in the middle of a value") }
            accumulator = (accumulator &<< 8) | UInt64(bytes[index])
            index &+= 1
            available &+= 8
        }
        available &-= count
        return (accumulator &>> UInt64(available)) & lowMask(count)
    }

    mutating func readBit() throws(StoreError) -> Bool { try read(bits: 1) == 1 }

    /// True when every whole byte has been read.
    var isAtEnd: Bool { index >= bytes.count && available < 8 }

    mutating func readUVarint() throws(StoreError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let group = try read(bits: 8)
            guard shift < 64 else { throw StoreError(.corrupt, "chunk varint longer than 64 bits") }
            result |= (group & 0x7F) << shift
            if group & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readVarint() throws(StoreError) -> Int64 { unzigzag(try readUVarint()) }
}

@inline(__always) func lowMask(_ count: Int) -> UInt64 { count >= 64 ? .max : (1 << UInt64(count)) &- 1 }
@inline(__always) func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
@inline(__always) func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1) }
