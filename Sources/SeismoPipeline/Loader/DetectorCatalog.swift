/// The detector types a pipeline may name, and the parameters each accepts. The one place
/// to add a type (`isolation_forest`, `autoencoder`, `seasonal` come later).
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
    ]

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
