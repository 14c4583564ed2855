/// The chunk encoding the store writes when it cuts a head (encoding byte 2): Gorilla's
/// ideas, with bit widths chosen per chunk and decimal values stored as integers.
///
/// `[encoding: 1 byte = 2][count: uvarint][bits]`, the bits being:
/// - timestamps: the first and the first delta as zigzag varints, then the deltas of deltas
///   as an integer column;
/// - a 2-bit value mode, then the values:
///   - `0`: the XOR value stream of `XORChunkEncoder`;
///   - `1`/`2`: every value is `m / 10^e` for integers `m` (|m| < 2^53) and one `e` in 0...15:
///     4 bits of `e`, the first `m` as a zigzag varint, then for mode 1 the deltas of `m`, for
///     mode 2 the first delta as a zigzag varint and the deltas of deltas, as an integer column.
///
/// An integer column is 6 bits of a width `w`, then per zigzag-encoded integer `u`: `0` and `w`
/// bits when `u < 2^w`, else `1`, 6 bits of (bit length - 1) and the bits. The encoder picks
/// the cheapest width and the cheapest value mode, so a chunk is never larger than mode 0.
/// Values round-trip bit for bit (a decimal mode is used only when it reproduces every value's
/// bits; NaN, infinities and -0.0 always take mode 0).
enum AdaptiveChunk {
    static let encodingByte: UInt8 = 2

    static func encode(_ timestamps: [Int64], _ values: [Double]) -> [UInt8] {
        let count = min(timestamps.count, values.count)
        var bits = BitWriter()
        bits.write(UInt64(encodingByte), bits: 8)
        bits.writeUVarint(UInt64(count))
        writeTimestamps(timestamps[0..<count], to: &bits)
        writeValues(values[0..<count], to: &bits)
        return bits.finished
    }

    static func decode(_ chunk: [UInt8], into timestamps: inout [Int64], _ values: inout [Double]) throws(StoreError) {
        var reader = BitReader(chunk, startingAt: 1)
        let count = try readCount(&reader, limit: chunk.count)
        let start = timestamps.count
        do throws(StoreError) {
            try readTimestamps(&reader, count: count, into: &timestamps)
            try readValues(&reader, count: count, into: &values)
        } catch {
            timestamps.removeSubrange(start...)
            values.removeSubrange(start...)
            throw error
        }
    }

    /// A sample count, checked against what `limit` bytes can hold.
    static func readCount(_ reader: inout BitReader, limit: Int) throws(StoreError) -> Int {
        let count = Int(truncatingIfNeeded: try reader.readUVarint())
        guard count >= 0, count <= limit * 8 else { throw StoreError(.corrupt, "chunk count \(count) is not possible") }
        return count
    }

    /// The timestamps section: the first and the first delta as zigzag varints, then the
    /// deltas of deltas as an integer column.
    static func writeTimestamps(_ timestamps: ArraySlice<Int64>, to bits: inout BitWriter) {
        let t = timestamps
        let first = t.startIndex
        if t.count > 0 { bits.writeVarint(t[first]) }
        if t.count > 1 { bits.writeVarint(t[first + 1] &- t[first]) }
        guard t.count > 2 else { return }
        var dods: [UInt64] = []
        dods.reserveCapacity(t.count - 2)
        for index in (first + 2)..<t.endIndex {
            dods.append(zigzag((t[index] &- t[index - 1]) &- (t[index - 1] &- t[index - 2])))
        }
        writeColumn(dods, to: &bits)
    }

    static func readTimestamps(_ reader: inout BitReader, count: Int, into timestamps: inout [Int64]) throws(StoreError) {
        timestamps.reserveCapacity(timestamps.count + count)
        var timestamp: Int64 = 0
        var delta: Int64 = 0
        if count > 0 {
            timestamp = try reader.readVarint()
            timestamps.append(timestamp)
        }
        if count > 1 {
            delta = try reader.readVarint()
            timestamp &+= delta
            timestamps.append(timestamp)
        }
        if count > 2 {
            let column = try ColumnReader(&reader)
            for _ in 2..<count {
                delta &+= unzigzag(try column.next(&reader))
                timestamp &+= delta
                timestamps.append(timestamp)
            }
        }
    }

    /// The values section: a 2-bit mode, then the values in the cheapest mode (see the type).
    static func writeValues(_ values: ArraySlice<Double>, to bits: inout BitWriter) {
        let count = values.count
        let first = values.startIndex
        var best = BitWriter()
        best.write(0, bits: 2)
        var xor = XORValueWriter()
        for index in values.indices {
            if index == first { xor.writeFirst(values[index].bitPattern, to: &best) } else { xor.write(values[index].bitPattern, to: &best) }
        }
        if count > 0, let (exponent, mantissas) = decimal(values) {
            for order in 1...2 {
                var candidate = BitWriter()
                candidate.write(UInt64(order), bits: 2)
                candidate.write(UInt64(exponent), bits: 4)
                candidate.writeVarint(mantissas[0])
                var column: [UInt64] = []
                if order == 1 {
                    for index in 1..<count { column.append(zigzag(mantissas[index] &- mantissas[index - 1])) }
                } else if count > 1 {
                    candidate.writeVarint(mantissas[1] &- mantissas[0])
                    for index in 2..<count {
                        column.append(zigzag((mantissas[index] &- mantissas[index - 1]) &- (mantissas[index - 1] &- mantissas[index - 2])))
                    }
                }
                if !column.isEmpty { writeColumn(column, to: &candidate) }
                if candidate.bitCount < best.bitCount { best = candidate }
            }
        }
        bits.append(best)
    }

    static func readValues(_ reader: inout BitReader, count: Int, into values: inout [Double]) throws(StoreError) {
        values.reserveCapacity(values.count + count)
        let mode = try reader.read(bits: 2)
        switch mode {
        case 0:
            var xor = XORValueReader()
            for index in 0..<count {
                if index == 0 { try xor.readFirst(&reader) } else { try xor.read(&reader) }
                values.append(Double(bitPattern: xor.bits))
            }
        case 1, 2:
            guard count > 0 else { break }
            let scale = powersOfTen[Int(try reader.read(bits: 4))]
            var mantissa = try reader.readVarint()
            values.append(Double(mantissa) / scale)
            var step: Int64 = 0
            var first = 1
            if mode == 2 && count > 1 {
                step = try reader.readVarint()
                mantissa &+= step
                values.append(Double(mantissa) / scale)
                first = 2
            }
            if count > first {
                let column = try ColumnReader(&reader)
                for _ in first..<count {
                    let next = unzigzag(try column.next(&reader))
                    if mode == 1 {
                        mantissa &+= next
                    } else {
                        step &+= next
                        mantissa &+= step
                    }
                    values.append(Double(mantissa) / scale)
                }
            }
        default:
            throw StoreError(.corrupt, "chunk value mode \(mode) is not known")
        }
    }

    static let powersOfTen: [Double] = (0...15).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

    /// The smallest `e` and the integers `m` with `Double(m) / 10^e` equal (bitwise) to every value.
    static func decimal(_ values: ArraySlice<Double>) -> (exponent: Int, mantissas: [Int64])? {
        var mantissas: [Int64] = []
        mantissas.reserveCapacity(values.count)
        exponents: for exponent in 0...15 {
            let scale = powersOfTen[exponent]
            mantissas.removeAll(keepingCapacity: true)
            for value in values {
                guard value.isFinite, value.bitPattern != (-0.0).bitPattern else { return nil }
                let scaled = (value * scale).rounded()
                guard abs(scaled) < 9_007_199_254_740_992 else { return nil }
                let mantissa = Int64(scaled)
                guard (Double(mantissa) / scale).bitPattern == value.bitPattern else { continue exponents }
                mantissas.append(mantissa)
            }
            return (exponent, mantissas)
        }
        return nil
    }

    /// Writes zigzag-encoded integers with the width that makes them shortest.
    static func writeColumn(_ column: [UInt64], to bits: inout BitWriter) {
        var lengths = [Int](repeating: 0, count: 65)
        for value in column { lengths[64 - value.leadingZeroBitCount] += 1 }
        var bestWidth = 0
        var bestCost = Int.max
        for width in 0...63 {
            var cost = 0
            for length in 0...64 {
                let n = lengths[length]
                guard n > 0 else { continue }
                cost += length <= width ? n * (1 + width) : n * (7 + length)
            }
            if cost < bestCost {
                bestCost = cost
                bestWidth = width
            }
        }
        bits.write(UInt64(bestWidth), bits: 6)
        let limit: UInt64 = bestWidth == 0 ? 1 : 1 << UInt64(bestWidth)
        for value in column {
            if value < limit {
                bits.write(0, bits: 1)
                bits.write(value, bits: bestWidth)
            } else {
                let length = 64 - value.leadingZeroBitCount
                bits.write(1, bits: 1)
                bits.write(UInt64(length - 1), bits: 6)
                bits.write(value, bits: length)
            }
        }
    }

    /// Reads an integer column written by `writeColumn`.
    struct ColumnReader {
        let width: Int

        init(_ reader: inout BitReader) throws(StoreError) { width = Int(try reader.read(bits: 6)) }

        @inline(__always)
        func next(_ reader: inout BitReader) throws(StoreError) -> UInt64 {
            if try !reader.readBit() { return try reader.read(bits: width) }
            return try reader.read(bits: Int(try reader.read(bits: 6)) + 1)
        }
    }
}

/// A chunk whose timestamps are a time set shared with the chunks of other series scraped
/// at the same times (encoding byte 3): `[3][count: uvarint][time set id: uvarint][bits]`,
/// the bits being `AdaptiveChunk`'s values section. A time set (a row of `chunk_times`) is
/// `[count: uvarint][bits]`, the bits being `AdaptiveChunk`'s timestamps section.
enum SharedTimesChunk {
    static let encodingByte: UInt8 = 3

    static func encode(timesID: Int64, values: [Double]) -> [UInt8] {
        var bits = BitWriter()
        bits.write(UInt64(encodingByte), bits: 8)
        bits.writeUVarint(UInt64(values.count))
        bits.writeUVarint(UInt64(timesID))
        AdaptiveChunk.writeValues(values[...], to: &bits)
        return bits.finished
    }

    static func encodeTimes(_ timestamps: [Int64]) -> [UInt8] {
        var bits = BitWriter()
        bits.writeUVarint(UInt64(timestamps.count))
        AdaptiveChunk.writeTimestamps(timestamps[...], to: &bits)
        return bits.finished
    }

    static func decodeTimes(_ data: [UInt8]) throws(StoreError) -> [Int64] {
        var reader = BitReader(data)
        let count = try AdaptiveChunk.readCount(&reader, limit: data.count)
        var timestamps: [Int64] = []
        try AdaptiveChunk.readTimestamps(&reader, count: count, into: &timestamps)
        return timestamps
    }

    static func decode(_ chunk: [UInt8], times: (Int64) throws(StoreError) -> [Int64], into timestamps: inout [Int64], _ values: inout [Double])
        throws(StoreError)
    {
        var reader = BitReader(chunk, startingAt: 1)
        let count = try AdaptiveChunk.readCount(&reader, limit: chunk.count)
        let id = Int64(truncatingIfNeeded: try reader.readUVarint())
        let shared = try times(id)
        guard shared.count == count else {
            throw StoreError(.corrupt, "chunk of \(count) samples refers to time set \(id) of \(shared.count)")
        }
        let start = values.count
        do throws(StoreError) {
            try AdaptiveChunk.readValues(&reader, count: count, into: &values)
        } catch {
            values.removeSubrange(start...)
            throw error
        }
        timestamps.append(contentsOf: shared)
    }
}

/// Decodes a stored chunk of any encoding; `times` answers the time sets of shared-times
/// chunks (without it they are reported corrupt).
enum Chunk {
    static func decode(
        _ chunk: [UInt8], into timestamps: inout [Int64], _ values: inout [Double], times: ChunkTimesReader? = nil
    ) throws(StoreError) {
        switch chunk.first {
        case AdaptiveChunk.encodingByte: try AdaptiveChunk.decode(chunk, into: &timestamps, &values)
        case SharedTimesChunk.encodingByte:
            guard let times else { throw StoreError(.corrupt, "a shared-times chunk read without its time sets") }
            try SharedTimesChunk.decode(chunk, times: times.times, into: &timestamps, &values)
        default: try XORChunk.decode(chunk, into: &timestamps, &values)
        }
    }

    static func decode(_ chunk: [UInt8], times: ChunkTimesReader? = nil) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        var timestamps: [Int64] = []
        var values: [Double] = []
        try decode(chunk, into: &timestamps, &values, times: times)
        return (timestamps, values)
    }
}
