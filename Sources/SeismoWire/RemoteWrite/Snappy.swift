/// Snappy's block format (https://github.com/google/snappy/blob/main/format_description.txt),
/// as Prometheus remote write and Loki push use it: no framing, one block per body.
///
/// `decompress` checks every length and offset before it copies, so hostile input fails
/// with `WireError(.malformed)` and never reads or writes out of bounds; the declared
/// length is capped by `maxLength` before anything is allocated.
public enum Snappy {
    /// The uncompressed length that `bytes` declares, without decompressing.
    public static func uncompressedLength(_ bytes: some Collection<UInt8>) throws(WireError) -> Int {
        var length: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes.prefix(5) {
            length |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                guard length <= UInt64(UInt32.max) else { break }
                return Int(length)
            }
            shift += 7
        }
        throw WireError(.malformed, "snappy: invalid length preamble", offset: 0)
    }

    /// The decompressed bytes of one block. Throws when the block declares more than
    /// `maxLength` bytes, or is damaged in any way.
    public static func decompress(_ input: [UInt8], maxLength: Int = 64 << 20) throws(WireError) -> [UInt8] {
        let length = try uncompressedLength(input)
        guard length <= maxLength else {
            throw WireError(.malformed, "snappy: block declares \(length) bytes, over the limit of \(maxLength)", offset: 0)
        }
        var position = 0
        while input[position] >= 0x80 { position += 1 }
        position += 1
        return try input.withUnsafeBufferPointer { (source) throws(WireError) -> [UInt8] in
            var failure: WireError?
            let output = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
                do throws(WireError) {
                    initialized = try decode(source, from: position, into: out)
                } catch {
                    failure = error
                    initialized = 0
                }
            }
            if let failure { throw failure }
            return output
        }
    }

    /// Decodes the elements after the preamble into `out`, which must be filled exactly.
    private static func decode(_ src: UnsafeBufferPointer<UInt8>, from start: Int, into out: UnsafeMutableBufferPointer<UInt8>)
        throws(WireError) -> Int
    {
        var s = start
        var d = 0
        let end = src.count
        func fail(_ message: String) -> WireError { WireError(.malformed, "snappy: \(message)", offset: s) }
        while s < end {
            let tag = src[s]
            s += 1
            switch tag & 3 {
            case 0:  // literal
                var count = Int(tag >> 2)
                if count >= 60 {
                    let extra = count - 59
                    guard end - s >= extra else { throw fail("truncated literal length") }
                    count = 0
                    for i in 0..<extra { count |= Int(src[s + i]) << (8 * i) }
                    s += extra
                }
                count += 1
                guard count <= end - s else { throw fail("literal runs past the input") }
                guard count <= out.count - d else { throw fail("literal runs past the declared length") }
                UnsafeMutableRawPointer(out.baseAddress! + d).copyMemory(from: src.baseAddress! + s, byteCount: count)
                s += count
                d += count
                continue
            case 1:
                guard s < end else { throw fail("truncated copy") }
                let length = 4 + Int((tag >> 2) & 7)
                let offset = Int(tag >> 5) << 8 | Int(src[s])
                s += 1
                try copy(length: length, offset: offset)
            case 2:
                guard end - s >= 2 else { throw fail("truncated copy") }
                let offset = Int(src[s]) | Int(src[s + 1]) << 8
                s += 2
                try copy(length: 1 + Int(tag >> 2), offset: offset)
            default:
                guard end - s >= 4 else { throw fail("truncated copy") }
                var offset = 0
                for i in 0..<4 { offset |= Int(src[s + i]) << (8 * i) }
                s += 4
                try copy(length: 1 + Int(tag >> 2), offset: offset)
            }
        }
        guard d == out.count else { throw fail("block holds \(d) bytes, its preamble says \(out.count)") }
        return d

        func copy(length: Int, offset: Int) throws(WireError) {
            guard offset > 0, offset <= d else { throw fail("copy offset \(offset) outside the output") }
            guard length <= out.count - d else { throw fail("copy runs past the declared length") }
            // Overlapping copies (offset < length) repeat a pattern, so copy byte by byte then.
            if offset >= length {
                UnsafeMutableRawPointer(out.baseAddress! + d).copyMemory(from: out.baseAddress! + d - offset, byteCount: length)
            } else {
                for i in 0..<length { out[d + i] = out[d - offset + i] }
            }
            d += length
        }
    }

    /// Compresses `input` into one block: a greedy single-pass matcher (4-byte hashes,
    /// offsets under 64 KiB). Output any Snappy decoder reads; used by tests, benchmarks
    /// and clients of ours.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 2 + 16)
        var length = UInt64(input.count)
        while length >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        guard !input.isEmpty else { return out }
        input.withUnsafeBufferPointer { src in
            var table = [Int](repeating: -1, count: 1 << 14)
            var literalStart = 0
            var i = 0
            let n = src.count
            func load32(_ at: Int) -> UInt32 {
                UInt32(src[at]) | UInt32(src[at + 1]) << 8 | UInt32(src[at + 2]) << 16 | UInt32(src[at + 3]) << 24
            }
            while i + 4 <= n {
                let word = load32(i)
                let slot = Int((word &* 0x1E35_A7BD) >> 18)
                let candidate = table[slot]
                table[slot] = i
                if candidate >= 0, i - candidate < 65_536, load32(candidate) == word {
                    emitLiteral(src, literalStart..<i, into: &out)
                    var matched = 4
                    while i + matched < n, src[candidate + matched] == src[i + matched] { matched += 1 }
                    let offset = i - candidate
                    var rest = matched
                    while rest > 0 {
                        let piece = rest > 64 ? (rest - 64 >= 4 ? 64 : rest - 4) : rest
                        out.append(UInt8((piece - 1) << 2 | 2))
                        out.append(UInt8(offset & 0xFF))
                        out.append(UInt8(offset >> 8))
                        rest -= piece
                    }
                    i += matched
                    literalStart = i
                } else {
                    i += 1
                }
            }
            emitLiteral(src, literalStart..<n, into: &out)
        }
        return out
    }

    private static func emitLiteral(_ src: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) {
        guard !range.isEmpty else { return }
        let n = range.count - 1
        if n < 60 {
            out.append(UInt8(n << 2))
        } else {
            var bytes = 0
            var rest = n
            while rest > 0 {
                bytes += 1
                rest >>= 8
            }
            out.append(UInt8((59 + bytes) << 2))
            for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: n >> (8 * i))) }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: src[range]))
    }
}
