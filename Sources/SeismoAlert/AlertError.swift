/// The error type of `SeismoAlert`: a stable code, a message and the context it concerns.
public struct AlertError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A template, matcher or silence that does not parse.
        case invalidInput
        /// A receiver answered with an error or did not answer in time.
        case delivery
        /// Persisted state that cannot be read.
        case state
    }

    public var code: Code
    public var message: String
    public var context: String

    public init(_ code: Code, _ message: String, context: String = "") {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { context.isEmpty ? "\(code.rawValue): \(message)" : "\(code.rawValue): \(message) (\(context))" }
}
