/// The error type of SeismoCollect: a stable code, a message, and optional context.
public struct CollectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable {
        /// A collector's spec cannot be run (e.g. no services, a non-positive step).
        case invalidSpec
        /// An input file could not be read.
        case unreadableFile
        /// An input file held no usable samples.
        case emptyInput
        /// An output file (ground truth) could not be written.
        case unwritableFile
        /// Publishing to Kafka failed for good.
        case publish
        /// A receiver cannot take more now (queue full, too many requests); the client should retry.
        case overloaded
        /// A pushed request could not be decoded or is invalid; retrying will not help.
        case badRequest
        /// A network exchange (discovery, probe) failed or was refused.
        case network
        /// A response or discovery file could not be parsed.
        case badInput
    }

    public var code: Code
    public var message: String
    /// The path, topic or value involved, when there is one.
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
