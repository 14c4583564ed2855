/// The detector types a pipeline may name, and the parameters each accepts. The one place
/// to add a type. `isolation_forest`, `autoencoder` and `seasonal` score with a trained model
/// (`seismo train`, then `seismo models promote`); `zscore` learns as it goes.
public enum DetectorCatalog {
    /// Every known type, in documentation order.
    public static let types: [DetectorType] = [
        DetectorType(
            name: "zscore",
            summary: "How many standard deviations the latest value is from the mean of a trailing history.",
            parameters: [
                DetectorParameter(
                    name: "history", constraint: .integer(atLeast: 3), defaultValue: .number(60),
                    summary: "Windows of history the mean and deviation are computed over."),
                DetectorParameter(
                    name: "min_history", constraint: .integer(atLeast: 1), defaultValue: .number(10),
                    summary: "Windows seen before the detector scores at all; at most `history`."),
                DetectorParameter(
                    name: "z", constraint: .number(above: 0), defaultValue: .number(3.5),
                    summary: "The z-score that maps to score 1 (the anomaly threshold)."),
            ],
            check: { params in
                if let minimum = params["min_history"]?.number, let history = params["history"]?.number,
                    minimum > history
                {
                    return [("min_history", "must not exceed history (\(Int(history))), got \(Int(minimum))")]
                }
                return []
            }),
        DetectorType(
            name: "isolation_forest",
            summary: "Isolation forest over the feature vector (trained model; `extended` splits on random hyperplanes).",
            parameters: [
                DetectorParameter(
                    name: "trees", constraint: .integer(atLeast: 1), defaultValue: .number(100),
                    summary: "Number of trees."),
                DetectorParameter(
                    name: "subsample", constraint: .integer(atLeast: 2), defaultValue: .number(256),
                    summary: "Rows each tree is grown on (ψ)."),
                DetectorParameter(
                    name: "extended", constraint: .bool, defaultValue: .bool(false),
                    summary: "Use the extended forest (random hyperplane splits, Hariri et al.)."),
                falsePositiveRate, seed,
            ]),
        DetectorType(
            name: "autoencoder",
            summary: "Dense autoencoder; the score is the reconstruction error (trained model).",
            parameters: [
                DetectorParameter(
                    name: "layers", constraint: .numbers, defaultValue: .list([.number(16), .number(4)]),
                    summary: "Encoder layer widths, outermost first; the last is the bottleneck. The decoder mirrors them."),
                DetectorParameter(
                    name: "activation", constraint: .oneOf(["tanh", "relu", "sigmoid"]), defaultValue: .string("tanh"),
                    summary: "Activation of the hidden layers (the output layer is linear)."),
                DetectorParameter(
                    name: "epochs", constraint: .integer(atLeast: 1), defaultValue: .number(200),
                    summary: "The most training epochs (early stopping may end sooner)."),
                DetectorParameter(
                    name: "batch_size", constraint: .integer(atLeast: 1), defaultValue: .number(64),
                    summary: "Rows per mini-batch."),
                DetectorParameter(
                    name: "learning_rate", constraint: .number(above: 0), defaultValue: .number(0.001),
                    summary: "Adam step size."),
                DetectorParameter(
                    name: "patience", constraint: .integer(atLeast: 1), defaultValue: .number(10),
                    summary: "Epochs without validation improvement before training stops."),
                DetectorParameter(
                    name: "validation_fraction", constraint: .numberIn(0...0.9), defaultValue: .number(0.1),
                    summary: "Fraction of training rows held out for early stopping."),
                falsePositiveRate, seed,
            ],
            check: { params in
                let layers = params["layers"].flatMap { value -> [ParameterValue]? in
                    if case .list(let items) = value { items } else { nil }
                } ?? []
                let widths = layers.compactMap(\.number)
                if widths.isEmpty || widths.contains(where: { $0 < 1 || $0 != $0.rounded() }) {
                    return [("layers", "must be a non-empty list of whole numbers ≥ 1")]
                }
                return []
            }),
        DetectorType(
            name: "seasonal",
            summary: "Trend plus Fourier seasonality per group and feature; the score is the distance outside the band (trained model).",
            parameters: [
                DetectorParameter(
                    name: "periods", constraint: .numbers, defaultValue: .list([]),
                    summary: "Seasonal periods in seconds (e.g. [86400, 604800]); empty detects them from the history."),
                DetectorParameter(
                    name: "harmonics", constraint: .integer(atLeast: 0), defaultValue: .number(10),
                    summary: "Fourier harmonics per period."),
                DetectorParameter(
                    name: "band_width", constraint: .number(above: 0), defaultValue: .number(3),
                    summary: "Half-width of the prediction band, in robust residual standard deviations."),
                DetectorParameter(
                    name: "refit_interval", constraint: .integer(atLeast: 0), defaultValue: .number(0),
                    summary: "Refit on recent history every this many windows (0: only online updates)."),
                falsePositiveRate,
            ],
            check: { params in
                if case .list(let items) = params["periods"] ?? .list([]), items.contains(where: { ($0.number ?? 0) <= 0 }) {
                    return [("periods", "every period must be a number of seconds > 0")]
                }
                return []
            }),
    ]

    /// Types that score with a trained model file (`models/<pipeline>/<detector>/`).
    public static let trainedTypes: Set<String> = ["isolation_forest", "autoencoder", "seasonal"]

    private static let falsePositiveRate = DetectorParameter(
        name: "false_positive_rate", constraint: .numberIn(0.000_001...0.5), defaultValue: .number(0.01),
        summary: "Fraction of training rows allowed above the calibrated threshold.")

    private static let seed = DetectorParameter(
        name: "seed", constraint: .integer(atLeast: 0), defaultValue: .number(1),
        summary: "Random seed of training: the same data, parameters and seed give the same model.")

    /// The type called `name`.
    public static func type(named name: String) -> DetectorType? { types.first { $0.name == name } }
}

/// A detector type: its YAML name and its parameters.
public struct DetectorType: Sendable {
    public var name: String
    public var summary: String
    public var parameters: [DetectorParameter]
    /// Checks across parameters (defaults filled in); returns (key, complaint) pairs.
    public var check: @Sendable ([String: ParameterValue]) -> [(String, String)]

    public init(
        name: String, summary: String, parameters: [DetectorParameter],
        check: @escaping @Sendable ([String: ParameterValue]) -> [(String, String)] = { _ in [] }
    ) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.check = check
    }

    /// The parameter called `name`.
    public func parameter(named name: String) -> DetectorParameter? { parameters.first { $0.name == name } }
}

/// One parameter of a detector type.
public struct DetectorParameter: Sendable, Hashable {
    /// What values a parameter takes.
    public enum Constraint: Sendable, Hashable {
        /// A whole number ≥ the bound (stored as `.number`).
        case integer(atLeast: Int)
        /// A number strictly above the bound.
        case number(above: Double)
        /// A number in the closed range.
        case numberIn(ClosedRange<Double>)
        case bool
        /// One of the listed strings.
        case oneOf([String])
        /// A list of numbers.
        case numbers
    }

    public var name: String
    public var constraint: Constraint
    /// Filled in when the parameter is absent; `nil` makes it required.
    public var defaultValue: ParameterValue?
    public var summary: String

    public init(name: String, constraint: Constraint, defaultValue: ParameterValue?, summary: String) {
        self.name = name
        self.constraint = constraint
        self.defaultValue = defaultValue
        self.summary = summary
    }
}
