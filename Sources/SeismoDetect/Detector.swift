import SeismoCore

/// Observations in rows, features in columns (row-major), with the features' names.
public struct FeatureTable: Sendable, Equatable {
    public var featureNames: [String]
    public var rowCount: Int
    /// `rowCount × featureNames.count` values, row after row.
    public var values: [Double]

    public init(featureNames: [String], rowCount: Int, values: [Double]) {
        precondition(values.count == rowCount * featureNames.count, "values must be rows × features")
        self.featureNames = featureNames
        self.rowCount = rowCount
        self.values = values
    }

    public var featureCount: Int { featureNames.count }

    /// Row `index` as a slice of `values`.
    public func row(_ index: Int) -> ArraySlice<Double> {
        values[(index * featureCount)..<((index + 1) * featureCount)]
    }
}

/// How much one feature contributed to a score.
public struct FeatureContribution: Sendable, Equatable {
    public var feature: String
    public var weight: Double

    public init(feature: String, weight: Double) {
        self.feature = feature
        self.weight = weight
    }
}

/// Scores for a batch of rows, with what explains each.
///
/// Scores share one scale across detectors: the model's raw score divided by its
/// calibrated threshold, so a score above 1 is anomalous.
public struct ScoredBatch: Sendable, Equatable {
    public var scores: [Double]
    /// Per row, the features that contributed most, strongest first.
    public var explanations: [[FeatureContribution]]
    /// Per row, the expected value and band, for detectors that forecast one.
    public var expected: [Double]?
    public var lower: [Double]?
    public var upper: [Double]?

    public init(
        scores: [Double], explanations: [[FeatureContribution]], expected: [Double]? = nil, lower: [Double]? = nil,
        upper: [Double]? = nil
    ) {
        self.scores = scores
        self.explanations = explanations
        self.expected = expected
        self.lower = lower
        self.upper = upper
    }
}

/// A fitted model: scores new rows. Deterministic; safe to share across tasks.
public protocol AnomalyModel: Sendable {
    func score(_ table: FeatureTable) throws -> ScoredBatch
}

/// A detector type: fits a model on history. The same data and seed give the same model.
public protocol AnomalyDetector: Sendable {
    associatedtype Model: AnomalyModel
    func fit(_ table: FeatureTable, seed: UInt64) throws -> Model
}
