/// The newest samples of one series, kept in memory as an open XOR chunk until it is cut
/// into a stored chunk. A value-type state machine: no I/O.
///
/// Samples newer than the last append cost one encoder append. An older sample, or a new
/// value for a timestamp already in the head, re-encodes the head (it holds at most a few
/// hundred samples).
struct SeriesHead: Sendable, Hashable {
    private(set) var encoder = XORChunkEncoder()
    /// The sequence number of the oldest head-log row holding one of these samples; nil when empty.
    private(set) var oldestLogSequence: Int64?

    init() {}

    var count: Int { encoder.count }
    var isEmpty: Bool { encoder.count == 0 }
    var firstTimestamp: Int64 { encoder.firstTimestamp }
    var lastTimestamp: Int64 { encoder.lastTimestamp }

    /// Puts a sample in the head; a second sample at a timestamp replaces the first. Returns
    /// false, changing nothing, when the head already holds exactly this sample (a replay).
    mutating func insert(_ timestamp: Int64, _ value: Double, logSequence: Int64) throws(StoreError) -> Bool {
        if encoder.count == 0 || timestamp > encoder.lastTimestamp {
            encoder.append(timestamp, value)
        } else if timestamp == encoder.lastTimestamp && value.bitPattern == encoder.lastBits {
            return false
        } else {
            var (timestamps, values) = try samples()
            let index = timestamps.partitioningIndex { $0 >= timestamp }
            if index < timestamps.count && timestamps[index] == timestamp {
                if values[index].bitPattern == value.bitPattern { return false }
                values[index] = value
            } else {
                timestamps.insert(timestamp, at: index)
                values.insert(value, at: index)
            }
            encoder = XORChunkEncoder()
            for (t, v) in zip(timestamps, values) { encoder.append(t, v) }
        }
        oldestLogSequence = min(oldestLogSequence ?? logSequence, logSequence)
        return true
    }

    /// The head's samples in time order.
    func samples() throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        try XORChunk.decode(encoder.encoded)
    }

    /// The head's samples, to store as a chunk (see `SQLiteStore.insertChunks`), leaving the head empty.
    mutating func cut() throws(StoreError) -> (timestamps: [Int64], values: [Double]) {
        let samples = try samples()
        self = SeriesHead()
        return samples
    }
}

/// One encoded chunk with its time range, as stored in the `chunks` table.
struct StoredChunk: Sendable, Hashable {
    var minTimestamp: Int64
    var maxTimestamp: Int64
    var count: Int
    var data: [UInt8]
    /// The samples `data` encodes.
    var timestamps: [Int64]
    var values: [Double]

    /// Sorted, distinct samples as one chunk, encoded as `data` (by default with `AdaptiveChunk`).
    init(timestamps: [Int64], values: [Double], data: [UInt8]? = nil) {
        minTimestamp = timestamps.first ?? 0
        maxTimestamp = timestamps.last ?? 0
        count = timestamps.count
        self.data = data ?? AdaptiveChunk.encode(timestamps, values)
        self.timestamps = timestamps
        self.values = values
    }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `belongs`, for a predicate false then true.
    func partitioningIndex(where belongs: (Element) throws -> Bool) rethrows -> Index {
        var low = startIndex
        var length = count
        while length > 0 {
            let half = length / 2
            let middle = index(low, offsetBy: half)
            if try belongs(self[middle]) {
                length = half
            } else {
                low = index(after: middle)
                length -= half + 1
            }
        }
        return low
    }
}
