#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SeismoCore

/// The series of a partition: an open-addressing table from labels to dense ids, hashed
/// once over the UTF-8 bytes of the values (8 at a time) and the lengths of the names, and
/// compared byte-wise (values first, as they differ most). Cheaper than a dictionary keyed
/// by `Labels` on the hot path, and it agrees with `Labels`' byte-wise equality.
struct SeriesTable: Sendable {
    /// Ids by hash position, −1 when empty; the capacity is a power of two, at most half full.
    private var slots: [Int32] = []
    private var hashes: [UInt64] = []
    private var labels: [Labels] = []
    /// Per id; freed ids are reused.
    var states: [SeriesState] = []
    private var free: [Int32] = []
    /// Live series.
    private(set) var count = 0

    /// The id of the series with `labels`, when known.
    @inline(__always)
    func find(_ labels: Labels, hash: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        return slots.withUnsafeBufferPointer { slots in
            hashes.withUnsafeBufferPointer { hashes in
                self.labels.withUnsafeBufferPointer { stored in
                    var position = Int(truncatingIfNeeded: hash) & mask
                    while true {
                        let id = Int(slots[position])
                        if id < 0 { return nil }
                        if hashes[id] == hash, SeriesTable.equal(stored[id], labels) { return id }
                        position = (position + 1) & mask
                    }
                }
            }
        }
    }

    /// Adds a series that `find` does not know; returns its id.
    mutating func insert(_ labels: Labels, hash: UInt64, state: SeriesState) -> Int {
        let id: Int
        if let reused = free.popLast() {
            id = Int(reused)
            self.labels[id] = labels
            hashes[id] = hash
            states[id] = state
        } else {
            id = states.count
            self.labels.append(labels)
            hashes.append(hash)
            states.append(state)
        }
        count += 1
        if count * 2 > slots.count { rebuild(capacity: Swift.max(16, slots.count * 2)) } else { place(id) }
        return id
    }

    /// Forgets the series whose state `stale` rejects, then rebuilds the slots.
    mutating func removeAll(where stale: (SeriesState) -> Bool) {
        var freed = Set(free)
        var removed = 0
        for id in states.indices where !freed.contains(Int32(id)) && stale(states[id]) {
            labels[id] = Labels()
            hashes[id] = 0
            states[id] = SeriesState()
            free.append(Int32(id))
            freed.insert(Int32(id))
            removed += 1
        }
        guard removed > 0 else { return }
        count -= removed
        var capacity = 16
        while count * 2 > capacity { capacity *= 2 }
        rebuild(capacity: capacity)
    }

    private mutating func rebuild(capacity: Int) {
        slots = [Int32](repeating: -1, count: capacity)
        let freed = Set(free)
        for id in states.indices where !freed.contains(Int32(id)) { place(id) }
    }

    private mutating func place(_ id: Int) {
        let mask = slots.count - 1
        var position = Int(truncatingIfNeeded: hashes[id]) & mask
        while slots[position] >= 0 { position = (position + 1) & mask }
        slots[position] = Int32(id)
    }

    /// The hash of `labels` used by the table.
    static func hash(_ labels: Labels) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(labels.count)
        return labels.pairs.withUnsafeBufferPointer { pairs in
            for index in pairs.indices {
                hash = step(hash, UInt64(pairs[index].name.utf8.count))
                hash = mix(hash, pairs[index].value)
            }
            return hash
        }
    }

    /// Byte-wise equality of two label sets.
    static func equal(_ lhs: Labels, _ rhs: Labels) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.pairs.withUnsafeBufferPointer { left in
            rhs.pairs.withUnsafeBufferPointer { right in
                for index in left.indices {
                    guard sameBytes(left[index].value, right[index].value), sameBytes(left[index].name, right[index].name)
                    else { return false }
                }
                return true
            }
        }
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
        // Identical representations (the same inline bytes of a small string, or the same
        // storage) hold identical bytes; other cases compare the bytes.
        if MemoryLayout<String>.size == 16,
            unsafeBitCast(a, to: (UInt64, UInt64).self) == unsafeBitCast(b, to: (UInt64, UInt64).self)
        {
            return true
        }
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
