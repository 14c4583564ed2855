import SeismoCore

/// One Kafka record ready to produce: its key, the partition its key maps to, and the
/// encoded `SignalBatch` (header `content-type: application/vnd.seismo.signals.v1+protobuf`).
public struct EncodedRecord: Sendable, Equatable {
    /// The key of one of the record's series (or streams or traces); it maps to `partition`.
    public var key: [UInt8]
    public var partition: Int32
    public var payload: [UInt8]
    public var sampleCount: Int
    public var logCount: Int
    public var spanCount: Int

    public init(key: [UInt8], partition: Int32, payload: [UInt8], sampleCount: Int, logCount: Int = 0, spanCount: Int = 0) {
        self.key = key
        self.partition = partition
        self.payload = payload
        self.sampleCount = sampleCount
        self.logCount = logCount
        self.spanCount = spanCount
    }
}

/// Packs signals into Kafka records, partitioned by series (or by group of series).
///
/// Every series is keyed by `RecordKey.series(labels)` (log records by their stream
/// labels, spans by `RecordKey.trace(traceID)`); with `keyLabels` set, series and log
/// records are keyed by `RecordKey.group(labels, keyLabels)` instead, so every series that
/// shares those label values lands on one partition. Each key is assigned the partition that Kafka's
/// default murmur2 partitioner gives that key. Series of one partition are packed into
/// records of at most `maxSamplesPerRecord` signals (a log record or span counts as one);
/// a series larger than that is split across consecutive records of its partition. Each
/// record's key is the key of its first series, so a client that partitions by key sends
/// it to the same partition, and samples of one series keep their order within it.
public struct SignalBatcher: Sendable {
    public let partitionCount: Int32
    public let maxSamplesPerRecord: Int
    /// Written as each record's `SignalBatch.source`.
    public var source: String
    /// The labels whose values key a series (a topic's `keyLabels`); nil keys by the whole series.
    public let keyLabels: [String]?
    private let keyLabelSet: Set<String>?

    public init(partitionCount: Int32, maxSamplesPerRecord: Int = 1000, source: String = "", keyLabels: [String]? = nil) {
        precondition(partitionCount > 0, "partitionCount must be positive")
        precondition(maxSamplesPerRecord > 0, "maxSamplesPerRecord must be positive")
        self.partitionCount = partitionCount
        self.maxSamplesPerRecord = maxSamplesPerRecord
        self.source = source
        self.keyLabels = keyLabels
        keyLabelSet = keyLabels.map(Set.init)
    }

    /// The record key of the series (or log stream) `labels`.
    public func key(of labels: Labels) -> [UInt8] {
        guard let keyLabelSet else { return RecordKey.series(labels) }
        return RecordKey.group(labels, keyLabelSet)
    }

    /// Records for `samples`, `logs` and `spans`, ordered by partition.
    public func records(samples: some Sequence<Sample>, logs: [LogRecord] = [], spans: [Span] = []) -> [EncodedRecord] {
        records(for: SignalBatch(samples: samples, logs: logs, spans: spans))
    }

    /// Records for the content of `batch` (its `source` is replaced by `self.source`),
    /// ordered by partition; series without samples are dropped.
    public func records(for batch: SignalBatch) -> [EncodedRecord] {
        // Every key is the 8 bytes of a 64-bit hash: group by hash, make key bytes per record.
        var partitions = [Pending](repeating: Pending(), count: Int(partitionCount))
        // Pending items are indices into `batch`, so each signal is copied once, into its record.
        // Series are read in place (by index), not copied out of the batch.
        for index in batch.series.indices where batch.series[index].count > 0 {
            let hash = seriesKeyHash(batch.series[index])
            partitions[Int(partition(ofKeyHash: hash))].series.append((hash, index))
        }
        for (index, log) in batch.logs.enumerated() {
            let hash = keyHash(of: log.labels)
            partitions[Int(partition(ofKeyHash: hash))].logs.append((hash, index))
        }
        for (index, span) in batch.spans.enumerated() {
            let hash = XXHash64.hash(span.traceID)
            partitions[Int(partition(ofKeyHash: hash))].spans.append((hash, index))
        }

        var out: [EncodedRecord] = []
        for (partition, pending) in partitions.enumerated() {
            guard !pending.isEmpty else { continue }
            var packer = Packer(partition: Int32(partition), limit: maxSamplesPerRecord, source: source)
            for (key, index) in pending.series { packer.add(batch.series[index], key: key, into: &out) }
            for (key, index) in pending.logs { packer.add(batch.logs[index], key: key, into: &out) }
            for (key, index) in pending.spans { packer.add(batch.spans[index], key: key, into: &out) }
            packer.flush(into: &out)
        }
        return out
    }

    /// The partition of `key`.
    public func partition(of key: [UInt8]) -> Int32 {
        KafkaPartitioner.murmur2(key: key, partitionCount: partitionCount)
    }

    /// The hash whose 8 bytes are `key(of: series.labels)` (precomputed when prepared).
    private func seriesKeyHash(_ series: SeriesSamples) -> UInt64 {
        guard keyLabelSet == nil else { return keyHash(of: series.labels) }
        if let prepared = series.prepared { return prepared.stableHash }
        return series.labels.stableHash
    }

    /// The hash whose 8 bytes are `key(of: labels)`.
    private func keyHash(of labels: Labels) -> UInt64 {
        guard let keyLabelSet else { return labels.stableHash }
        return labels.keeping(keyLabelSet).stableHash
    }

    private func partition(ofKeyHash hash: UInt64) -> Int32 {
        KafkaPartitioner.murmur2(keyHash: hash, partitionCount: partitionCount)
    }

    private struct Pending {
        /// (key hash, index in the batch) per item.
        var series: [(UInt64, Int)] = []
        var logs: [(UInt64, Int)] = []
        var spans: [(UInt64, Int)] = []

        var isEmpty: Bool { series.isEmpty && logs.isEmpty && spans.isEmpty }
    }

    /// Fills records of one partition up to the limit, encoding each item as it is added
    /// (items are not copied into a batch first).
    private struct Packer {
        let partition: Int32
        let limit: Int
        let source: String
        var encoder: SignalCodec.Encoder
        /// The hash of the record's key (its first series' key).
        var key: UInt64?
        var used = 0
        var samples = 0
        var logs = 0
        var spans = 0

        init(partition: Int32, limit: Int, source: String) {
            self.partition = partition
            self.limit = limit
            self.source = source
            encoder = Self.encoder(limit)
        }

        private static func encoder(_ limit: Int) -> SignalCodec.Encoder { SignalCodec.Encoder(capacity: min(limit, 4096) * 16) }

        mutating func add(_ series: SeriesSamples, key: UInt64, into out: inout [EncodedRecord]) {
            var start = 0
            while start < series.count {
                if used == limit { flush(into: &out) }
                let end = min(series.count, start + limit - used)
                if start == 0 && end == series.count {
                    encoder.add(series)
                } else {
                    var chunk = SeriesSamples(
                        labels: series.labels, timestamps: Array(series.timestamps[start..<end]),
                        values: Array(series.values[start..<end]))
                    chunk.prepared = series.prepared
                    encoder.add(chunk)
                }
                self.key = self.key ?? key
                used += end - start
                samples += end - start
                start = end
            }
        }

        mutating func add(_ log: LogRecord, key: UInt64, into out: inout [EncodedRecord]) {
            if used == limit { flush(into: &out) }
            encoder.add(log)
            self.key = self.key ?? key
            used += 1
            logs += 1
        }

        mutating func add(_ span: Span, key: UInt64, into out: inout [EncodedRecord]) {
            if used == limit { flush(into: &out) }
            encoder.add(span)
            self.key = self.key ?? key
            used += 1
            spans += 1
        }

        mutating func flush(into out: inout [EncodedRecord]) {
            guard let key else { return }
            out.append(
                EncodedRecord(
                    key: RecordKey.series(key), partition: partition, payload: encoder.finish(source: source),
                    sampleCount: samples, logCount: logs, spanCount: spans))
            encoder = Self.encoder(limit)
            self.key = nil
            used = 0
            samples = 0
            logs = 0
            spans = 0
        }
    }
}

extension RecordKey {
    /// The key of the group of series that share the values of `keyLabels`: the 8 bytes,
    /// big-endian, of the `stableHash` of only those labels (absent ones are left out).
    public static func group(_ labels: Labels, _ keyLabels: Set<String>) -> [UInt8] {
        series(labels.keeping(keyLabels))
    }

    /// The key of the group of series that share the values of `keyLabels`.
    public static func group(_ labels: Labels, _ keyLabels: [String]) -> [UInt8] {
        group(labels, Set(keyLabels))
    }
}
