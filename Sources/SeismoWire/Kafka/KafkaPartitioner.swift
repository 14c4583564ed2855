/// Kafka's default partitioning of keyed records, so that records Seismo assigns to a
/// partition itself land where any Kafka client partitioning by key would put them.
public enum KafkaPartitioner {
    /// The partition of `key` among `partitionCount` partitions, as the Java client's
    /// default partitioner computes it (`toPositive(murmur2(key)) % partitionCount`), and
    /// as librdkafka's `murmur2_random` partitioner does for non-empty keys.
    public static func murmur2(key: [UInt8], partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "partitionCount must be positive")
        let positive = UInt32(bitPattern: murmur2Hash(key)) & 0x7FFF_FFFF
        return Int32(positive % UInt32(partitionCount))
    }

    /// The 32-bit MurmurHash2 of `key` with Kafka's seed `0x9747b28c`, as the Java
    /// client's `Utils.murmur2` returns it (signed).
    public static func murmur2Hash(_ key: [UInt8]) -> Int32 {
        key.withUnsafeBytes { murmur2Hash($0) }
    }

    /// The partition of a key made by `RecordKey.series(_:)` from `hash`, without making the key.
    static func murmur2(keyHash hash: UInt64, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "partitionCount must be positive")
        let positive = withUnsafeBytes(of: hash.bigEndian) { UInt32(bitPattern: murmur2Hash($0)) } & 0x7FFF_FFFF
        return Int32(positive % UInt32(partitionCount))
    }

    static func murmur2Hash(_ key: UnsafeRawBufferPointer) -> Int32 {
        let m: UInt32 = 0x5BD1_E995
        let count = key.count
        var h = 0x9747_B28C ^ UInt32(truncatingIfNeeded: count)
        var index = 0
        while index + 4 <= count {
            var k = UInt32(key[index]) | UInt32(key[index + 1]) << 8 | UInt32(key[index + 2]) << 16
                | UInt32(key[index + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m ^ k
            index += 4
        }
        switch count - index {
        case 3:
            h ^= UInt32(key[index + 2]) << 16
            fallthrough
        case 2:
            h ^= UInt32(key[index + 1]) << 8
            fallthrough
        case 1:
            h ^= UInt32(key[index])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }
}
