/// A trained forest or autoencoder behind the `StreamingDetector` interface: scores each window's
/// feature vector with the fitted model; learns nothing (the model changes only by promotion).
///
/// A vector with a missing or non-finite feature is not scored (nil): the model cannot judge it.
public struct TrainedModelDetector: StreamingDetector {
    public let model: TrainedModel
    /// The threshold on the shared scale (1, or the pipeline's `threshold:`).
    public let threshold: Double

    /// Fails for a seasonal model, which scores per series with ``SeasonalStreamingDetector``.
    public init(model: TrainedModel, threshold: Double = 1) throws {
        if case .seasonal = model {
            throw DetectError(.invalidParameter, "a seasonal model scores with SeasonalStreamingDetector")
        }
        self.model = model
        self.threshold = threshold
    }

    public func score(_ values: [Double]) -> StreamingVerdict? {
        guard values.count == model.featureNames.count, values.allSatisfy(\.isFinite),
            let batch = try? model.score(FeatureTable(featureNames: model.featureNames, rowCount: 1, values: values)),
            let score = batch.scores.first
        else { return nil }
        return StreamingVerdict(score: score, threshold: threshold, contributions: batch.explanations.first ?? [])
    }

    public mutating func learn(_ values: [Double]) {}
}

/// The seasonal model of one group behind the `StreamingDetector` interface: per feature, a tracker
/// started from the model's training tail forecasts the window end, scores the value against the
/// band (band score / calibrated threshold), and learns it online.
///
/// Features the model has no series for in this group are skipped; with none, nothing is scored.
/// Without a time (`score(_:)`, `learn(_:)`) it scores and learns nothing.
public struct SeasonalStreamingDetector: StreamingDetector {
    public let featureNames: [String]
    public let threshold: Double
    let rawThreshold: Double
    var trackers: [SeasonalTracker?]

    public init(models: SeasonalModelSet, group: String, featureNames: [String], threshold: Double = 1) {
        self.featureNames = featureNames
        self.threshold = threshold
        rawThreshold = models.threshold
        trackers = featureNames.map { models.entry(group: group, feature: $0)?.tracker() }
    }

    /// Whether any feature has a model in this group.
    public var hasModel: Bool { trackers.contains { $0 != nil } }

    public func score(_ values: [Double]) -> StreamingVerdict? { nil }
    public mutating func learn(_ values: [Double]) {}

    public func score(_ values: [Double], at time: Double) -> StreamingVerdict? {
        var best: (score: Double, forecast: SeasonalForecastPoint)?
        var contributions: [FeatureContribution] = []
        for (i, value) in values.enumerated() where i < trackers.count && value.isFinite {
            guard let tracker = trackers[i] else { continue }
            let f = tracker.forecast(at: time)
            let half = (f.yhatUpper - f.yhatLower) / 2
            guard f.yhat.isFinite, half > 0 else { continue }
            let score = abs(value - f.yhat) / half / rawThreshold
            contributions.append(FeatureContribution(feature: featureNames[i], weight: score))
            if best == nil || score > best!.score { best = (score, f) }
        }
        guard let best else { return nil }
        contributions.sort { $0.weight > $1.weight }
        return StreamingVerdict(
            score: best.score, threshold: threshold, expected: best.forecast.yhat, lower: best.forecast.yhatLower,
            upper: best.forecast.yhatUpper, contributions: contributions)
    }

    public mutating func learn(_ values: [Double], at time: Double) {
        for (i, value) in values.enumerated() where i < trackers.count && value.isFinite {
            _ = trackers[i]?.update(time: time, value: value)
        }
    }

    public func timeToCross(feature index: Int, threshold: Double, after time: Double, horizon: Double, below: Bool) -> Double? {
        guard index < trackers.count, let tracker = trackers[index] else { return nil }
        let now = tracker.forecast(at: time).yhat
        guard now.isFinite else { return nil }
        if below ? now <= threshold : now >= threshold { return 0 }
        // From the near side, the forecast's first crossing is the one towards the threshold.
        return tracker.timeToCross(threshold, after: time, horizon: horizon).map { $0 - time }
    }
}

extension TrainedModel {
    /// The streaming detector of `group` for this model, reading `featureNames` (the detector's features).
    /// Nil when the model cannot score this group (a seasonal model without a series for it) or reads
    /// other features than the detector declares.
    public func streamingDetector(group: String, featureNames: [String], threshold: Double = 1) -> (any StreamingDetector)? {
        if case .seasonal(let set) = self {
            let detector = SeasonalStreamingDetector(models: set, group: group, featureNames: featureNames, threshold: threshold)
            return detector.hasModel ? detector : nil
        }
        guard self.featureNames == featureNames else { return nil }
        return try? TrainedModelDetector(model: self, threshold: threshold)
    }
}
