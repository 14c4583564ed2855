import SeismoCore

/// The error type of SeismoWire: a stable code, a human message, and the byte offset
/// (for binary payloads) where decoding stopped, when known.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The bytes are not a well-formed message (truncated, bad varint, wrong wire type, invalid UTF-8, …).
        case malformed
        /// The payload's schema version is missing or newer than this reader supports.
        case unsupportedVersion
        /// A string-table reference is past the end of the table.
        case symbolOutOfRange
        /// A label set is invalid: bad or duplicate name, bad metric name, over the limits.
        case invalidLabels
        /// Two columns that must have one entry per sample differ in length.
        case mismatchedLengths
        /// An anomaly event is not valid JSON or does not match its schema.
        case invalidJSON
    }

    public var code: Code
    public var message: String
    /// Byte offset into the payload where the problem was found, when known.
    public var offset: Int?

    public init(_ code: Code, _ message: String, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String {
        if let offset { return "\(code.rawValue): \(message) (at byte \(offset))" }
        return "\(code.rawValue): \(message)"
    }
}
