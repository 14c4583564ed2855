import SeismoCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A validated label set with what batching and encoding need of it, computed once:
/// its `stableHash` (the record key of the series) and one symbol key per string
/// (name, value, name, value … in `labels` order).
///
/// A symbol key names one exact byte string for the life of the process (a cache
/// generation in the high 32 bits, a string id within it in the low ones), so
/// `SignalCodec` can map it to the record's string reference without hashing or
/// comparing the string again.
final class PreparedLabels: Sendable {
    let labels: Labels
    let stableHash: UInt64
    let symbolKeys: [UInt64]

    init(labels: Labels, symbolKeys: [UInt64]) {
        precondition(symbolKeys.count == labels.count * 2, "one symbol key per name and value")
        self.labels = labels
        stableHash = labels.stableHash
        self.symbolKeys = symbolKeys
    }
}

/// A bounded cache from the raw label bytes of a remote-write `TimeSeries` to the labels
/// they decode to, kept across requests: Prometheus sends the same series in every
/// request, so a steady stream skips label decoding, validation, hashing and the
/// encoder's string lookups.
///
/// - **Keys are bytes.** A series is keyed by the exact bytes of its run of `labels`
///   fields; equal bytes decode to equal labels (or to the same error: invalid sets are
///   never stored, so they are decoded and reported on every request). Lookups compare
///   bytes, not only hashes.
/// - **Hostile input stays bounded.** Hashes are seeded (randomly by default), probing is
///   linear with at most `maxProbes` steps (a key whose run is full is simply not
///   stored), and when `capacity` series or `byteCapacity` bytes would be exceeded the
///   whole cache is cleared first: a steady stream refills it at once, and series that
///   stopped do not pin memory. A request of only new series costs one failed lookup
///   and one insertion per series on top of the uncached decoding.
/// - **Limits.** Entries hold for the `LabelLimits` they were validated under; a
///   request decoded with other limits clears the cache.
///
/// Thread-safe: a request takes the lock twice (all lookups, then all insertions).
public final class RemoteWriteSeriesCache: Sendable {
    /// The most series held.
    public let capacity: Int
    /// The most bytes held: each key's bytes, each string's bytes, and a fixed
    /// allowance per series and per label for the decoded `Labels`.
    public let byteCapacity: Int
    /// Seeds the key hashes, so that colliding keys cannot be precomputed.
    let seed: UInt64
    private let state: Mutex<State>

    static let maxProbes = 64
    /// Bytes counted per series, per label and per string for the decoded objects and
    /// the tables that find them, beyond the bytes themselves.
    static let seriesOverhead = 160
    static let labelOverhead = 48
    static let stringOverhead = 40

    /// Generations are unique in the process, so symbol keys of different caches (or of
    /// one cache before and after a clear) never meet.
    private static let generations = Atomic<UInt64>(0)

    /// What the cache has done so far.
    public struct Statistics: Sendable, Hashable {
        public var hits = 0
        public var misses = 0
        /// Times the cache was emptied because it was full (or the limits changed).
        public var clears = 0
        /// Series held now.
        public var count = 0
        /// Bytes held now (see `byteCapacity`).
        public var byteCount = 0
    }

    /// A cache of at most `capacity` series and `byteCapacity` bytes.
    public init(capacity: Int = 200_000, byteCapacity: Int = 128 << 20, seed: UInt64 = .random(in: .min ... .max)) {
        self.capacity = max(0, min(capacity, Int(Int32.max) / 4))
        self.byteCapacity = max(0, byteCapacity)
        self.seed = seed
        state = Mutex(State())
    }

    public var statistics: Statistics {
        state.withLock { state in
            var out = state.statistics
            out.count = state.entries.count
            out.byteCount = state.byteCount
            return out
        }
    }

    /// The seeded hash of a series' label bytes.
    @inline(__always)
    func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 { XXHash64.hash(bytes, seed: seed) }

    /// One series to look up: its label bytes (within `buffer`) and their `hash`.
    struct Probe {
        var bytes: Range<Int>
        var hash: UInt64
    }

    /// The stored labels of each probe (nil when absent), for labels validated under `limits`.
    func lookup(_ probes: [Probe], in buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits) -> [PreparedLabels?] {
        state.withLock { state in
            if state.limits != limits {
                state.removeAll()
                state.limits = limits
            }
            return probes.map { state.find($0, in: buffer) }
        }
    }

    /// A series decoded and validated under `limits`, to store.
    struct Insertion {
        var probe: Probe
        var labels: Labels
    }

    /// Stores each insertion (unless the limits changed meanwhile) and returns its
    /// prepared labels, in order: nil for one that was not stored (over the bounds, its
    /// probe run full, or the cache disabled).
    func insert(_ insertions: [Insertion], in buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits) -> [PreparedLabels?] {
        state.withLock { state in
            let store = capacity > 0 && state.limits == limits
            return insertions.map { insertion in
                state.insert(insertion, in: buffer, store: store, capacity: capacity, byteCapacity: byteCapacity, seed: seed)
            }
        }
    }

    /// Forgets everything held.
    public func removeAll() { state.withLock { $0.removeAll() } }

    struct State {
        var limits = LabelLimits.default
        var generation = RemoteWriteSeriesCache.generations.add(1, ordering: .relaxed).newValue
        var statistics = Statistics()
        var byteCount = 0

        // Series: entry index + 1 per slot (0 is empty); at most a quarter full.
        var slots: [Int32] = []
        var hashes: [UInt64] = []
        /// The key of entry `e` is `keyBytes[keyEnds[e - 1] ..< keyEnds[e]]` (from 0 for the first).
        var keyEnds: [Int] = []
        var keyBytes: [UInt8] = []
        var entries: [PreparedLabels] = []

        // Strings (for symbol keys): id = index, same layout.
        var stringSlots: [Int32] = []
        var stringHashes: [UInt64] = []
        var stringEnds: [Int] = []
        var stringBytes: [UInt8] = []

        mutating func find(_ probe: Probe, in buffer: UnsafeBufferPointer<UInt8>) -> PreparedLabels? {
            if !slots.isEmpty {
                let mask = slots.count - 1
                var slot = Int(truncatingIfNeeded: probe.hash) & mask
                for _ in 0..<RemoteWriteSeriesCache.maxProbes {
                    let stored = Int(slots[slot])
                    if stored == 0 { break }
                    let entry = stored - 1
                    if hashes[entry] == probe.hash, Self.equal(keyBytes, keyEnds, entry, buffer, probe.bytes) {
                        statistics.hits += 1
                        return entries[entry]
                    }
                    slot = (slot + 1) & mask
                }
            }
            statistics.misses += 1
            return nil
        }

        mutating func insert(
            _ insertion: Insertion, in buffer: UnsafeBufferPointer<UInt8>, store: Bool, capacity: Int, byteCapacity: Int,
            seed: UInt64
        ) -> PreparedLabels? {
            let labels = insertion.labels
            // The most this series can add (its strings may be held already).
            var cost = insertion.probe.bytes.count + RemoteWriteSeriesCache.seriesOverhead
            for label in labels.pairs {
                cost += label.name.utf8.count + label.value.utf8.count + RemoteWriteSeriesCache.labelOverhead
                    + 2 * RemoteWriteSeriesCache.stringOverhead
            }
            guard store, cost <= byteCapacity else { return nil }
            if entries.count >= capacity || byteCount + cost > byteCapacity { removeAll() }

            if slots.isEmpty || entries.count * 4 >= slots.count { slots = LabelCache.grown(slots, hashes: hashes) }
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: insertion.probe.hash) & mask
            var probes = 0
            while slots[slot] != 0 {
                let entry = Int(slots[slot]) - 1
                // Two requests may both have missed the same series: keep the first.
                if hashes[entry] == insertion.probe.hash, Self.equal(keyBytes, keyEnds, entry, buffer, insertion.probe.bytes) {
                    return entries[entry]
                }
                probes += 1
                guard probes < RemoteWriteSeriesCache.maxProbes else { return nil }
                slot = (slot + 1) & mask
            }
            var keys: [UInt64] = []
            keys.reserveCapacity(labels.count * 2)
            for label in labels.pairs {
                guard let name = symbolKey(label.name, seed: seed), let value = symbolKey(label.value, seed: seed) else {
                    return nil
                }
                keys.append(name)
                keys.append(value)
            }
            let prepared = PreparedLabels(labels: labels, symbolKeys: keys)
            keyBytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[insertion.probe.bytes]))
            keyEnds.append(keyBytes.count)
            hashes.append(insertion.probe.hash)
            entries.append(prepared)
            byteCount += insertion.probe.bytes.count + RemoteWriteSeriesCache.seriesOverhead
                + labels.count * RemoteWriteSeriesCache.labelOverhead
            slots[slot] = Int32(entries.count)
            return prepared
        }

        /// The symbol key of `string` in this generation, adding the string if new; nil
        /// when its probe run is full.
        private mutating func symbolKey(_ string: String, seed: UInt64) -> UInt64? {
            var string = string
            return string.withUTF8 { utf8 -> UInt64? in
                let hash = XXHash64.hash(UnsafeRawBufferPointer(utf8), seed: seed)
                if stringSlots.isEmpty || stringHashes.count * 4 >= stringSlots.count {
                    stringSlots = LabelCache.grown(stringSlots, hashes: stringHashes)
                }
                let mask = stringSlots.count - 1
                var slot = Int(truncatingIfNeeded: hash) & mask
                for _ in 0..<RemoteWriteSeriesCache.maxProbes {
                    let stored = Int(stringSlots[slot])
                    if stored == 0 {
                        stringBytes.append(contentsOf: utf8)
                        stringEnds.append(stringBytes.count)
                        stringHashes.append(hash)
                        byteCount += utf8.count + RemoteWriteSeriesCache.stringOverhead
                        stringSlots[slot] = Int32(stringHashes.count)
                        return generation << 32 | UInt64(stringHashes.count - 1)
                    }
                    let id = stored - 1
                    if stringHashes[id] == hash, Self.equal(stringBytes, stringEnds, id, utf8, 0..<utf8.count) {
                        return generation << 32 | UInt64(id)
                    }
                    slot = (slot + 1) & mask
                }
                return nil
            }
        }

        /// Forgets every series and string; later symbol keys belong to a new generation.
        mutating func removeAll() {
            guard !entries.isEmpty || !stringHashes.isEmpty else { return }
            statistics.clears += 1
            generation = RemoteWriteSeriesCache.generations.add(1, ordering: .relaxed).newValue
            for index in slots.indices { slots[index] = 0 }
            hashes.removeAll(keepingCapacity: true)
            keyEnds.removeAll(keepingCapacity: true)
            keyBytes.removeAll(keepingCapacity: true)
            entries.removeAll(keepingCapacity: true)
            for index in stringSlots.indices { stringSlots[index] = 0 }
            stringHashes.removeAll(keepingCapacity: true)
            stringEnds.removeAll(keepingCapacity: true)
            stringBytes.removeAll(keepingCapacity: true)
            byteCount = 0
        }

        /// True when stored item `index` of `bytes`/`ends` equals `other[range]`.
        private static func equal(
            _ bytes: [UInt8], _ ends: [Int], _ index: Int, _ other: UnsafeBufferPointer<UInt8>, _ range: Range<Int>
        ) -> Bool {
            let start = index == 0 ? 0 : ends[index - 1]
            guard ends[index] - start == range.count else { return false }
            guard !range.isEmpty else { return true }
            return bytes.withUnsafeBufferPointer { stored in
                memcmp(stored.baseAddress! + start, other.baseAddress! + range.lowerBound, range.count) == 0
            }
        }
    }
}
