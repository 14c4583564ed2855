import Testing

@testable import SeismoCore

/// Specification of `XXHash64`: the published xxHash64 algorithm, bit for bit.
///
/// Vectors: the empty string with seed 0 is the published 0xEF46DB3751D8E999; the others
/// were computed independently with Python's `xxhash` package (bindings to the C
/// reference implementation), and "a" and "abc" also match published tables.
@Suite("XXHash64")
struct XXHash64Tests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var input: String
        var seed: UInt64
        var expected: UInt64
        var testDescription: String { "\(input.utf8.count) bytes \(input.debugDescription) seed \(seed)" }
    }

    static let stringVectors: [Vector] = [
        // Published: empty input, seed 0.
        Vector(input: "", seed: 0, expected: 0xEF46_DB37_51D8_E999),
        // 1-byte tail only.
        Vector(input: "a", seed: 0, expected: 0xD24E_C4F1_A98C_6E5B),
        Vector(input: "abc", seed: 0, expected: 0x44BC_2CF5_AD77_0999),
        // 4-byte tail only.
        Vector(input: "abcd", seed: 0, expected: 0xDE03_27B0_D25D_92CC),
        // 4-byte tail then 1-byte tail.
        Vector(input: "abcde", seed: 0, expected: 0x07E3_670C_0C8D_C7EB),
        // One 8-byte lane.
        Vector(input: "abcdefgh", seed: 0, expected: 0x3AD3_5177_5B46_34B7),
        // 8 + 1.
        Vector(input: "abcdefghi", seed: 0, expected: 0x27F1_A34F_DBB9_5E13),
        // 8 + 4 + 2.
        Vector(input: "message digest", seed: 0, expected: 0x066E_D728_FCEE_B3BE),
        // Just under one stripe: 8 + 8 + 8 + 2.
        Vector(input: "abcdefghijklmnopqrstuvwxyz", seed: 0, expected: 0xCFE1_F278_FA89_835C),
        // Exactly one 32-byte stripe, no tail.
        Vector(input: "abcdefghijklmnopqrstuvwxyz012345", seed: 0, expected: 0xBF2C_D639_B414_3B80),
        // One stripe + 4-byte tail.
        Vector(input: "abcdefghijklmnopqrstuvwxyz0123456789", seed: 0, expected: 0x64F2_3ECF_1609_B766),
        // One stripe + 8 + 3.
        Vector(input: "The quick brown fox jumps over the lazy dog", seed: 0, expected: 0x0B24_2D36_1FDA_71BC),
        // One stripe + 8 + 4.
        Vector(input: "The quick brown fox jumps over the lazy dog.", seed: 0, expected: 0x44AD_3370_5751_AD73),
        // Seeds change the result on every path.
        Vector(input: "", seed: 1, expected: 0xD5AF_BA13_36A3_BE4B),
        Vector(input: "a", seed: 1, expected: 0xDEC2_BC81_C3CD_46C6),
        Vector(input: "abcde", seed: 1, expected: 0x5120_4ED6_C001_F3B9),
        Vector(input: "abcdefghijklmnopqrstuvwxyz0123456789", seed: 1, expected: 0xA0BD_7E48_2623_DE3B),
        Vector(input: "", seed: 0x9E37_79B1_85EB_CA87, expected: 0x6EC6_D05F_61C7_E7A7),
        Vector(input: "abc", seed: 0x9E37_79B1_85EB_CA87, expected: 0xA7CB_2AAC_405E_36C7),
        Vector(
            input: "The quick brown fox jumps over the lazy dog", seed: 0x9E37_79B1_85EB_CA87,
            expected: 0xB8A8_089A_DD7E_03D9),
    ]

    @Test("matches reference vectors for strings, across every tail path and seeds", arguments: stringVectors)
    func matchesStringVectors(vector: Vector) {
        #expect(XXHash64.hash(vector.input, seed: vector.seed) == vector.expected)
        #expect(XXHash64.hash(Array(vector.input.utf8), seed: vector.seed) == vector.expected)
    }

    /// Prefixes of the bytes 0, 1, 2, …, 255, around the 32-byte stripe boundaries.
    @Test(
        "matches reference vectors for binary input of 31 to 256 bytes",
        arguments: [
            (31, 0xC346_D2B5_9B4D_8EE1, 0x7196_9C89_A30A_986A),
            (32, 0xCBF5_9C51_16FF_32B4, 0x7181_3547_74E0_D600),
            (33, 0x0C53_5D1A_CAFB_8EAD, 0x57BD_8AD0_A039_0E6D),
            (63, 0xE26A_A9E2_A95F_8E4F, 0x8923_6204_5C7B_ADFB),
            (64, 0xF7C6_7301_DB67_13F0, 0x6E54_5403_B828_CF8B),
            (65, 0xC31E_B63B_2AE4_465B, 0x82A6_B660_6BD9_EF0F),
            (100, 0x6AC1_E580_3216_6597, 0x8832_442A_8828_4F11),
            (255, 0x0F7D_9750_7CAA_D693, 0x365F_C69F_1945_18D9),
            (256, 0x1FAC_BE84_06CD_904B, 0xD481_95F4_5908_996C),
        ] as [(Int, UInt64, UInt64)])
    func binaryVectors(length: Int, seed0: UInt64, seedPrime: UInt64) {
        let bytes = (0..<length).map { UInt8($0) }
        #expect(XXHash64.hash(bytes) == seed0)
        #expect(XXHash64.hash(bytes, seed: 2_654_435_761) == seedPrime)
    }

    @Test("reads unaligned input: the same bytes at any offset hash the same")
    func unalignedInput() {
        let payload = (0..<100).map { UInt8($0) }
        let expected: UInt64 = 0x6AC1_E580_3216_6597
        for offset in 1..<8 {
            let padded = [UInt8](repeating: 0xAA, count: offset) + payload
            let hash = padded.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            #expect(hash == expected, "offset \(offset)")
        }
    }

    @Test("the string overload hashes UTF-8 bytes, including non-ASCII and non-contiguous strings")
    func stringIsUTF8() {
        let text = "Zürich 🙂 naïve"
        #expect(XXHash64.hash(text) == XXHash64.hash(Array(text.utf8)))
        let bridged = String(text[text.index(after: text.startIndex)...])
        #expect(XXHash64.hash(bridged) == XXHash64.hash(Array(bridged.utf8)))
    }

    @Test("the default seed is 0")
    func defaultSeed() {
        #expect(XXHash64.hash("abc") == XXHash64.hash("abc", seed: 0))
    }
}
