import Testing

@testable import SeismoWire

@Suite("gzip bodies")
struct GzipTests {
    @Test("what gzip compresses inflates to the same bytes")
    func roundTrip() throws {
        let text = Array((0..<5_000).map { "line \($0) of a log\n" }.joined().utf8)
        let compressed = Gzip.compress(text)
        #expect(compressed.count < text.count / 4)
        #expect(compressed.prefix(2) == [0x1F, 0x8B])
        #expect(try Gzip.decompress(compressed, maxLength: 1 << 20) == text)
        #expect(try Gzip.decompress(Gzip.compress([]), maxLength: 10) == [])
    }

    @Test("a body that inflates past the limit is refused before it is all inflated")
    func bomb() {
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 8 << 20))
        #expect(bomb.count < 16 << 10)
        #expect(throws: Gzip.Failure.tooLarge(limit: 1 << 20)) { try Gzip.decompress(bomb, maxLength: 1 << 20) }
    }

    @Test("truncated or foreign bytes are damaged, not a crash")
    func damaged() {
        let compressed = Gzip.compress(Array("hello, hello, hello".utf8))
        for bad in [Array(compressed.dropLast(8)), Array(compressed.prefix(5)), Array("plain text".utf8), []] {
            #expect(throws: Gzip.Failure.self) { try Gzip.decompress(bad, maxLength: 1 << 20) }
        }
    }
}
