import CZlib

/// gzip (RFC 1952) and zlib (RFC 1950) bodies, as HTTP's `Content-Encoding: gzip` and
/// `deflate` carry them; over the system zlib.
public enum Gzip {
    /// Why a body could not be inflated.
    public enum Failure: Error, Sendable, Equatable {
        /// The inflated body would be longer than the limit (a compression bomb, or just too big).
        case tooLarge(limit: Int)
        /// The bytes are not a complete gzip or zlib stream.
        case damaged(String)
    }

    /// Inflates `input` (gzip or zlib, told apart by the header), refusing to produce more
    /// than `maxLength` bytes.
    public static func decompress(_ input: [UInt8], maxLength: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits, +32: detect a gzip or a zlib header.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .damaged("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        var status = Z_OK
        var input = input
        try input.withUnsafeMutableBufferPointer { (source) throws(Failure) in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            while status != Z_STREAM_END {
                let produced = chunk.withUnsafeMutableBufferPointer { buffer -> Int in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return buffer.count - Int(stream.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    let reason = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw .damaged(status == Z_BUF_ERROR ? "truncated stream" : reason)
                }
                guard output.count + produced <= maxLength else { throw .tooLarge(limit: maxLength) }
                output.append(contentsOf: chunk[..<produced])
                if status == Z_OK, produced == 0, stream.avail_in == 0 { throw .damaged("truncated stream") }
            }
        }
        return output
    }

    /// `input` gzip-compressed (for tests and clients).
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits, +16: write a gzip header and trailer.
        guard deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { return [] }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let written = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target -> Int in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                _ = deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<written])
    }
}
