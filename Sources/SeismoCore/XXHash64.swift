/// xxHash64 (seed 0 by default), the stable 64-bit hash used for series keys.
///
/// Stable across processes, machines and releases, unlike `Hasher`: series hashes are
/// written to Kafka record keys and to the store.
public struct XXHash64: Sendable {
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
    private static let p3: UInt64 = 0x1656_67B1_9E37_79F9
    private static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63
    private static let p5: UInt64 = 0x27D4_EB2F_1656_67C5

    /// Hashes `bytes` in one call.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let count = bytes.count
        var index = 0
        var h: UInt64

        @inline(__always) func read64(_ i: Int) -> UInt64 {
            UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        }
        @inline(__always) func read32(_ i: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
        }
        @inline(__always) func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
            var acc = acc &+ input &* p2
            acc = (acc << 31) | (acc >> 33)
            return acc &* p1
        }
        @inline(__always) func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 {
            var acc = acc ^ round(0, val)
            acc = acc &* p1 &+ p4
            return acc
        }

        if count >= 32 {
            var v1 = seed &+ p1 &+ p2
            var v2 = seed &+ p2
            var v3 = seed
            var v4 = seed &- p1
            while index + 32 <= count {
                v1 = round(v1, read64(index))
                v2 = round(v2, read64(index + 8))
                v3 = round(v3, read64(index + 16))
                v4 = round(v4, read64(index + 24))
                index += 32
            }
            h = ((v1 << 1) | (v1 >> 63)) &+ ((v2 << 7) | (v2 >> 57))
                &+ ((v3 << 12) | (v3 >> 52)) &+ ((v4 << 18) | (v4 >> 46))
            h = merge(h, v1)
            h = merge(h, v2)
            h = merge(h, v3)
            h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(count)

        while index + 8 <= count {
            h ^= round(0, read64(index))
            h = ((h << 27) | (h >> 37)) &* p1 &+ p4
            index += 8
        }
        if index + 4 <= count {
            h ^= read32(index) &* p1
            h = ((h << 23) | (h >> 41)) &* p2 &+ p3
            index += 4
        }
        while index < count {
            h ^= UInt64(bytes[index]) &* p5
            h = ((h << 11) | (h >> 53)) &* p1
            index += 1
        }
        h ^= h >> 33
        h = h &* p2
        h ^= h >> 29
        h = h &* p3
        h ^= h >> 32
        return h
    }

    /// Hashes the UTF-8 bytes of a string.
    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Hashes a byte array.
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }
}
