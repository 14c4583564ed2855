import SeismoCore

/// A bounded table of decoded label sets, keyed by the exact bytes of the symbols a series
/// references: each referenced symbol's UTF-8 followed by 0xFF, in reference order. 0xFF
/// never occurs in valid UTF-8, so two reference lists have the same key exactly when they
/// name the same strings in the same order, and so decode to the same `Labels` (or fail
/// the same way; failures are never stored).
///
/// Lookups compare the key bytes, not only the hash. Probing is linear and bounded
/// (`maxProbes`), so even colliding hashes cost a bounded amount per lookup: a key whose
/// probe run is full is simply not cached.
///
/// When full (`capacity` entries, or `byteCapacity` bytes of keys), the next insertion
/// clears the whole table first: a stable stream refills it at once, and series that
/// stopped (restarted pods) do not pin memory.
struct LabelCache: Sendable {
    /// The most label sets held.
    let capacity: Int
    /// The most key bytes held.
    let byteCapacity: Int
    /// Seeds the symbol hashes, so that colliding label sets cannot be precomputed.
    let seed: UInt64

    static let maxProbes = 64

    /// Entry index + 1 per slot; 0 is empty. Grows by doubling up to four times `capacity`.
    private var slots: [Int32] = []
    private var hashes: [UInt64] = []
    private var keyStarts: [Int] = []
    private var keyEnds: [Int] = []
    private var labels: [Labels] = []
    private var keyBytes: [UInt8] = []

    private(set) var hits = 0
    private(set) var misses = 0
    private(set) var clears = 0

    /// A cache that stores nothing: `SignalCodec.decode`'s.
    static let disabled = LabelCache(capacity: 0, byteCapacity: 0, seed: 0)

    var count: Int { labels.count }
    var byteCount: Int { keyBytes.count }
    var isEnabled: Bool { capacity > 0 }

    init(capacity: Int, byteCapacity: Int, seed: UInt64 = .random(in: .min ... .max)) {
        self.capacity = max(0, min(capacity, Int(Int32.max) / 4))
        self.byteCapacity = max(0, byteCapacity)
        self.seed = seed
    }

    /// The hash of one symbol's bytes.
    @inline(__always)
    func hash(symbol bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        XXHash64.hash(UnsafeRawBufferPointer(bytes), seed: seed)
    }

    /// Folds the next referenced symbol's hash into a key's hash (order-sensitive).
    @inline(__always)
    static func combine(_ hash: UInt64, _ symbolHash: UInt64) -> UInt64 {
        let mixed = (hash ^ symbolHash) &* 0x9E37_79B9_7F4A_7C15
        return mixed ^ (mixed >> 29)
    }

    /// The labels stored under the key of the symbol references packed in `refs` (a range
    /// of `payload`), whose key is `keyLength` bytes and hashes to `hash`. The caller has
    /// read the references once: they are well-formed and index into `symbols`.
    mutating func find(
        hash: UInt64, keyLength: Int, refs: Range<Int>, symbols: [Range<Int>], payload: UnsafeBufferPointer<UInt8>
    ) -> Labels? {
        if !slots.isEmpty {
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            for _ in 0..<Self.maxProbes {
                let stored = Int(slots[slot])
                if stored == 0 { break }
                let entry = stored - 1
                if hashes[entry] == hash, keyEnds[entry] - keyStarts[entry] == keyLength,
                    keyMatches(entry, refs: refs, symbols: symbols, payload: payload)
                {
                    hits += 1
                    return labels[entry]
                }
                slot = (slot + 1) & mask
            }
        }
        misses += 1
        return nil
    }

    private func keyMatches(
        _ entry: Int, refs: Range<Int>, symbols: [Range<Int>], payload: UnsafeBufferPointer<UInt8>
    ) -> Bool {
        keyBytes.withUnsafeBytes { key in
            symbols.withUnsafeBufferPointer { symbols in
                let bytes = UnsafeRawBufferPointer(payload)
                var reader = ProtoReader(payload, range: refs)
                var position = keyStarts[entry]
                let end = keyEnds[entry]
                while !reader.isAtEnd {
                    guard let ref = try? reader.varint() else { return false }
                    let symbol = symbols[Int(ref)]
                    let length = symbol.count
                    guard end - position > length, key[position + length] == 0xFF,
                        Self.equal(key, position, bytes, symbol.lowerBound, count: length)
                    else { return false }
                    position += length + 1
                }
                return position == end
            }
        }
    }

    /// True when `count` bytes of `a` at `i` equal those of `b` at `j` (both in bounds).
    @inline(__always)
    private static func equal(
        _ a: UnsafeRawBufferPointer, _ i: Int, _ b: UnsafeRawBufferPointer, _ j: Int, count: Int
    ) -> Bool {
        var index = 0
        while count - index >= 8 {
            guard
                a.loadUnaligned(fromByteOffset: i + index, as: UInt64.self)
                    == b.loadUnaligned(fromByteOffset: j + index, as: UInt64.self)
            else { return false }
            index += 8
        }
        let rest = count - index
        guard rest > 0 else { return true }
        // The last 1...7 bytes: one masked word when both buffers have 8 bytes there.
        if a.count - (i + index) >= 8, b.count - (j + index) >= 8 {
            let mask: UInt64 = (1 << UInt64(rest * 8)) - 1
            let x = a.loadUnaligned(fromByteOffset: i + index, as: UInt64.self)
            let y = b.loadUnaligned(fromByteOffset: j + index, as: UInt64.self)
            return (x ^ y) & UInt64(littleEndian: mask) == 0
        }
        while index < count {
            guard a[i + index] == b[j + index] else { return false }
            index += 1
        }
        return true
    }

    /// Stores `value` under the key of `refs` (see `find`), clearing the table first when
    /// it is full. A key over `byteCapacity`, or whose probe run is full, is not stored.
    mutating func insert(
        _ value: Labels, hash: UInt64, keyLength: Int, refs: Range<Int>, symbols: [Range<Int>],
        payload: UnsafeBufferPointer<UInt8>
    ) {
        guard isEnabled, keyLength <= byteCapacity else { return }
        if labels.count >= capacity || keyBytes.count + keyLength > byteCapacity { removeAll() }
        if slots.isEmpty || labels.count * 4 >= slots.count { grow() }

        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        var probes = 0
        while slots[slot] != 0 {
            probes += 1
            guard probes < Self.maxProbes else { return }
            slot = (slot + 1) & mask
        }
        keyStarts.append(keyBytes.count)
        var reader = ProtoReader(payload, range: refs)
        while !reader.isAtEnd, let ref = try? reader.varint() {
            keyBytes.append(contentsOf: UnsafeBufferPointer(rebasing: payload[symbols[Int(ref)]]))
            keyBytes.append(0xFF)
        }
        keyEnds.append(keyBytes.count)
        hashes.append(hash)
        labels.append(value)
        slots[slot] = Int32(labels.count)
    }

    /// Forgets every entry (counted in `clears` when there were any).
    mutating func removeAll() {
        guard !labels.isEmpty else { return }
        clears += 1
        hashes.removeAll(keepingCapacity: true)
        keyStarts.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        keyBytes.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    /// Doubles the slot table, up to the power of two at or above four times `capacity`
    /// (so it is at most a quarter full, keeping linear probe runs short), and re-places
    /// every entry.
    private mutating func grow() {
        var limit = 64
        while limit < 4 * capacity { limit *= 2 }
        guard slots.count < limit else { return }
        let size = slots.isEmpty ? 64 : slots.count * 2
        slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for entry in labels.indices {
            var slot = Int(truncatingIfNeeded: hashes[entry]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry + 1)
        }
    }
}
