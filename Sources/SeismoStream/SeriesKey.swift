#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SeismoCore

/// A series' labels as a dictionary key for the route cache: hashed once over the UTF-8
/// bytes of the values (8 at a time) and the lengths of the names, and compared byte-wise
/// (values first, as they differ most), which is cheaper than `Labels`' own `Hashable`
/// on the hot path and agrees with its byte-wise equality.
struct SeriesKey: Hashable, Sendable {
    let labels: Labels
    let hash: UInt64

    init(_ labels: Labels) {
        self.labels = labels
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(labels.count)
        for pair in labels.pairs {
            hash = SeriesKey.step(hash, UInt64(pair.name.utf8.count))
            hash = SeriesKey.mix(hash, pair.value)
        }
        self.hash = hash
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }

    static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        guard lhs.hash == rhs.hash, lhs.labels.count == rhs.labels.count else { return false }
        for (a, b) in zip(lhs.labels.pairs, rhs.labels.pairs) {
            guard sameBytes(a.value, b.value), sameBytes(a.name, b.name) else { return false }
        }
        return true
    }

    @inline(__always)
    private static func step(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        var h = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        return h
    }

    private static func mix(_ hash: UInt64, _ string: String) -> UInt64 {
        var h = step(hash, UInt64(string.utf8.count) | 0xFF00_0000_0000_0000)
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var position = 0
            while position + 8 <= raw.count {
                h = step(h, raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                position += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while position < raw.count {
                tail |= UInt64(raw[position]) << shift
                shift += 8
                position += 1
            }
            h = step(h, tail)
        }
        if done == nil {
            for byte in string.utf8 { h = step(h, UInt64(byte)) }
        }
        return h
    }

    @inline(__always)
    private static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        let result = a.utf8.withContiguousStorageIfAvailable { lhs in
            b.utf8.withContiguousStorageIfAvailable { rhs in
                lhs.count == 0 || memcmp(lhs.baseAddress!, rhs.baseAddress!, lhs.count) == 0
            }
        }
        if case let same?? = result { return same }
        return a.utf8.elementsEqual(b.utf8)
    }
}
