/// The error type of SeismoQuery: a code that maps onto Prometheus's API error types, and
/// the message as Prometheus words it (parse errors start with `line:column: parse error:`).
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The query text does not parse or type-check (`bad_data`).
        case parse
        /// Evaluation failed, e.g. many-to-many matching (`execution`).
        case execution
        /// The query would hold more samples than the limit (`execution`).
        case tooManySamples
        /// The query ran longer than its timeout (`timeout`).
        case timeout
        /// The query was cancelled (`canceled`).
        case canceled
        /// The store failed (`internal`).
        case storage
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A parse error at byte offset `position` of `query`, formatted `line:col: parse error: msg`.
    public static func parse(_ message: String, at position: Int, in query: String) -> QueryError {
        var line = 1
        var lastBreak = -1
        for (index, byte) in query.utf8.prefix(max(0, position)).enumerated() where byte == 0x0A {
            line += 1
            lastBreak = index
        }
        return QueryError(.parse, "\(line):\(position - lastBreak): parse error: \(message)")
    }

    public var description: String { message }
}
