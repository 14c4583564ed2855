import Foundation

/// A fitted model of any persistable kind.
public enum TrainedModel: Sendable, Equatable {
    case isolationForest(IsolationForestModel)
    case extendedIsolationForest(ExtendedIsolationForestModel)
    case autoencoder(AutoencoderModel)
    case seasonal(SeasonalModelSet)

    public var kind: ModelKind {
        switch self {
        case .isolationForest: .isolationForest
        case .extendedIsolationForest: .extendedIsolationForest
        case .autoencoder: .autoencoder
        case .seasonal: .seasonal
        }
    }

    public var featureNames: [String] {
        switch self {
        case .isolationForest(let m): m.featureNames
        case .extendedIsolationForest(let m): m.featureNames
        case .autoencoder(let m): m.featureNames
        case .seasonal(let m): m.featureNames
        }
    }

    /// The raw score that maps to 1 on the shared scale.
    public var rawThreshold: Double {
        switch self {
        case .isolationForest(let m): m.threshold
        case .extendedIsolationForest(let m): m.threshold
        case .autoencoder(let m): m.threshold
        case .seasonal(let m): m.threshold
        }
    }

    public func weightsFileBytes() -> [UInt8] {
        switch self {
        case .isolationForest(let m): m.weightsFileBytes()
        case .extendedIsolationForest(let m): m.weightsFileBytes()
        case .autoencoder(let m): m.weightsFileBytes()
        case .seasonal(let m): m.weightsFileBytes()
        }
    }

    /// Reads a weights file of any kind.
    public static func decode(weightsFile bytes: [UInt8]) throws -> TrainedModel {
        switch try WeightsFile.decode(bytes).kind {
        case .isolationForest: .isolationForest(try IsolationForestModel.decode(weightsFile: bytes))
        case .extendedIsolationForest: .extendedIsolationForest(try ExtendedIsolationForestModel.decode(weightsFile: bytes))
        case .autoencoder: .autoencoder(try AutoencoderModel.decode(weightsFile: bytes))
        case .seasonal: .seasonal(try SeasonalModelSet.decode(weightsFile: bytes))
        }
    }

    /// Shared-scale scores of a batch of rows (the forests and the autoencoder; the seasonal model
    /// scores per series in order, see ``SeasonalModelSet``).
    public func score(_ table: FeatureTable) throws -> ScoredBatch {
        switch self {
        case .isolationForest(let m): try m.score(table)
        case .extendedIsolationForest(let m): try m.score(table)
        case .autoencoder(let m): try m.score(table)
        case .seasonal:
            throw DetectError(.invalidParameter, "the seasonal model scores series in time order, not a table")
        }
    }
}

/// What training produced: the model and the figures that go into `model.json`.
public struct TrainingResult: Sendable {
    public var model: TrainedModel
    public var metrics: [String: Double]
    /// Fraction of training rows scoring above the calibrated threshold.
    public var trainingExceedance: Double
    public var falsePositiveRate: Double
    public var usedRows: Int
    public var skippedRows: Int
    /// Parameters with defaults filled in.
    public var parameters: [String: ModelValue]
}

/// Fits a detector of a given kind on a ``TrainingSet`` and calibrates its threshold, one rule for
/// every kind: the `1 − false_positive_rate` quantile of the training rows' raw scores.
///
/// Parameters carry the pipeline YAML names (`trees`, `subsample`, `layers`, `periods`, …, and
/// `false_positive_rate` for all); unknown names are ignored here (the pipeline loader rejects them).
public enum ModelTrainer {
    /// Progress: a fraction in [0, 1] and what is being done.
    public typealias Progress = @Sendable (Double, String) -> Void

    public static func train(
        kind: ModelKind, parameters: [String: ModelValue], data: TrainingSet, seed: UInt64,
        progress: Progress = { _, _ in }
    ) throws -> TrainingResult {
        let fpr = parameters["false_positive_rate"]?.number ?? 0.01
        var filled = parameters
        filled["false_positive_rate"] = .number(fpr)
        func int(_ name: String, _ fallback: Int) -> Int {
            let value = Int(parameters[name]?.number ?? Double(fallback))
            filled[name] = .number(Double(value))
            return value
        }
        let started = ContinuousClock.now
        var metrics: [String: Double] = [:]
        let model: TrainedModel
        var rawScores: [Double] = []
        var used = 0
        var skipped = 0
        switch kind {
        case .isolationForest, .extendedIsolationForest:
            let (table, dropped) = data.completeRows()
            skipped = dropped
            used = table.rowCount
            progress(0, "growing \(int("trees", 100)) trees on \(table.rowCount) rows")
            if kind == .isolationForest {
                let m = try IsolationForest(
                    treeCount: int("trees", 100), subsampleSize: int("subsample", 256), falsePositiveRate: fpr
                ).fit(table, seed: seed)
                progress(0.8, "calibrating")
                rawScores = try m.rawScores(table)
                metrics["nodes"] = Double(m.trees.feature.count)
                model = .isolationForest(m)
            } else {
                let level = parameters["extension_level"]?.number.map { Int($0) }
                if let level { filled["extension_level"] = .number(Double(level)) }
                let m = try ExtendedIsolationForest(
                    treeCount: int("trees", 100), subsampleSize: int("subsample", 256), extensionLevel: level,
                    falsePositiveRate: fpr
                ).fit(table, seed: seed)
                progress(0.8, "calibrating")
                rawScores = try m.rawScores(table)
                metrics["nodes"] = Double(m.trees.normalRow.count)
                model = .extendedIsolationForest(m)
            }
            metrics["trees"] = Double(int("trees", 100))
        case .autoencoder:
            let (table, dropped) = data.completeRows()
            skipped = dropped
            used = table.rowCount
            let layers = (parameters["layers"]?.numbers ?? [16, 4]).map { Int($0) }
            filled["layers"] = .list(layers.map { .number(Double($0)) })
            let activationName = parameters["activation"]?.string ?? "tanh"
            filled["activation"] = .string(activationName)
            guard let activation = AutoencoderActivation(rawValue: activationName) else {
                throw DetectError(.invalidParameter, "unknown activation \(activationName)")
            }
            let learningRate = parameters["learning_rate"]?.number ?? 1e-3
            let validation = parameters["validation_fraction"]?.number ?? 0.1
            filled["learning_rate"] = .number(learningRate)
            filled["validation_fraction"] = .number(validation)
            progress(0, "training \(layers) on \(table.rowCount) rows")
            let m = try Autoencoder(
                encoderWidths: layers, activations: [activation], learningRate: learningRate,
                batchSize: int("batch_size", 64), maxEpochs: int("epochs", 200), patience: int("patience", 10),
                validationFraction: validation, falsePositiveRate: fpr
            ).fit(table, seed: seed)
            progress(0.9, "calibrating")
            rawScores = try m.rawScores(table)
            metrics["initial_loss"] = m.metrics.initialTrainingLoss
            metrics["final_training_loss"] = m.metrics.trainingLoss.last ?? .nan
            if let best = m.metrics.validationLoss.min() { metrics["best_validation_loss"] = best }
            metrics["epochs"] = Double(m.metrics.epochs)
            metrics["best_epoch"] = Double(m.metrics.bestEpoch)
            model = .autoencoder(m)
        case .seasonal:
            let periods = parameters["periods"]?.numbers ?? []
            filled["periods"] = .list(periods.map { .number($0) })
            var configuration = SeasonalConfiguration(periods: periods.isEmpty ? nil : periods)
            configuration.harmonics = int("harmonics", configuration.harmonics)
            configuration.bandWidth = parameters["band_width"]?.number ?? configuration.bandWidth
            filled["band_width"] = .number(configuration.bandWidth)
            configuration.refitInterval = int("refit_interval", configuration.refitInterval)
            let series = data.series()
            progress(0, "fitting \(series.count) series")
            var set = try SeasonalModelSet.fit(series: series, configuration: configuration, falsePositiveRate: fpr) {
                progress(0.9 * Double($0) / Double(max($1, 1)), "fitting series \($0 + 1) of \($1)")
            }
            set.featureNames = data.featureNames
            let fitted = set.entries
            used = (0..<data.rowCount).filter { i in
                (0..<data.featureNames.count).contains { data.values[i * data.featureNames.count + $0].isFinite }
            }.count
            skipped = data.rowCount - used
            rawScores = set.inSampleScores(series)
            metrics["series"] = Double(fitted.count)
            metrics["mean_residual_scale"] = fitted.map(\.model.residualScale).reduce(0, +) / Double(max(fitted.count, 1))
            metrics["periods_max"] = fitted.compactMap { $0.model.periods.max() }.max() ?? 0
            model = .seasonal(set)
        }
        guard !rawScores.isEmpty else { throw DetectError(.invalidData, "no complete training rows") }
        let threshold = model.rawThreshold
        let exceedance = Calibration.exceedance(rawScores, threshold: threshold)
        let sorted = rawScores.sorted()
        metrics["rows"] = Double(used)
        metrics["raw_threshold"] = threshold
        metrics["training_exceedance"] = exceedance
        metrics["score_p50"] = sorted[sorted.count / 2] / threshold
        metrics["score_max"] = sorted[sorted.count - 1] / threshold
        let elapsed = ContinuousClock.now - started
        metrics["fit_seconds"] = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        progress(1, "done")
        return TrainingResult(
            model: model, metrics: metrics, trainingExceedance: exceedance, falsePositiveRate: fpr, usedRows: used,
            skippedRows: skipped, parameters: filled)
    }
}

extension SeasonalModelSet {
    /// Band scores of `series` scored in order by each entry's tracker (the calibration sample).
    func inSampleScores(_ series: [(group: String, feature: String, times: [Double], values: [Double])]) -> [Double] {
        var scores: [Double] = []
        for s in series {
            guard var tracker = entry(group: s.group, feature: s.feature)?.tracker() else { continue }
            for (t, y) in zip(s.times, s.values) where y.isFinite && t.isFinite {
                scores.append(tracker.update(time: t, value: y).score)
            }
        }
        return scores
    }
}
