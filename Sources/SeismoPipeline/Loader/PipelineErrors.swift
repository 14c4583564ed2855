/// One problem found in a pipeline spec, with where it is and which YAML path it concerns.
public struct PipelineIssue: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem, stable across releases (tests and tools match on it).
    public enum Code: String, Sendable, Hashable {
        /// The file cannot be read or is not valid YAML.
        case syntax
        /// A value has the wrong YAML type (a list where a mapping belongs, …).
        case wrongType
        /// A required key is absent.
        case missingKey
        /// A key that is not allowed at this spot.
        case unknownKey
        /// A value of the right type that is out of range or malformed.
        case invalidValue
        /// A name that refers to nothing (a topic, stream, feature, label, …).
        case unknownReference
        /// A name declared twice.
        case duplicate
        /// Derived features that depend on each other in a circle.
        case cycle
        /// A stream groups in a way that lets one window group span partitions.
        case keyLabels
    }

    public var code: Code
    public var file: String
    /// 1-based line; 0 when unknown.
    public var line: Int
    /// 1-based column, in Unicode scalars; 0 when unknown.
    public var column: Int
    /// The YAML path, e.g. `streams[0].aggregations.p99.q`; empty for the document itself.
    public var path: String
    public var message: String

    public init(code: Code, file: String, line: Int, column: Int, path: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `file:line:column: error: path: message` (the path part is left out when empty).
    public var description: String {
        "\(file):\(line):\(column): error: \(path.isEmpty ? "" : "\(path): ")\(message)"
    }
}

/// Every problem found in a pipeline spec: the error type of `SeismoPipeline`.
public struct PipelineErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// In file order (line, then column).
    public var issues: [PipelineIssue]

    public init(_ issues: [PipelineIssue]) { self.issues = issues }

    /// One issue per line, as compilers print them.
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}
