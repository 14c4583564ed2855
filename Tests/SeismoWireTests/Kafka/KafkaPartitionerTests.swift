import SeismoCore
import SeismoTesting
import Testing

@testable import SeismoWire

@Suite("KafkaPartitioner and RecordKey")
struct KafkaPartitionerTests {
    /// From Apache Kafka's `UtilsTest.testMurmur2` (Java client `Utils.murmur2`).
    @Test(
        "murmur2 hashes match the Java client",
        arguments: [
            ("21", Int32(-973_932_308)),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ])
    func javaHashes(key: String, expected: Int32) {
        #expect(KafkaPartitioner.murmur2Hash(Array(key.utf8)) == expected)
    }

    /// Partitions among 1000 that kafka-python checks against the Java client's
    /// default partitioner (`test_murmur2_java_compatibility`).
    static let javaPartitionVectors: [([UInt8], Int32)] = [
        ([], 681), (Array("a".utf8), 524), (Array("ab".utf8), 434), (Array("abc".utf8), 107),
        (Array("123456789".utf8), 566), ([0x00, 0x20], 742),
    ]

    @Test("partitions match the Java client's default partitioner", arguments: javaPartitionVectors)
    func javaPartitions(key: [UInt8], expected: Int32) {
        #expect(KafkaPartitioner.murmur2(key: key, partitionCount: 1000) == expected)
    }

    @Test("partitions are always in range, also for keys whose hash is negative")
    func inRange() {
        var random = SeededRandom(seed: 3)
        for _ in 0..<2000 {
            let key = (0..<Int.random(in: 0..<20, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let count = Int32.random(in: 1..<300, using: &random)
            let partition = KafkaPartitioner.murmur2(key: key, partitionCount: count)
            #expect(partition >= 0 && partition < count)
        }
    }

    @Test("a series key is its stable hash, 8 bytes big-endian, and reads back")
    func seriesKey() {
        let labels: Labels = ["__name__": "up", "job": "api"]
        let key = RecordKey.series(labels)
        #expect(key.count == 8)
        #expect(RecordKey.series(0x0102_0304_0506_0708) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(RecordKey.hash(of: key) == labels.stableHash)
        #expect(RecordKey.hash(of: [1, 2, 3]) == nil)
    }

    @Test("the partition of a key hash is the partition of the key made from it")
    func keyHashPartition() {
        var random = SplitMix64(seed: 11)
        for _ in 0..<1000 {
            let hash = random.next()
            for count: Int32 in [1, 3, 4, 12] {
                #expect(KafkaPartitioner.murmur2(keyHash: hash, partitionCount: count) == KafkaPartitioner.murmur2(key: RecordKey.series(hash), partitionCount: count))
            }
        }
    }
}
