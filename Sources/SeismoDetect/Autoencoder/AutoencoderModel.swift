import SeismoCore

/// One dense layer of a fitted autoencoder: `output = activation(input · weights + bias)`.
public struct AutoencoderLayer: Sendable, Equatable {
    /// `inputs × outputs`, row-major.
    public var weights: Matrix<Float>
    public var bias: [Float]
    public var activation: AutoencoderActivation
}

/// A fitted ``Autoencoder``: standardisation, Float32 weights and the calibrated threshold.
///
/// Raw score: the mean squared reconstruction error of a row in standardised units. ``score(_:)``
/// divides it by ``threshold``, so a score above 1 is anomalous; each explanation lists the features
/// with the largest squared reconstruction error (standardised units), strongest first, as weights.
public struct AutoencoderModel: AnomalyModel, Equatable {
    public var featureNames: [String]
    /// Per feature, the training mean subtracted before scoring.
    public var means: [Double]
    /// Per feature, the training standard deviation divided by (1 for constant features).
    public var standardDeviations: [Double]
    /// Layer widths from input to output.
    public var widths: [Int]
    /// One per layer; the last is `.linear`.
    public var layerActivations: [AutoencoderActivation]
    /// Every layer's weights (row-major `in × out`) then bias, layer after layer.
    public var parameters: [Float]
    /// The raw score above which a row is anomalous.
    public var threshold: Double
    public var explanationCount: Int
    public var metrics: AutoencoderTrainingMetrics

    /// The layers, unpacked from ``parameters``.
    public var layers: [AutoencoderLayer] {
        var offset = 0
        return layerActivations.indices.map { l in
            let (n, m) = (widths[l], widths[l + 1])
            let w = Array(parameters[offset..<(offset + n * m)])
            offset += n * m
            let b = Array(parameters[offset..<(offset + m)])
            offset += m
            return AutoencoderLayer(
                weights: Matrix(unchecked: n, m, w), bias: b, activation: layerActivations[l])
        }
    }

    /// Rows scored per gemm batch.
    static let scoringBatch = 256

    /// Per row and feature, the squared reconstruction error in standardised units, row-major.
    public func featureErrors(_ table: FeatureTable) throws -> [Double] {
        try AutoencoderData.validate(table, expectedFeatures: featureNames.count)
        let d = featureNames.count
        let n = table.rowCount
        guard n > 0 else { return [] }
        let data = AutoencoderData.standardised(table, means: means, deviations: standardDeviations)
        let network = DenseNetwork<Float>(
            widths: widths, activations: layerActivations, capacity: min(n, Self.scoringBatch))
        parameters.withUnsafeBufferPointer { network.parameters.update(from: $0.baseAddress!, count: $0.count) }
        var errors = [Double](repeating: 0, count: n * d)
        try data.withUnsafeBufferPointer { source in
            var start = 0
            while start < n {
                let rows = min(network.capacity, n - start)
                network.input.update(from: source.baseAddress! + start * d, count: rows * d)
                try network.forward(rows: rows)
                let x = network.input
                let y = network.output
                for i in 0..<(rows * d) {
                    let diff = Double(y[i] - x[i])
                    errors[start * d + i] = diff * diff
                }
                start += rows
            }
        }
        return errors
    }

    /// Per row, the mean squared reconstruction error in standardised units.
    public func rawScores(_ table: FeatureTable) throws -> [Double] {
        let d = featureNames.count
        let errors = try featureErrors(table)
        return (0..<table.rowCount).map { r in
            errors[(r * d)..<((r + 1) * d)].reduce(0, +) / Double(d)
        }
    }

    /// Scores (raw score / threshold) and explanations for every row of `table`.
    public func score(_ table: FeatureTable) throws -> ScoredBatch {
        let d = featureNames.count
        let errors = try featureErrors(table)
        var scores: [Double] = []
        var explanations: [[FeatureContribution]] = []
        scores.reserveCapacity(table.rowCount)
        explanations.reserveCapacity(table.rowCount)
        for r in 0..<table.rowCount {
            let row = errors[(r * d)..<((r + 1) * d)]
            scores.append(row.reduce(0, +) / Double(d) / threshold)
            let top = (0..<d).sorted { row[r * d + $0] > row[r * d + $1] || (row[r * d + $0] == row[r * d + $1] && $0 < $1) }
                .prefix(explanationCount)
                .map { FeatureContribution(feature: featureNames[$0], weight: row[r * d + $0]) }
            explanations.append(Array(top))
        }
        return ScoredBatch(scores: scores, explanations: explanations)
    }
}

/// Validation, standardisation and batching of feature tables for the autoencoder.
enum AutoencoderData {
    static func validate(_ table: FeatureTable, expectedFeatures: Int?) throws {
        guard table.values.count == table.rowCount * table.featureCount else {
            throw DetectError(
                .dimensionMismatch,
                "table has \(table.values.count) values for \(table.rowCount) rows × \(table.featureCount) features")
        }
        guard table.featureCount > 0 else { throw DetectError(.invalidData, "table has no features") }
        if let expected = expectedFeatures, expected != table.featureCount {
            throw DetectError(.dimensionMismatch, "model has \(expected) features, table has \(table.featureCount)")
        }
        if expectedFeatures == nil, table.rowCount == 0 {
            throw DetectError(.invalidData, "table has no rows")
        }
        if let bad = table.values.firstIndex(where: { !$0.isFinite }) {
            throw DetectError(
                .invalidData,
                "row \(bad / table.featureCount), feature \(table.featureNames[bad % table.featureCount]) is not finite")
        }
    }

    /// Per-feature mean and (population) standard deviation; 1 where a feature is constant.
    static func standardisation(_ table: FeatureTable) -> (means: [Double], deviations: [Double]) {
        let d = table.featureCount
        let n = table.rowCount
        var means = [Double](repeating: 0, count: d)
        var variances = [Double](repeating: 0, count: d)
        table.values.withUnsafeBufferPointer { x in
            for r in 0..<n {
                for j in 0..<d { means[j] += x[r * d + j] }
            }
            for j in 0..<d { means[j] /= Double(n) }
            for r in 0..<n {
                for j in 0..<d {
                    let c = x[r * d + j] - means[j]
                    variances[j] += c * c
                }
            }
        }
        let deviations = variances.map { v -> Double in
            let s = (v / Double(n)).squareRoot()
            return s > 1e-12 && s.isFinite ? s : 1
        }
        return (means, deviations)
    }

    static func standardised(_ table: FeatureTable, means: [Double], deviations: [Double]) -> [Float] {
        let d = table.featureCount
        let n = table.rowCount
        let scales = deviations.map { 1 / $0 }
        return [Float](unsafeUninitializedCapacity: n * d) { out, count in
            table.values.withUnsafeBufferPointer { x in
                for r in 0..<n {
                    for j in 0..<d { out[r * d + j] = Float((x[r * d + j] - means[j]) * scales[j]) }
                }
            }
            count = n * d
        }
    }

    /// Fisher–Yates with the given generator.
    static func shuffle(_ values: inout [Int], rng: inout SplitMix64) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, rng.next(below: i + 1))
        }
    }

    /// Copies `rows` of the row-major `source` into consecutive rows of `destination`.
    static func gather(
        _ source: UnsafePointer<Float>, rows: ArraySlice<Int>, features d: Int, into destination: UnsafeMutablePointer<Float>
    ) {
        var target = destination
        for r in rows {
            target.update(from: source + r * d, count: d)
            target += d
        }
    }

    /// The `q` quantile of `values` (linear interpolation), at least the smallest positive normal.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let value = sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Double(lower))
        return max(value, .leastNormalMagnitude)
    }
}
