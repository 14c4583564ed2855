import Testing

@testable import SeismoWire

@Suite("Snappy block format")
struct SnappyTests {
    @Test("decodes a literal and an overlapping copy from known bytes")
    func knownBytes() throws {
        #expect(try Snappy.decompress([0x05, 0x10] + Array("Hello".utf8)) == Array("Hello".utf8))
        // "abcd" literal, then copy (1-byte offset form) of 8 bytes at offset 4.
        let block: [UInt8] = [0x0C, 0x0C] + Array("abcd".utf8) + [0x11, 0x04]
        #expect(try Snappy.decompress(block) == Array("abcdabcdabcd".utf8))
        // A 2-byte-offset copy repeating one byte (offset 1 < length).
        #expect(try Snappy.decompress([0x06, 0x00, 0x78, 0x12, 0x01, 0x00]) == Array("xxxxxx".utf8))
    }

    @Test("compress then decompress gives the input back, and repetitive input shrinks")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        for size in [0, 1, 59, 60, 61, 255, 256, 70_000, 200_000] {
            let random = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(try Snappy.decompress(Snappy.compress(random)) == random)
        }
        let text = Array(String(repeating: "http_requests_total{code=\"200\",job=\"api\"} 1\n", count: 2000).utf8)
        let compressed = Snappy.compress(text)
        #expect(compressed.count < text.count / 5)
        #expect(try Snappy.decompress(compressed) == text)
    }

    @Test("rejects damaged blocks without reading out of bounds", arguments: [
        [UInt8](),  // no preamble
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // preamble too long
        [0x05, 0x10, 0x48, 0x65],  // literal runs past the input
        [0x03, 0x10] + Array("Hello".utf8),  // more than declared
        [0x08, 0x00, 0x61, 0x11, 0x09],  // copy offset beyond the output
        [0x04, 0x00, 0x61, 0x05, 0x00],  // copy with offset 0
        [0x0A, 0x00, 0x61],  // ends short of the declared length
        [0x05, 0xF0],  // truncated 1-byte literal length
        [0x05, 0x02, 0x01],  // truncated 2-byte copy
    ])
    func damaged(_ block: [UInt8]) {
        #expect(throws: WireError.self) { try Snappy.decompress(block) }
    }

    @Test("refuses a block that declares more than the limit before allocating")
    func limit() throws {
        // Declares 4 GiB − 1.
        let block: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00]
        #expect(throws: WireError.self) { try Snappy.decompress(block, maxLength: 1 << 20) }
        #expect(try Snappy.uncompressedLength(block) == 4_294_967_295)
    }

    @Test("fuzzed blocks never crash")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let seed = Snappy.compress(Array(String(repeating: "abc123", count: 300).utf8))
        for _ in 0..<2000 {
            var block = seed
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                block[Int.random(in: 0..<block.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if Bool.random(using: &generator) { block.removeLast(Int.random(in: 0..<block.count, using: &generator)) }
            _ = try? Snappy.decompress(block, maxLength: 1 << 16)
        }
    }
}
