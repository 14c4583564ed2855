import Foundation
import SeismoCore
@testable import SeismoDetect
import Testing

/// A daily-seasonal series sampled every 10 minutes, with seeded noise.
func seasonalSeries(days: Double = 6, level: Double = 100, seed: UInt64 = 5, start: Double = 1_700_006_400)
    -> (times: [Double], values: [Double])
{
    var rng = SplitMix64(seed: seed)
    let times = stride(from: 0.0, to: days * 86_400, by: 600).map { start + $0 }
    let values = times.map { level + 10 * sin(2 * Double.pi * ($0 - start) / 86_400) + rng.nextGaussian() }
    return (times, values)
}

@Suite("Model files: weights round trip")
struct ModelFileTests {
    @Test("an isolation forest read back from its weights file is equal and scores identically")
    func isolationForest() throws {
        let model = try IsolationForest(treeCount: 40).fit(gaussianTable(), seed: 3)
        let loaded = try IsolationForestModel.decode(weightsFile: model.weightsFileBytes())
        #expect(loaded == model)
        let fresh = gaussianTable(rows: 200, seed: 99, extra: [[9, 0]])
        #expect(try loaded.score(fresh) == model.score(fresh))
    }

    @Test("an extended isolation forest read back is equal and scores identically (batched and per-row)")
    func extendedForest() throws {
        let model = try ExtendedIsolationForest(treeCount: 30).fit(gaussianTable(), seed: 4)
        let loaded = try ExtendedIsolationForestModel.decode(weightsFile: model.weightsFileBytes())
        #expect(loaded == model)
        let fresh = gaussianTable(rows: 300, seed: 98, extra: [[0, -8]])
        #expect(try loaded.score(fresh) == model.score(fresh))
        #expect(try loaded.rawScores(fresh, path: .perRow) == model.rawScores(fresh, path: .perRow))
    }

    @Test("an autoencoder read back is equal (weights, standardisation, metrics) and scores identically")
    func autoencoder() throws {
        let model = try Autoencoder(encoderWidths: [4, 2], activations: [.relu, .sigmoid], maxEpochs: 5)
            .fit(gaussianTable(), seed: 2)
        let loaded = try AutoencoderModel.decode(weightsFile: model.weightsFileBytes())
        #expect(loaded == model)
        let fresh = gaussianTable(rows: 100, seed: 97, extra: [[5, 5]])
        #expect(try loaded.score(fresh) == model.score(fresh))
    }

    @Test("a seasonal model set read back is equal and its trackers score a continuation identically")
    func seasonal() throws {
        let a = seasonalSeries(seed: 1), b = seasonalSeries(level: 500, seed: 2)
        let set = try SeasonalModelSet.fit(
            series: [("{service=\"a\"}", "value", a.times, a.values), ("{service=\"b\"}", "value", b.times, b.values)],
            configuration: SeasonalConfiguration(), falsePositiveRate: 0.01)
        let loaded = try SeasonalModelSet.decode(weightsFile: set.weightsFileBytes())
        #expect(loaded == set)
        let next = seasonalSeries(days: 1, level: 500, seed: 3, start: b.times.last! + 600)
        var original = try #require(set.entry(group: "{service=\"b\"}", feature: "value")).tracker()
        var reloaded = try #require(loaded.entry(group: "{service=\"b\"}", feature: "value")).tracker()
        for (t, y) in zip(next.times, next.values) {
            #expect(original.update(time: t, value: y) == reloaded.update(time: t, value: y))
        }
    }

    @Test("the header is magic SMDW, format version 1 and the kind, little-endian, then the payload length")
    func header() throws {
        let bytes = try IsolationForest(treeCount: 2).fit(gaussianTable(rows: 20), seed: 1).weightsFileBytes()
        #expect(Array(bytes[0..<4]) == Array("SMDW".utf8))
        #expect(bytes[4] == 1 && bytes[5] == 0)
        #expect(bytes[6] == 1 && bytes[7] == 0)
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[8 + $1]) << (8 * $1) }
        #expect(length == UInt64(bytes.count - 24))
    }

    @Test("a damaged, truncated or foreign file is refused with a clear error, never a crash")
    func damage() throws {
        let bytes = try IsolationForest(treeCount: 3).fit(gaussianTable(rows: 50), seed: 1).weightsFileBytes()
        var flipped = bytes
        flipped[40] ^= 0x10
        #expect(throws: DetectError.self) { try IsolationForestModel.decode(weightsFile: flipped) }
        #expect(throws: DetectError.self) { try IsolationForestModel.decode(weightsFile: Array(bytes.dropLast(9))) }
        #expect(throws: DetectError.self) { try IsolationForestModel.decode(weightsFile: Array("not a model".utf8)) }
        do {
            _ = try AutoencoderModel.decode(weightsFile: bytes)
            Issue.record("an isolation forest decoded as an autoencoder")
        } catch let error as DetectError {
            #expect(error.message.contains("isolation_forest"))
        }
        // A payload whose checksum is right but whose node indices point outside the forest.
        var writer = ModelWriter()
        writer.strings(["x"])
        writer.int(256)
        writer.f64(0.6)
        writer.int(3)
        writer.i32s([0, -1])
        writer.f64s([0.5, 0])
        writer.i32s([5, -1])
        writer.i32s([6, -1])
        writer.i32s([2, 1])
        writer.f64s([0, 1])
        writer.i32s([0])
        writer.i32s([1])
        #expect(throws: DetectError.self) {
            try IsolationForestModel.decode(weightsFile: WeightsFile.encode(kind: .isolationForest, payload: writer.bytes))
        }
    }
}
