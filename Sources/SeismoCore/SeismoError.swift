/// The error type of SeismoCore: a machine-readable code, a human message, and optional
/// context (the offending input, a position). Other modules convert to their own error
/// types at their boundaries.
public struct SeismoError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable {
        case invalidLabelName
        case invalidLabelValue
        case invalidMetricName
        case duplicateLabel
        case tooManyLabels
        case invalidMatcher
        case invalidRegex
        case invalidDuration
        case invalidTime
    }

    public var code: Code
    public var message: String
    /// The input that caused the error, when there is one.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        if let context { return "\(message): \(context.debugDescription)" }
        return message
    }
}
