/// Weights-file layout of ``AutoencoderModel`` (kind 3).
///
/// Payload: feature names (strings), means (f64s), standard deviations (f64s), layer widths (u64 count,
/// then u64 each), activations (u64 count, then one u8 each: 0 relu, 1 tanh, 2 sigmoid, 3 linear),
/// parameters (f32s: layer by layer, the `in × out` weights row-major then the bias), threshold (f64),
/// explanation count (u64), then the training metrics: initial loss (f64), training losses (f64s),
/// validation losses (f64s), epochs, best epoch (u64 each), stopped early (u8), optimizer steps (u64).
extension AutoencoderModel: PersistableModel {
    public static var kind: ModelKind { .autoencoder }

    static let activationCodes: [AutoencoderActivation] = [.relu, .tanh, .sigmoid, .linear]

    public func encodePayload(into w: inout ModelWriter) {
        w.strings(featureNames)
        w.f64s(means)
        w.f64s(standardDeviations)
        w.array(widths) { $0.int($1) }
        w.array(layerActivations) { $0.u8(UInt8(Self.activationCodes.firstIndex(of: $1)!)) }
        w.f32s(parameters)
        w.f64(threshold)
        w.int(explanationCount)
        w.f64(metrics.initialTrainingLoss)
        w.f64s(metrics.trainingLoss)
        w.f64s(metrics.validationLoss)
        w.int(metrics.epochs)
        w.int(metrics.bestEpoch)
        w.bool(metrics.stoppedEarly)
        w.int(metrics.optimizerSteps)
    }

    public static func decodePayload(from r: inout ModelReader) throws -> AutoencoderModel {
        let names = try r.strings()
        let means = try r.f64s()
        let deviations = try r.f64s()
        let widths = try r.array(elementSize: 8) { try $0.int() }
        let activations = try r.array(elementSize: 1) { reader -> AutoencoderActivation in
            let code = Int(try reader.u8())
            try PayloadCheck.require(code < activationCodes.count, "unknown activation code \(code)")
            return activationCodes[code]
        }
        let parameters = try r.f32s()
        let threshold = try r.f64()
        let explanationCount = try r.int()
        var metrics = AutoencoderTrainingMetrics(initialTrainingLoss: try r.f64())
        metrics.trainingLoss = try r.f64s()
        metrics.validationLoss = try r.f64s()
        metrics.epochs = try r.int()
        metrics.bestEpoch = try r.int()
        metrics.stoppedEarly = try r.bool()
        metrics.optimizerSteps = try r.int()
        let d = names.count
        try PayloadCheck.require(d > 0 && means.count == d && deviations.count == d, "standardisation does not match the features")
        try PayloadCheck.require(
            widths.count == activations.count + 1 && widths.first == d && widths.last == d && widths.allSatisfy { $0 >= 1 },
            "layer widths do not match the features")
        var expected = 0
        for l in 0..<activations.count {
            let (n, m): (Int, Int) = (widths[l], widths[l + 1])
            expected += n * m + m
        }
        try PayloadCheck.require(parameters.count == expected, "\(parameters.count) parameters, layers need \(expected)")
        try PayloadCheck.require(threshold > 0 && explanationCount >= 0, "bad threshold or explanation count")
        return AutoencoderModel(
            featureNames: names, means: means, standardDeviations: deviations, widths: widths,
            layerActivations: activations, parameters: parameters, threshold: threshold,
            explanationCount: explanationCount, metrics: metrics)
    }
}
