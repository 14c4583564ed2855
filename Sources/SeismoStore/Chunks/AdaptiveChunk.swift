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
        if count > 0 { bits.writeVarint(timestamps[0]) }
        if count > 1 { bits.writeVarint(timestamps[1] &- timestamps[0]) }
        if count > 2 {
            var dods: [UInt64] = []
            dods.reserveCapacity(count - 2)
            for index in 2..<count {
                dods.append(zigzag((timestamps[index] &- timestamps[index - 1]) &- (timestamps[index - 1] &- timestamps[index - 2])))
            }
            writeColumn(dods, to: &bits)
        }
        var best = BitWriter()
        best.write(0, bits: 2)
        var xor = XORValueWriter()
        for index in 0..<count {
            if index == 0 { xor.writeFirst(values[0].bitPattern, to: &best) } else { xor.write(values[index].bitPattern, to: &best) }
        }
        if count > 0, let (exponent, mantissas) = decimal(values[0..<count]) {
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
        return bits.finished
    }

    static func decode(_ chunk: [UInt8], into timestamps: inout [Int64], _ values: inout [Double]) throws(StoreError) {
        var reader = BitReader(chunk, startingAt: 1)
        let count = Int(truncatingIfNeeded: try reader.readUVarint())
        guard count >= 0, count <= chunk.count * 8 else { throw StoreError(.corrupt, "chunk count \(count) is not possible") }
        let start = timestamps.count
        do throws(StoreError) {
            timestamps.reserveCapacity(start + count)
            values.reserveCapacity(start + count)
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
        } catch {
            timestamps.removeSubrange(start...)
            values.removeSubrange(start...)
            throw error
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

/// Decodes a stored chunk of any encoding.
enum Chunk {
    static func decode(_ chunk: [UInt8], into timestamps: inout [Int64], _ values: inout [Double]) throws(StoreError) {
        switch chunk.first {
        case AdaptiveChunk.encodingByte: try AdaptiveChunk.decode(chunk, into: &timestamps, &values)
        default: try XORChunk.decode(chunk, into: &timestamps, &values)
        }
    }

    static func decode(_ chunk: [UInt8]) throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        var timestamps: [Int64] = []
        var values: [Double] = []
        try decode(chunk, into: &timestamps, &values)
        return (timestamps, values)
    }
}
