import SeismoCore

/// A bounded table of decoded label sets, in two levels:
///
/// - **Strings.** Every distinct symbol a cached series referenced, stored once by its
///   exact bytes and numbered (its id), with its `String` and its validity flags. A record
///   maps each symbol it uses to an id once (one hash, one byte compare), however many
///   series reference it.
/// - **Label sets.** Keyed by the list of string ids a series references, in reference
///   order. Two reference lists have the same key exactly when they name the same strings
///   in the same order, and so decode to the same `Labels` (or fail the same way; failures
///   are never stored). A lookup compares a few integers, not bytes.
///
/// Lookups compare bytes (strings) and ids (label sets), not only hashes. Probing is
/// linear and bounded (`maxProbes`), so even colliding hashes cost a bounded amount per
/// lookup: a key whose probe run is full is simply not cached.
///
/// When full (`capacity` label sets, or `byteCapacity` bytes: each string's bytes plus
/// one, and four per id in each key), the next insertion clears the whole table (strings
/// and label sets) instead: a stable stream refills it at once, and series that stopped
/// (restarted pods) do not pin memory. A clear invalidates every id, which is why callers
/// watch `clears`.
struct LabelCache: Sendable {
    /// The most label sets held.
    let capacity: Int
    /// The most bytes held (see the type's documentation).
    let byteCapacity: Int
    /// Seeds the string hashes, so that colliding label sets cannot be precomputed.
    let seed: UInt64

    static let maxProbes = 64

    // Strings: id = index.
    /// String id + 1 per slot; 0 is empty. At most a quarter full.
    private var stringSlots: [Int32] = []
    private(set) var stringHashes: [UInt64] = []
    /// The bytes of string `id` are `stringBytes[stringEnds[id - 1] ..< stringEnds[id]]`
    /// (from 0 for the first).
    private var stringEnds: [Int] = []
    private var stringBytes: [UInt8] = []
    private(set) var strings: [String] = []
    /// Set by the caller (see `setFlags`); the cache does not interpret them.
    private(set) var stringFlags: [UInt8] = []

    // Label sets: entry = index.
    /// Entry index + 1 per slot; 0 is empty. At most a quarter full.
    private var slots: [Int32] = []
    private var hashes: [UInt64] = []
    /// The key of entry `e` is `keyIDs[keyEnds[e - 1] ..< keyEnds[e]]` (from 0 for the first).
    private var keyEnds: [Int] = []
    private var keyIDs: [Int32] = []
    private var labels: [Labels] = []

    private(set) var byteCount = 0

    // The previous record's string table, kept by `BatchReader` so that the next record
    // with the same table maps its symbols to string ids without reading them: the
    // table's bytes, each symbol's range within them, each symbol's id (-1 when not
    // interned), and `clears` when the ids were taken (they are stale after a clear).
    var previousTable: [UInt8] = []
    var previousRanges: [Range<Int>] = []
    var previousIDs: [Int32] = []
    var previousClears = -1
    /// The labels of the previous record's series (the first ones, in order) and the
    /// bytes of their packed label references; valid with `previousTable`.
    var previousSeriesRefs: [UInt8] = []
    var previousSeriesEnds: [Int] = []
    var previousSeriesLabels: [Labels] = []

    var hits = 0
    var misses = 0
    private(set) var clears = 0

    /// A cache that stores nothing: `SignalCodec.decode`'s.
    static let disabled = LabelCache(capacity: 0, byteCapacity: 0, seed: 0)

    /// Label sets held.
    var count: Int { labels.count }
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

    /// Folds the next referenced string's hash into a key's hash (order-sensitive).
    @inline(__always)
    static func combine(_ hash: UInt64, _ symbolHash: UInt64) -> UInt64 {
        let mixed = (hash ^ symbolHash) &* 0x9E37_79B9_7F4A_7C15
        return mixed ^ (mixed >> 29)
    }

    // MARK: Strings

    /// What `intern` did.
    enum Interned {
        /// The bytes were held already, under this id.
        case found(Int32)
        /// The bytes are now held under this id; the caller sets their flags.
        case inserted(Int32)
        /// Not held: the table was full and has been cleared (every earlier id is now
        /// invalid), or the bytes alone are over the bound, or their probe run is full.
        case notStored
    }

    /// The id of the string with these bytes (valid UTF-8) and `hash`, adding it if new.
    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Interned {
        if !stringSlots.isEmpty {
            let mask = stringSlots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            for _ in 0..<Self.maxProbes {
                let stored = Int(stringSlots[slot])
                if stored == 0 { break }
                let id = stored - 1
                if stringHashes[id] == hash, stringBytesEqual(id, bytes) { return .found(Int32(id)) }
                slot = (slot + 1) & mask
            }
        }
        guard isEnabled else { return .notStored }
        let cost = bytes.count + 1
        guard cost <= byteCapacity else { return .notStored }
        if byteCount + cost > byteCapacity || strings.count >= Int(Int32.max) / 4 {
            removeAll()
            return .notStored
        }
        if stringSlots.isEmpty || strings.count * 4 >= stringSlots.count {
            stringSlots = Self.grown(stringSlots, hashes: stringHashes)
        }
        let mask = stringSlots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        var probes = 0
        while stringSlots[slot] != 0 {
            probes += 1
            guard probes < Self.maxProbes else { return .notStored }
            slot = (slot + 1) & mask
        }
        stringBytes.append(contentsOf: bytes)
        stringEnds.append(stringBytes.count)
        stringHashes.append(hash)
        strings.append(String(decoding: bytes, as: UTF8.self))
        stringFlags.append(0)
        byteCount += cost
        stringSlots[slot] = Int32(strings.count)
        return .inserted(Int32(strings.count - 1))
    }

    /// Records the caller's flags for string `id`.
    mutating func setFlags(_ id: Int32, _ flags: UInt8) { stringFlags[Int(id)] = flags }

    private func stringBytesEqual(_ id: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = id == 0 ? 0 : stringEnds[id - 1]
        let end = stringEnds[id]
        guard end - start == bytes.count else { return false }
        return stringBytes.withUnsafeBytes { stored in
            Self.equal(stored, start, UnsafeRawBufferPointer(bytes), 0, count: bytes.count)
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
        while index < count {
            guard a[i + index] == b[j + index] else { return false }
            index += 1
        }
        return true
    }

    // MARK: Label sets

    /// The labels stored under `key` (string ids), whose hash is `hash`.
    mutating func find(hash: UInt64, key: UnsafeBufferPointer<Int32>) -> Labels? {
        if !slots.isEmpty {
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            for _ in 0..<Self.maxProbes {
                let stored = Int(slots[slot])
                if stored == 0 { break }
                let entry = stored - 1
                if hashes[entry] == hash, keyMatches(entry, key) {
                    hits += 1
                    return labels[entry]
                }
                slot = (slot + 1) & mask
            }
        }
        misses += 1
        return nil
    }

    private func keyMatches(_ entry: Int, _ key: UnsafeBufferPointer<Int32>) -> Bool {
        let start = entry == 0 ? 0 : keyEnds[entry - 1]
        let end = keyEnds[entry]
        guard end - start == key.count else { return false }
        return keyIDs.withUnsafeBufferPointer { ids in
            for index in 0..<key.count where ids[start + index] != key[index] { return false }
            return true
        }
    }

    /// Stores `value` under `key` (see `find`). When the table is full it is cleared
    /// instead (every id becomes invalid, so `key` is not stored). A key over the byte
    /// bound, or whose probe run is full, is not stored.
    mutating func insert(_ value: Labels, hash: UInt64, key: UnsafeBufferPointer<Int32>) {
        let cost = key.count * 4
        guard isEnabled, cost <= byteCapacity else { return }
        if labels.count >= capacity || byteCount + cost > byteCapacity {
            removeAll()
            return
        }
        if slots.isEmpty || labels.count * 4 >= slots.count { slots = Self.grown(slots, hashes: hashes) }

        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        var probes = 0
        while slots[slot] != 0 {
            probes += 1
            guard probes < Self.maxProbes else { return }
            slot = (slot + 1) & mask
        }
        keyIDs.append(contentsOf: key)
        keyEnds.append(keyIDs.count)
        hashes.append(hash)
        labels.append(value)
        byteCount += cost
        slots[slot] = Int32(labels.count)
    }

    /// Forgets every string and label set (counted in `clears` when there were any).
    mutating func removeAll() {
        guard !strings.isEmpty || !labels.isEmpty else { return }
        clears += 1
        stringHashes.removeAll(keepingCapacity: true)
        stringEnds.removeAll(keepingCapacity: true)
        stringBytes.removeAll(keepingCapacity: true)
        strings.removeAll(keepingCapacity: true)
        stringFlags.removeAll(keepingCapacity: true)
        for index in stringSlots.indices { stringSlots[index] = 0 }
        hashes.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        keyIDs.removeAll(keepingCapacity: true)
        labels.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
        byteCount = 0
    }

    /// A slot table twice the size of `table` (64 when empty), with every entry of
    /// `hashes` re-placed. Tables stay at most a quarter full (the callers grow them
    /// before that), keeping linear probe runs short.
    static func grown(_ table: [Int32], hashes: [UInt64]) -> [Int32] {
        let size = table.isEmpty ? 64 : table.count * 2
        var slots = [Int32](repeating: 0, count: size)
        let mask = size - 1
        for entry in hashes.indices {
            var slot = Int(truncatingIfNeeded: hashes[entry]) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(entry + 1)
        }
        return slots
    }
}
