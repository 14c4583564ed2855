/// Reads protobuf wire-format primitives from untrusted bytes. Every read checks its
/// bounds first and throws `WireError(.malformed)` instead of reading past `end`.
struct ProtoReader {
    let buffer: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    let end: Int

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        position = 0
        end = buffer.count
    }

    /// A reader over `range` of the same buffer; `range` must lie within the buffer.
    init(_ buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        self.buffer = buffer
        position = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { position >= end }

    /// Continues reading at `newPosition`, which must lie within the reader's range.
    mutating func move(to newPosition: Int) {
        precondition(newPosition >= position && newPosition <= end)
        position = newPosition
    }

    func error(_ message: String) -> WireError { WireError(.malformed, message, offset: position) }

    @inline(__always)
    mutating func varint() throws(WireError) -> UInt64 {
        guard position < end else { throw error("truncated varint") }
        let first = buffer[position]
        position += 1
        if first < 0x80 { return UInt64(first) }
        var result = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            guard position < end else { throw error("truncated varint") }
            let byte = buffer[position]
            position += 1
            if shift == 63, byte > 1 { throw error("varint longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    /// Reads a field tag.
    @inline(__always)
    mutating func tag() throws(WireError) -> (field: UInt32, wireType: UInt8) {
        let key = try varint()
        let field = key >> 3
        guard field > 0, field < 1 << 29 else { throw error("invalid field number \(field)") }
        return (UInt32(field), UInt8(key & 7))
    }

    /// Reads a length prefix and returns the range of the bytes it covers.
    @inline(__always)
    mutating func lengthDelimited() throws(WireError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw error("length \(length) runs past the end") }
        let start = position
        position += Int(length)
        return start..<position
    }

    mutating func fixed64() throws(WireError) -> UInt64 {
        guard end - position >= 8 else { throw error("truncated fixed64") }
        let value = UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: value)
    }

    /// Skips a field's value of `wireType`.
    mutating func skip(wireType: UInt8) throws(WireError) {
        switch wireType {
        case WireType.varint.rawValue: _ = try varint()
        case WireType.fixed64.rawValue:
            guard end - position >= 8 else { throw error("truncated fixed64") }
            position += 8
        case WireType.lengthDelimited.rawValue: _ = try lengthDelimited()
        case WireType.fixed32.rawValue:
            guard end - position >= 4 else { throw error("truncated fixed32") }
            position += 4
        case WireType.startGroup.rawValue, WireType.endGroup.rawValue:
            throw error("groups are not supported")
        default: throw error("invalid wire type \(wireType)")
        }
    }

    /// Throws unless `actual` is `expected`.
    @inline(__always)
    func expect(_ actual: UInt8, _ expected: WireType, field: UInt32) throws(WireError) {
        guard actual == expected.rawValue else {
            throw error("field \(field) has wire type \(actual), expected \(expected.rawValue)")
        }
    }

    /// The bytes of `range` as validated UTF-8.
    func string(_ range: Range<Int>) throws(WireError) -> String {
        let bytes = UnsafeBufferPointer(rebasing: buffer[range])
        let text = String(decoding: bytes, as: UTF8.self)
        // Decoding repairs invalid UTF-8 with U+FFFD, which changes the bytes; ASCII
        // (the common case) is always valid.
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        guard ascii || text.utf8.elementsEqual(bytes) else {
            throw WireError(.malformed, "string is not valid UTF-8", offset: range.lowerBound)
        }
        return text
    }

    /// True when every byte of `range` is ASCII (and so valid UTF-8).
    func isASCII(_ range: Range<Int>) -> Bool {
        var index = range.lowerBound
        while index + 8 <= range.upperBound {
            let word = UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: index, as: UInt64.self)
            if word & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < range.upperBound {
            if buffer[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }

    /// The bytes of `range`, copied.
    func bytes(_ range: Range<Int>) -> [UInt8] { Array(buffer[range]) }

    /// Appends the packed zig-zag varints in `range` to `values` as running sums from
    /// `previous` (first value absolute, then differences), updating `previous`.
    func appendDeltas(_ range: Range<Int>, previous: inout Int64, to values: inout [Int64]) throws(WireError) {
        // No `reserveCapacity` here: the caller reserves for the whole batch (counting the
        // varints per series costs more than the rare growth).
        var items = ProtoReader(buffer, range: range)
        var running = previous
        while !items.isAtEnd {
            let zigZag = try items.varint()
            running = running &+ (Int64(bitPattern: zigZag >> 1) ^ -Int64(bitPattern: zigZag & 1))
            values.append(running)
        }
        previous = running
    }

    /// The number of varints in `range`, counting terminating bytes (exact for a
    /// well-formed packed field; decoding the varints then finds any damage).
    func varintCount(_ range: Range<Int>) -> Int {
        var count = 0
        for index in range where buffer[index] < 0x80 { count += 1 }
        return count
    }

    /// Appends the little-endian doubles in `range` (a multiple of 8 bytes) to `values`.
    func appendDoubles(_ range: Range<Int>, to values: inout [Double]) {
        let count = range.count / 8
        let source = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[range])
        values.reserveCapacity(values.count + count)
        for index in 0..<count {
            let bits = source.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
            values.append(Double(bitPattern: UInt64(littleEndian: bits)))
        }
    }
}
