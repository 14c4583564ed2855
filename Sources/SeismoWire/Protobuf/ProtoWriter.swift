/// Protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Appends protobuf wire-format primitives to a byte array, in canonical form
/// (minimal varints, packed repeated scalars).
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var count: Int { bytes.count }

    mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    @inline(__always)
    static func zigZag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    @inline(__always)
    mutating func tag(_ field: UInt32, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    mutating func varintField(_ field: UInt32, _ value: UInt64) {
        tag(field, .varint)
        varint(value)
    }

    mutating func fixed64Field(_ field: UInt32, _ value: UInt64) {
        tag(field, .fixed64)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytesField(_ field: UInt32, _ value: [UInt8]) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func stringField(_ field: UInt32, _ value: String) {
        tag(field, .lengthDelimited)
        varint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// Writes `message` (already encoded) as a length-delimited field.
    mutating func messageField(_ field: UInt32, _ message: ProtoWriter) {
        tag(field, .lengthDelimited)
        varint(UInt64(message.bytes.count))
        bytes.append(contentsOf: message.bytes)
    }

    /// Appends already encoded fields.
    mutating func append(_ other: ProtoWriter) { bytes.append(contentsOf: other.bytes) }

    /// A packed `repeated uint32`; nothing when empty.
    mutating func packedVarints(_ field: UInt32, _ values: [UInt32]) {
        guard !values.isEmpty else { return }
        var size = 0
        for value in values { size += ProtoWriter.varintSize(UInt64(value)) }
        tag(field, .lengthDelimited)
        varint(UInt64(size))
        for value in values { varint(UInt64(value)) }
    }

    /// A packed `repeated sint64` of `values` as first value then differences
    /// (wrapping); nothing when empty.
    mutating func packedDeltas(_ field: UInt32, _ values: SampleColumn<Int64>) {
        guard !values.isEmpty else { return }
        var size = 0
        var previous: Int64 = 0
        for value in values {
            size += ProtoWriter.varintSize(ProtoWriter.zigZag(value &- previous))
            previous = value
        }
        tag(field, .lengthDelimited)
        varint(UInt64(size))
        previous = 0
        for value in values {
            varint(ProtoWriter.zigZag(value &- previous))
            previous = value
        }
    }

    /// A packed `repeated double`, bit for bit; nothing when empty.
    mutating func packedDoubles(_ field: UInt32, _ values: SampleColumn<Double>) {
        guard !values.isEmpty else { return }
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 8))
        #if _endian(little)
        values.withUnsafeBufferPointer { bytes.append(contentsOf: UnsafeRawBufferPointer($0)) }
        #else
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        #endif
    }
}
