import SeismoCore

/// Kafka record keys of signal records. Signal topics are partitioned by key, so every
/// record of one series (or trace) lands on one partition and one worker.
public enum RecordKey {
    /// The key of a series: the 8 bytes of its `Labels.stableHash`, big-endian.
    public static func series(_ hash: UInt64) -> [UInt8] {
        withUnsafeBytes(of: hash.bigEndian) { Array($0) }
    }

    /// The key of the series `labels`.
    public static func series(_ labels: Labels) -> [UInt8] { series(labels.stableHash) }

    /// The key of a trace: the xxHash64 of its trace id, 8 bytes big-endian, so that
    /// all spans of a trace land on one partition.
    public static func trace(_ traceID: [UInt8]) -> [UInt8] { series(XXHash64.hash(traceID)) }

    /// The hash in a key made by `series(_:)`, or nil when `key` is not 8 bytes.
    public static func hash(of key: some Collection<UInt8>) -> UInt64? {
        guard key.count == 8 else { return nil }
        return key.reduce(0) { $0 << 8 | UInt64($1) }
    }
}
