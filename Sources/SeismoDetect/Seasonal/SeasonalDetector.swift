/// The seasonal forecast as an `AnomalyDetector` over one column of a `FeatureTable`.
/// Times come from the `timeFeature` column (seconds) when the table has it, else rows are 1 s apart.
public struct SeasonalDetector: AnomalyDetector {
    public var configuration: SeasonalConfiguration
    /// The column scored; nil takes the first column that is not the time column.
    public var valueFeature: String?
    public var timeFeature: String

    public init(configuration: SeasonalConfiguration = SeasonalConfiguration(), valueFeature: String? = nil,
                timeFeature: String = "timestamp") {
        self.configuration = configuration
        self.valueFeature = valueFeature
        self.timeFeature = timeFeature
    }

    /// Fits the seasonal model. `seed` is unused: the fit is deterministic.
    public func fit(_ table: FeatureTable, seed: UInt64) throws -> SeasonalAnomalyModel {
        let columns = try SeasonalAnomalyModel.columns(table, value: valueFeature, time: timeFeature)
        let model = try SeasonalForecaster(configuration: configuration).fit(times: columns.times, values: columns.values)
        return SeasonalAnomalyModel(model: model, valueFeature: columns.name, timeFeature: timeFeature)
    }
}

/// A fitted seasonal model scoring table rows in order, updating online as it goes.
public struct SeasonalAnomalyModel: AnomalyModel {
    public var model: SeasonalModel
    public var valueFeature: String
    public var timeFeature: String

    /// Scores rows as a stream (each against the forecast made before it), returning the band too.
    public func score(_ table: FeatureTable) throws -> ScoredBatch {
        let columns = try Self.columns(table, value: valueFeature, time: timeFeature)
        var tracker = SeasonalTracker(model: model)
        var scores: [Double] = [], expected: [Double] = [], lower: [Double] = [], upper: [Double] = []
        var explanations: [[FeatureContribution]] = []
        for (t, y) in zip(columns.times, columns.values) {
            let p = tracker.update(time: t, value: y)
            scores.append(p.score)
            expected.append(p.forecast.yhat)
            lower.append(p.forecast.yhatLower)
            upper.append(p.forecast.yhatUpper)
            explanations.append([FeatureContribution(feature: valueFeature, weight: p.score)])
        }
        return ScoredBatch(scores: scores, explanations: explanations, expected: expected, lower: lower, upper: upper)
    }

    static func columns(_ table: FeatureTable, value: String?, time: String) throws
        -> (name: String, times: [Double], values: [Double])
    {
        let timeIndex = table.featureNames.firstIndex(of: time)
        guard let valueIndex = value.map({ table.featureNames.firstIndex(of: $0) })
            ?? table.featureNames.indices.first(where: { $0 != timeIndex })
        else { throw DetectError(.invalidData, "no value column \(value ?? "") in \(table.featureNames)") }
        let rows = 0..<table.rowCount
        let values = rows.map { table.values[$0 * table.featureCount + valueIndex] }
        let times = rows.map { row in timeIndex.map { table.values[row * table.featureCount + $0] } ?? Double(row) }
        return (table.featureNames[valueIndex], times, values)
    }
}
