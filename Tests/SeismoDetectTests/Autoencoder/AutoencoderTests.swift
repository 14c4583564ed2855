import SeismoCore
import SeismoDetect
import Testing

/// Points on a 2-d plane through `offset`, embedded in 8-d, with a little isotropic noise.
struct PlaneData {
    static let features = (0..<8).map { "f\($0)" }
    /// The plane's two spanning directions, 8 values each.
    let basis: [[Double]]
    let offset: [Double]
    /// A unit vector orthogonal to the plane.
    let normal: [Double]
    var rng: SplitMix64

    init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        basis = (0..<2).map { _ in (0..<8).map { _ in rng.nextGaussian() } }
        offset = (0..<8).map { _ in 10 * rng.nextGaussian() }
        // Gram–Schmidt a random vector against the basis.
        var n = (0..<8).map { _ in rng.nextGaussian() }
        var orthonormal: [[Double]] = []
        for b in basis {
            var v = b
            for q in orthonormal {
                let p = zip(v, q).map(*).reduce(0, +)
                v = zip(v, q).map { $0 - p * $1 }
            }
            let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
            orthonormal.append(v.map { $0 / norm })
        }
        for q in orthonormal {
            let p = zip(n, q).map(*).reduce(0, +)
            n = zip(n, q).map { $0 - p * $1 }
        }
        let norm = n.map { $0 * $0 }.reduce(0, +).squareRoot()
        normal = n.map { $0 / norm }
        self.rng = rng
    }

    /// A point on the plane (plus noise), moved `offPlane` along the normal.
    mutating func point(offPlane: Double = 0, noise: Double = 0.02) -> [Double] {
        let (u, v) = (rng.nextGaussian(), rng.nextGaussian())
        return (0..<8).map { j in
            offset[j] + u * basis[0][j] + v * basis[1][j] + offPlane * normal[j] + noise * rng.nextGaussian()
        }
    }

    mutating func table(rows: Int, offPlane: Double = 0) -> FeatureTable {
        FeatureTable(
            featureNames: Self.features, rowCount: rows, values: (0..<rows).flatMap { _ in point(offPlane: offPlane) })
    }
}

/// The code of the DetectError `body` throws; nil if it returns or throws something else.
func code(_ body: () throws -> Void) -> DetectError.Code? {
    do { try body() } catch let error as DetectError { return error.code } catch { return nil }
    return nil
}

@Suite("Autoencoder")
struct AutoencoderTests {
    static let planeDetector = Autoencoder(
        encoderWidths: [6, 2], activations: [.tanh], learningRate: 0.01, batchSize: 32, maxEpochs: 150, patience: 15)

    @Test("training on a plane in 8-d cuts the reconstruction loss at least tenfold")
    func trainingReducesLoss() throws {
        var plane = PlaneData(seed: 11)
        let model = try Self.planeDetector.fit(plane.table(rows: 1000), seed: 1)
        let metrics = model.metrics
        #expect(metrics.epochs >= 1)
        #expect(metrics.trainingLoss.count == metrics.epochs)
        #expect(metrics.validationLoss.count == metrics.epochs)
        #expect(metrics.trainingLoss.last! < metrics.initialTrainingLoss / 10)
        #expect(metrics.validationLoss[metrics.bestEpoch - 1] == metrics.validationLoss.min())
    }

    @Test("points off the plane score above 1; at least 95% of fresh on-plane points score below 1")
    func offPlanePointsAreAnomalous() throws {
        var plane = PlaneData(seed: 12)
        let model = try Self.planeDetector.fit(plane.table(rows: 1000), seed: 2)
        let onPlane = try model.score(plane.table(rows: 500)).scores
        let offPlane = try model.score(plane.table(rows: 50, offPlane: 4)).scores
        let inliers = Double(onPlane.filter { $0 < 1 }.count) / Double(onPlane.count)
        #expect(inliers >= 0.95, "only \(inliers) of on-plane points score below 1")
        #expect(offPlane.allSatisfy { $0 > 1 }, "off-plane minimum score \(offPlane.min()!)")
    }

    @Test("the threshold is calibrated so about 1% of training rows score above 1")
    func calibration() throws {
        var plane = PlaneData(seed: 13)
        let training = plane.table(rows: 1000)
        let model = try Self.planeDetector.fit(training, seed: 3)
        let above = try model.score(training).scores.filter { $0 > 1 }.count
        #expect((5...15).contains(above), "\(above) of 1000 training rows above 1")
        #expect(model.threshold > 0)
    }

    @Test("the explanation names the feature a row was pushed off on, strongest first, as squared error")
    func explanation() throws {
        var plane = PlaneData(seed: 14)
        let model = try Self.planeDetector.fit(plane.table(rows: 1000), seed: 4)
        var row = plane.point()
        row[5] += 8 * model.standardDeviations[5]
        let batch = try model.score(FeatureTable(featureNames: PlaneData.features, rowCount: 1, values: row))
        let explanation = batch.explanations[0]
        #expect(explanation.count == 3)
        #expect(explanation.first?.feature == "f5")
        #expect(zip(explanation, explanation.dropFirst()).allSatisfy { $0.weight >= $1.weight })
        let errors = try model.featureErrors(FeatureTable(featureNames: PlaneData.features, rowCount: 1, values: row))
        #expect(abs(errors.reduce(0, +) / 8 / model.threshold - batch.scores[0]) < 1e-9)
        #expect(explanation.first?.weight == errors.max())
    }

    @Test("early stopping ends training on a tiny noisy set long before maxEpochs, keeping the best epoch")
    func earlyStopping() throws {
        var rng = SplitMix64(seed: 5)
        let table = FeatureTable(
            featureNames: ["a", "b", "c", "d"], rowCount: 24, values: (0..<96).map { _ in rng.nextGaussian() })
        let detector = Autoencoder(
            encoderWidths: [8, 3], activations: [.relu], learningRate: 0.01, batchSize: 8, maxEpochs: 5000,
            patience: 5, validationFraction: 0.25)
        let metrics = try detector.fit(table, seed: 6).metrics
        #expect(metrics.stoppedEarly)
        #expect(metrics.epochs < 5000)
        #expect(metrics.bestEpoch == metrics.epochs - 5)
    }

    @Test("the same seed gives identical weights; another seed gives different ones")
    func determinism() throws {
        var plane = PlaneData(seed: 15)
        let table = plane.table(rows: 300)
        let detector = Autoencoder(encoderWidths: [5, 2], activations: [.sigmoid], maxEpochs: 20)
        let a = try detector.fit(table, seed: 42)
        let b = try detector.fit(table, seed: 42)
        let c = try detector.fit(table, seed: 43)
        #expect(a.parameters == b.parameters)
        #expect(a == b)
        #expect(a.parameters != c.parameters)
    }

    @Test("the network mirrors the encoder: widths, activations and layer shapes")
    func architecture() throws {
        let detector = Autoencoder(encoderWidths: [6, 4, 2], activations: [.relu, .tanh, .sigmoid], maxEpochs: 1)
        #expect(detector.networkWidths(features: 8) == [8, 6, 4, 2, 4, 6, 8])
        #expect(detector.layerActivations == [.relu, .tanh, .sigmoid, .tanh, .relu, .linear])
        var plane = PlaneData(seed: 16)
        let model = try detector.fit(plane.table(rows: 50), seed: 0)
        let layers = model.layers
        #expect(layers.map(\.weights.rows) == [8, 6, 4, 2, 4, 6])
        #expect(layers.map(\.weights.columns) == [6, 4, 2, 4, 6, 8])
        #expect(layers.map(\.bias.count) == [6, 4, 2, 4, 6, 8])
        #expect(layers.last?.activation == .linear)
    }

    @Test("standardisation is learned from the training data; a constant feature is centred, not divided by 0")
    func standardisation() throws {
        var rng = SplitMix64(seed: 7)
        let values = (0..<200).flatMap { _ in [100 + 5 * rng.nextGaussian(), 3.0] }
        let table = FeatureTable(featureNames: ["x", "constant"], rowCount: 200, values: values)
        let model = try Autoencoder(encoderWidths: [1], maxEpochs: 5).fit(table, seed: 0)
        #expect(abs(model.means[0] - 100) < 1.5)
        #expect(abs(model.standardDeviations[0] - 5) < 1)
        #expect(model.means[1] == 3 && model.standardDeviations[1] == 1)
        #expect(try model.rawScores(table).allSatisfy(\.isFinite))
    }

    @Test("bad input throws DetectError instead of trapping")
    func badInput() throws {
        let detector = Autoencoder(maxEpochs: 2)
        let nanRow = FeatureTable(featureNames: ["a", "b"], rowCount: 3, values: [1, 2, .nan, 4, 5, 6])
        #expect(code { _ = try detector.fit(nanRow, seed: 0) } == .invalidData)
        let infinite = FeatureTable(featureNames: ["a", "b"], rowCount: 3, values: [1, 2, 3, .infinity, 5, 6])
        #expect(code { _ = try detector.fit(infinite, seed: 0) } == .invalidData)
        #expect(code { _ = try detector.fit(FeatureTable(featureNames: [], rowCount: 4, values: []), seed: 0) } == .invalidData)
        #expect(code { _ = try detector.fit(FeatureTable(featureNames: ["a"], rowCount: 0, values: []), seed: 0) } == .invalidData)
        #expect(code { _ = try detector.fit(FeatureTable(featureNames: ["a"], rowCount: 1, values: [1]), seed: 0) } == .invalidData)

        var plane = PlaneData(seed: 17)
        let model = try detector.fit(plane.table(rows: 40), seed: 0)
        var bad = plane.table(rows: 3)
        bad.values[4] = .nan
        #expect(code { _ = try model.score(bad) } == .invalidData)
        #expect(code { _ = try model.score(nanRow) } == .dimensionMismatch)
        #expect(try model.score(FeatureTable(featureNames: PlaneData.features, rowCount: 0, values: [])).scores.isEmpty)
    }

    @Test("out-of-range parameters throw invalidParameter", arguments: [
        Autoencoder(encoderWidths: []), Autoencoder(encoderWidths: [4, 0]),
        Autoencoder(encoderWidths: [4, 2], activations: [.relu, .tanh, .tanh]), Autoencoder(learningRate: 0),
        Autoencoder(beta1: 1), Autoencoder(beta2: -0.1), Autoencoder(epsilon: 0), Autoencoder(batchSize: 0),
        Autoencoder(maxEpochs: 0), Autoencoder(patience: 0), Autoencoder(validationFraction: 1),
        Autoencoder(falsePositiveRate: 0),
    ])
    func badParameters(detector: Autoencoder) throws {
        var plane = PlaneData(seed: 18)
        let table = plane.table(rows: 20)
        #expect(code { _ = try detector.fit(table, seed: 0) } == .invalidParameter)
    }

    @Test("a learning rate that blows training up throws instead of returning a NaN model")
    func divergence() throws {
        var plane = PlaneData(seed: 19)
        let detector = Autoencoder(encoderWidths: [8], activations: [.linear], learningRate: 1e30, maxEpochs: 50)
        #expect(code { _ = try detector.fit(plane.table(rows: 100), seed: 0) } == .invalidParameter)
    }
}
