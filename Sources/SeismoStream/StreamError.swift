/// The error type of SeismoStream: a machine-readable code, a human message, and optional
/// context (the stream, the offending setting).
public struct StreamError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable {
        /// A stream's window or aggregation settings cannot be run.
        case invalidStream
    }

    public var code: Code
    public var message: String
    /// The stream or setting that caused the error, when there is one.
    public var context: String?

    public init(_ code: Code, _ message: String, context: String? = nil) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String {
        if let context { return "\(message): \(context)" }
        return message
    }
}
