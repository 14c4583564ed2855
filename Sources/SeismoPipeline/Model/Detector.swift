/// A detector: its type, the stream and features it reads, and its parameters.
public struct DetectorSpec: Sendable, Hashable {
    public var name: String
    /// `zscore` now; `isolation_forest`, `autoencoder`, `seasonal` behind the same interface later.
    public var type: String
    /// The stream whose window outputs it scores (one score per window × group).
    public var stream: String
    /// The features it reads, all of them features of `stream`.
    public var features: [String]
    /// Overrides the calibrated threshold. Scores are on one scale: above 1 is anomalous.
    public var threshold: Double?
    /// Type-specific parameters, validated against the type's known keys.
    public var parameters: [String: ParameterValue]

    public init(
        name: String, type: String, stream: String, features: [String], threshold: Double? = nil,
        parameters: [String: ParameterValue] = [:]
    ) {
        self.name = name
        self.type = type
        self.stream = stream
        self.features = features
        self.threshold = threshold
        self.parameters = parameters
    }
}

/// A detector parameter's value, as written in YAML.
public enum ParameterValue: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case list([ParameterValue])

    public var number: Double? { if case .number(let x) = self { x } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
}
