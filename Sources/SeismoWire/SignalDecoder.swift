import SeismoCore

/// Decodes signal records like `SignalCodec.decode`, remembering the label sets it has
/// built, so that a consumer that sees the same series record after record (as every
/// scrape or remote-write stream does) validates and allocates each label set once.
///
///     var decoder = SignalDecoder()
///     for record in records {
///         let batch = try decoder.decode(record.payload)
///         …
///     }
///
/// A series is looked up by the exact bytes of the strings its label references name
/// (compared byte for byte on a hit, not only by hash); a hit allocates no strings and
/// skips label validation, which ran when the label set was first seen. Everything else
/// about a record is checked on every record, so malformed input throws exactly as with
/// `SignalCodec.decode`, hit or miss.
///
/// The cache is bounded: at most `cacheCapacity` label sets and `cacheBytes` bytes of label
/// text (the referenced strings, each plus one separator byte). When either bound would be
/// passed, the cache is cleared and refills from the records that follow. Keep one decoder
/// per consumer (per partition or per task); it is a value, and a copy has its own cache.
public struct SignalDecoder: Sendable {
    /// What the cache has done so far.
    public struct Statistics: Sendable, Hashable {
        /// Series whose labels came from the cache.
        public var hits: Int
        /// Series whose labels were built (and then cached, unless over a bound).
        public var misses: Int
        /// Label sets held now.
        public var entries: Int
        /// Bytes of label text held now.
        public var bytes: Int
        /// How often the cache was cleared because it was full.
        public var clears: Int
    }

    /// The label limits every decoded label set is checked against.
    public let limits: LabelLimits
    private var cache: LabelCache

    /// A decoder that caches up to `cacheCapacity` label sets and `cacheBytes` bytes of
    /// label text; a capacity of 0 caches nothing.
    public init(cacheCapacity: Int = 100_000, cacheBytes: Int = 64 << 20, limits: LabelLimits = .default) {
        self.limits = limits
        cache = LabelCache(capacity: cacheCapacity, byteCapacity: cacheBytes)
    }

    /// The most label sets the cache holds.
    public var cacheCapacity: Int { cache.capacity }

    /// The most bytes of label text the cache holds.
    public var cacheBytes: Int { cache.byteCapacity }

    /// Hits, misses and size of the cache.
    public var statistics: Statistics {
        Statistics(hits: cache.hits, misses: cache.misses, entries: cache.count, bytes: cache.byteCount, clears: cache.clears)
    }

    /// Decodes one record's payload. Same result and same errors as
    /// `SignalCodec.decode(bytes, limits: limits)`.
    public mutating func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> SignalBatch {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WireError) in try decode(buffer: buffer) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(WireError) in try decode(buffer: buffer) }
        }.get()
    }

    /// Forgets every cached label set.
    public mutating func removeAllCachedLabels() { cache.removeAll() }

    private mutating func decode(buffer: UnsafeBufferPointer<UInt8>) throws(WireError) -> SignalBatch {
        // Moves the cache into the reader and back (a copy would make the first insert copy it).
        var reader = BatchReader(buffer: buffer, limits: limits)
        swap(&reader.cache, &cache)
        defer { swap(&reader.cache, &cache) }
        return try reader.decode()
    }
}
