/// The one error type of SeismoDetect: a machine-readable code and a human-readable message.
public struct DetectError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, broadly.
    public enum Code: String, Sendable, Equatable {
        /// Shapes or sizes of inputs do not fit together.
        case dimensionMismatch
        /// A parameter is outside its allowed range.
        case invalidParameter
        /// The input data cannot be used (empty, non-finite, too few rows).
        case invalidData
        /// A LAPACK routine reported failure (e.g. rank deficiency, no convergence).
        case lapackFailure
        /// Model files could not be read or written, or the model asked for does not exist.
        case io
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
