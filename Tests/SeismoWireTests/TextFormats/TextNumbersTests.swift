import SeismoCore
import Testing

@testable import SeismoWire

@Suite("Text numbers")
struct TextNumbersTests {
    static func double(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBufferPointer { TextNumbers.double($0) }
    }

    @Test("whole numbers read as Double(String) reads them, sign of zero and length limits included")
    func wholeNumbers() {
        var cases = ["0", "-0", "+0", "007", "-12", "+5", "1795392000000", "999999999999999", "-999999999999999",
                     "1000000000000000", "9007199254740993", "12345678901234567890", "+", "-", "1-2", "0x10", "1e3", "1.5"]
        var random = SplitMix64(seed: 9)
        for _ in 0..<2000 {
            let digits = 1 + random.next(below: 17)
            var text = ["", "-", "+"][random.next(below: 3)]
            for _ in 0..<digits { text += String(random.next(below: 10)) }
            cases.append(text)
        }
        for text in cases {
            let expected = Double(text)
            let actual = Self.double(text)
            #expect(actual?.bitPattern == expected?.bitPattern, "\(text)")
        }
    }
}
