import Foundation
import SeismoCore
@testable import SeismoDetect
import Testing

/// A JSON number as a Double, whichever way JSONSerialization returned it.
func number(_ any: Any?) -> Double? {
    if let x = any as? Double { return x }
    if let x = any as? Int { return Double(x) }
    return (any as? NSNumber)?.doubleValue
}

func temporaryDirectory() throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("seismo-models-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// `rows` rows of two Gaussian features, one group, a minute apart.
func trainingSet(rows: Int = 400, seed: UInt64 = 11) -> TrainingSet {
    var rng = SplitMix64(seed: seed)
    var set = TrainingSet(featureNames: ["cpu", "latency"])
    for i in 0..<rows {
        set.append(time: 1_700_000_000 + Double(i) * 60, group: "{}", values: [rng.nextGaussian(), 5 + rng.nextGaussian()])
    }
    return set
}

@Suite("Model repository and training")
struct ModelRepositoryTests {
    let window = ModelMetadata.TrainingWindow(from: nil, to: nil, rows: 400, skippedRows: 0, groups: 1, source: "test")

    @Test("versions are v1, v2, …; CURRENT names the promoted one; list shows both and marks it")
    func versionsAndPromotion() throws {
        let repo = ModelRepository(root: try temporaryDirectory())
        let data = trainingSet()
        let result = try ModelTrainer.train(
            kind: .isolationForest, parameters: ["trees": .number(20)], data: data, seed: 1)
        let first = try repo.write(result, pipeline: "p", detector: "d", seed: 1, window: window, data: data)
        let second = try repo.write(result, pipeline: "p", detector: "d", seed: 1, window: window, data: data)
        #expect(first.version == "v1" && second.version == "v2")
        #expect(repo.current(pipeline: "p", detector: "d") == nil)
        try repo.promote(pipeline: "p", detector: "d", version: "v1")
        #expect(repo.current(pipeline: "p", detector: "d") == "v1")
        let listing = repo.list()
        #expect(listing.map(\.version) == ["v1", "v2"])
        #expect(listing.map(\.isCurrent) == [true, false])
        #expect(throws: DetectError.self) { try repo.promote(pipeline: "p", detector: "d", version: "v9") }
        #expect(repo.current(pipeline: "p", detector: "d") == "v1")
        let names = try FileManager.default.contentsOfDirectory(atPath: repo.directory(pipeline: "p", detector: "d"))
        #expect(names.sorted() == ["CURRENT", "v1", "v2"])
    }

    @Test("model.json holds type, parameters, features with standardisation, window, fingerprint, metrics, threshold, version")
    func metadata() throws {
        let repo = ModelRepository(root: try temporaryDirectory())
        let data = trainingSet()
        let result = try ModelTrainer.train(
            kind: .autoencoder, parameters: ["layers": .list([.number(3)]), "epochs": .number(3)], data: data, seed: 5)
        let written = try repo.write(result, pipeline: "p", detector: "ae", seed: 5, window: window, data: data)
        let path = repo.directory(pipeline: "p", detector: "ae", version: "v1") + "/model.json"
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(json["type"] as? String == "autoencoder")
        #expect(json["seismo_version"] as? String == SeismoBuild.version)
        #expect((json["data_fingerprint"] as? String)?.hasPrefix("xxh64:") == true)
        let features = try #require(json["features"] as? [[String: Any]])
        #expect(features.map { $0["name"] as? String } == ["cpu", "latency"])
        #expect(abs((number(features[1]["mean"]) ?? 0) - 5) < 0.3)
        #expect(features[1]["applied"] as? Bool == true)
        let parameters = try #require(json["parameters"] as? [String: Any])
        #expect(number(parameters["false_positive_rate"]) == 0.01)
        #expect(parameters["activation"] as? String == "tanh")
        let threshold = try #require(json["threshold"] as? [String: Any])
        #expect(number(threshold["raw"]) == result.model.rawThreshold)
        #expect(number((json["metrics"] as? [String: Any])?["epochs"]) == 3)
        let loaded = try repo.load(pipeline: "p", detector: "ae", version: "v1")
        #expect(loaded.metadata == written.metadata)
        #expect(loaded.model == result.model)
    }

    @Test("the fingerprint changes with any value, time or group, and not otherwise")
    func fingerprint() {
        let data = trainingSet()
        #expect(data.fingerprint == trainingSet().fingerprint)
        var changed = data
        changed.values[17] += 1e-9
        #expect(changed.fingerprint != data.fingerprint)
        changed = data
        changed.groups[3] = "{a=\"b\"}"
        #expect(changed.fingerprint != data.fingerprint)
    }

    @Test(
        "every kind calibrates its threshold to the target false-positive rate on the training rows",
        arguments: [ModelKind.isolationForest, .extendedIsolationForest, .autoencoder, .seasonal])
    func calibration(kind: ModelKind) throws {
        var data = TrainingSet(featureNames: ["value"])
        if kind == .seasonal {
            let s = seasonalSeries()
            for (t, y) in zip(s.times, s.values) { data.append(time: t, group: "{}", values: [y]) }
        } else {
            data = trainingSet(rows: 1_000)
        }
        let result = try ModelTrainer.train(
            kind: kind, parameters: ["false_positive_rate": .number(0.05), "epochs": .number(20), "trees": .number(50)],
            data: data, seed: 3)
        #expect(abs(result.trainingExceedance - 0.05) <= 0.01, "exceedance \(result.trainingExceedance)")
        #expect(result.metrics["training_exceedance"] == result.trainingExceedance)
        #expect(result.parameters["false_positive_rate"] == .number(0.05))
    }

    @Test("a weights file that disagrees with model.json is refused on load")
    func mismatch() throws {
        let repo = ModelRepository(root: try temporaryDirectory())
        let data = trainingSet()
        let forest = try ModelTrainer.train(kind: .isolationForest, parameters: ["trees": .number(5)], data: data, seed: 1)
        _ = try repo.write(forest, pipeline: "p", detector: "d", seed: 1, window: window, data: data)
        var other = data
        other.featureNames = ["a", "b"]
        let renamed = try ModelTrainer.train(kind: .isolationForest, parameters: ["trees": .number(5)], data: other, seed: 1)
        let dir = repo.directory(pipeline: "p", detector: "d", version: "v1")
        try Data(renamed.model.weightsFileBytes()).write(to: URL(fileURLWithPath: dir + "/weights.bin"))
        #expect(throws: DetectError.self) { try repo.load(pipeline: "p", detector: "d", version: "v1") }
    }
}
