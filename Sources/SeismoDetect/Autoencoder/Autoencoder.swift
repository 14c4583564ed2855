import SeismoCore

/// A dense autoencoder over standardised feature rows; a row's raw score is its reconstruction error.
///
/// The network is `features → encoderWidths… → mirrored decoder → features`: encoder layer `i` uses
/// `activations[i]`, the decoder's hidden layers mirror the encoder's, and the output layer is linear.
/// Inputs are standardised per feature with the training data's mean and standard deviation (stored
/// in the model). Training is mini-batch Adam on the mean squared error, in Float32, with every
/// forward and backward pass one sgemm per layer. A validation split, held out once at random,
/// drives early stopping: training ends after `patience` epochs without improvement and keeps the
/// best weights. The threshold is the `1 − falsePositiveRate` quantile of the training rows' raw
/// scores. The same data and seed give the same model (for a fixed OpenBLAS thread count).
public struct Autoencoder: AnomalyDetector {
    /// Widths of the encoder's layers, outermost first; the last is the bottleneck (default [16, 4]).
    public var encoderWidths: [Int]
    /// One activation per encoder layer, or one for all of them (default tanh). The decoder mirrors them.
    public var activations: [AutoencoderActivation]
    /// Adam step size α (default 1e-3).
    public var learningRate: Double
    /// Adam's first-moment decay β1 (default 0.9).
    public var beta1: Double
    /// Adam's second-moment decay β2 (default 0.999).
    public var beta2: Double
    /// Adam's ε (default 1e-8).
    public var epsilon: Double
    /// Rows per mini-batch (default 64; capped at the training rows).
    public var batchSize: Int
    /// The most epochs to train (default 200).
    public var maxEpochs: Int
    /// Epochs without improvement of the validation loss before training stops (default 10).
    public var patience: Int
    /// The smallest decrease of the validation loss that counts as improvement (default 0).
    public var minimumImprovement: Double
    /// Fraction of rows held out for validation (default 0.1). With 0, the training loss is monitored.
    public var validationFraction: Double
    /// Fraction of training rows allowed above the calibrated threshold (default 1%).
    public var falsePositiveRate: Double
    /// How many features each explanation lists (default 3).
    public var explanationCount: Int

    public init(
        encoderWidths: [Int] = [16, 4], activations: [AutoencoderActivation] = [.tanh], learningRate: Double = 1e-3,
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, batchSize: Int = 64, maxEpochs: Int = 200,
        patience: Int = 10, minimumImprovement: Double = 0, validationFraction: Double = 0.1,
        falsePositiveRate: Double = 0.01, explanationCount: Int = 3
    ) {
        self.encoderWidths = encoderWidths
        self.activations = activations
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.batchSize = batchSize
        self.maxEpochs = maxEpochs
        self.patience = patience
        self.minimumImprovement = minimumImprovement
        self.validationFraction = validationFraction
        self.falsePositiveRate = falsePositiveRate
        self.explanationCount = explanationCount
    }

    /// Layer widths of the whole network for `features` inputs: features, encoder, mirrored decoder, features.
    public func networkWidths(features: Int) -> [Int] {
        [features] + encoderWidths + encoderWidths.dropLast().reversed() + [features]
    }

    /// The activation of every layer: encoder, mirrored decoder, then linear output.
    public var layerActivations: [AutoencoderActivation] {
        let perEncoder = activations.count == 1 ? Array(repeating: activations[0], count: encoderWidths.count) : activations
        return perEncoder + perEncoder.dropLast().reversed() + [.linear]
    }

    /// Standardises `table`, trains the network and calibrates the threshold on `table`.
    public func fit(_ table: FeatureTable, seed: UInt64) throws -> AutoencoderModel {
        try validateParameters()
        try AutoencoderData.validate(table, expectedFeatures: nil)
        guard table.rowCount >= 2 else {
            throw DetectError(.invalidData, "need at least 2 rows to train, got \(table.rowCount)")
        }
        let d = table.featureCount
        let n = table.rowCount
        let (means, deviations) = AutoencoderData.standardisation(table)
        let data = AutoencoderData.standardised(table, means: means, deviations: deviations)

        var rng = SplitMix64(seed: seed)
        var order = Array(0..<n)
        AutoencoderData.shuffle(&order, rng: &rng)
        let validationCount =
            validationFraction > 0 ? min(n - 1, max(1, Int((Double(n) * validationFraction).rounded()))) : 0
        var trainRows = Array(order[..<(n - validationCount)])
        let validationRows = Array(order[(n - validationCount)...])

        let widths = networkWidths(features: d)
        let capacity = min(batchSize, max(trainRows.count, validationRows.count))
        let network = DenseNetwork<Float>(widths: widths, activations: layerActivations, capacity: capacity)
        network.initialise(rng: &rng)
        let adam = AdamOptimizer<Float>(
            count: network.parameterCount, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)

        let initialLoss = try Self.meanLoss(network, data: data, rows: trainRows)
        var metrics = AutoencoderTrainingMetrics(initialTrainingLoss: initialLoss)
        var best = Double.infinity
        var bestParameters = Array(UnsafeBufferPointer(start: network.parameters, count: network.parameterCount))
        var sinceBest = 0
        try data.withUnsafeBufferPointer { source in
            for epoch in 1...maxEpochs {
                AutoencoderData.shuffle(&trainRows, rng: &rng)
                var epochLoss = 0.0
                var start = 0
                while start < trainRows.count {
                    let rows = min(capacity, trainRows.count - start)
                    AutoencoderData.gather(source.baseAddress!, rows: trainRows[start..<(start + rows)], features: d, into: network.input)
                    try network.forward(rows: rows)
                    epochLoss += try network.backward(rows: rows) * Double(rows)
                    adam.update(network.parameters, gradients: network.gradients)
                    start += rows
                }
                epochLoss /= Double(trainRows.count)
                guard epochLoss.isFinite else {
                    throw DetectError(
                        .invalidParameter, "training diverged in epoch \(epoch) (loss \(epochLoss)); lower learningRate")
                }
                metrics.trainingLoss.append(epochLoss)
                let monitored: Double
                if validationRows.isEmpty {
                    monitored = epochLoss
                } else {
                    monitored = try Self.meanLoss(network, data: data, rows: validationRows)
                    metrics.validationLoss.append(monitored)
                }
                metrics.epochs = epoch
                if monitored < best - minimumImprovement {
                    best = monitored
                    metrics.bestEpoch = epoch
                    bestParameters = Array(UnsafeBufferPointer(start: network.parameters, count: network.parameterCount))
                    sinceBest = 0
                } else {
                    sinceBest += 1
                    if sinceBest >= patience {
                        metrics.stoppedEarly = epoch < maxEpochs
                        break
                    }
                }
            }
        }
        metrics.optimizerSteps = adam.step
        var model = AutoencoderModel(
            featureNames: table.featureNames, means: means, standardDeviations: deviations, widths: widths,
            layerActivations: layerActivations, parameters: bestParameters, threshold: 1,
            explanationCount: max(0, explanationCount), metrics: metrics)
        model.threshold = AutoencoderData.quantile(try model.rawScores(table), 1 - falsePositiveRate)
        return model
    }

    /// The mean loss over `rows` of `data`, in batches of the network's capacity.
    static func meanLoss(_ network: DenseNetwork<Float>, data: [Float], rows: [Int]) throws -> Double {
        let d = network.featureCount
        var total = 0.0
        try data.withUnsafeBufferPointer { source in
            var start = 0
            while start < rows.count {
                let count = min(network.capacity, rows.count - start)
                AutoencoderData.gather(source.baseAddress!, rows: rows[start..<(start + count)], features: d, into: network.input)
                total += try network.loss(rows: count) * Double(count)
                start += count
            }
        }
        return total / Double(rows.count)
    }

    func validateParameters() throws {
        guard !encoderWidths.isEmpty, encoderWidths.allSatisfy({ $0 >= 1 }) else {
            throw DetectError(.invalidParameter, "encoderWidths must be non-empty and positive, got \(encoderWidths)")
        }
        guard activations.count == 1 || activations.count == encoderWidths.count else {
            throw DetectError(
                .invalidParameter,
                "give one activation or one per encoder layer (\(encoderWidths.count)), got \(activations.count)")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw DetectError(.invalidParameter, "learningRate must be positive, got \(learningRate)")
        }
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else {
            throw DetectError(.invalidParameter, "beta1 and beta2 must be in [0, 1), got \(beta1), \(beta2)")
        }
        guard epsilon > 0, epsilon.isFinite else {
            throw DetectError(.invalidParameter, "epsilon must be positive, got \(epsilon)")
        }
        guard batchSize >= 1 else { throw DetectError(.invalidParameter, "batchSize must be ≥ 1, got \(batchSize)") }
        guard maxEpochs >= 1 else { throw DetectError(.invalidParameter, "maxEpochs must be ≥ 1, got \(maxEpochs)") }
        guard patience >= 1 else { throw DetectError(.invalidParameter, "patience must be ≥ 1, got \(patience)") }
        guard minimumImprovement >= 0, minimumImprovement.isFinite else {
            throw DetectError(.invalidParameter, "minimumImprovement must be ≥ 0, got \(minimumImprovement)")
        }
        guard validationFraction >= 0, validationFraction < 1 else {
            throw DetectError(.invalidParameter, "validationFraction must be in [0, 1), got \(validationFraction)")
        }
        guard falsePositiveRate > 0, falsePositiveRate < 1 else {
            throw DetectError(.invalidParameter, "falsePositiveRate must be in (0, 1), got \(falsePositiveRate)")
        }
    }
}

/// What happened during training.
public struct AutoencoderTrainingMetrics: Sendable, Equatable {
    /// Mean squared reconstruction error (standardised units) on the training rows before the first step.
    public var initialTrainingLoss: Double
    /// Per epoch, the mean loss over the epoch's mini-batches.
    public var trainingLoss: [Double] = []
    /// Per epoch, the loss on the validation rows (empty without a validation split).
    public var validationLoss: [Double] = []
    /// Epochs run.
    public var epochs = 0
    /// The epoch whose weights the model keeps (lowest monitored loss).
    public var bestEpoch = 0
    /// Whether early stopping ended training before `maxEpochs`.
    public var stoppedEarly = false
    /// Adam updates made.
    public var optimizerSteps = 0

    public init(initialTrainingLoss: Double) {
        self.initialTrainingLoss = initialTrainingLoss
    }
}
