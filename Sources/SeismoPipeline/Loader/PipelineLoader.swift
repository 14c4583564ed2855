import Foundation
import SeismoCore
import Yams

/// Reads a pipeline spec (YAML) and compiles it into a `Pipeline`: every name resolved,
/// every default filled in, and every problem reported at once with `file:line:column`
/// and its YAML path. The format is documented in `pipelines/README.md`.
public enum PipelineLoader {
    /// Loads the spec at `path`; messages name the file as `path`.
    public static func load(path: String) throws(PipelineErrors) -> Pipeline {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw PipelineErrors([
                PipelineIssue(
                    code: .syntax, file: path, line: 0, column: 0, path: "",
                    message: "cannot read the file: \(error.localizedDescription)")
            ])
        }
        return try load(yaml: text, file: path)
    }

    /// Compiles `yaml`; messages name the file as `file`.
    public static func load(yaml: String, file: String) throws(PipelineErrors) -> Pipeline {
        let reader = SpecReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            reader.syntaxError(error, in: yaml)
            throw PipelineErrors(reader.issues)
        }
        guard let root else {
            reader.report(.syntax, Location(path: "", line: 1, column: 1), "the file is empty; expected a pipeline")
            throw PipelineErrors(reader.issues)
        }
        let pipeline = PipelineCompiler(reader: reader).compile(root)
        let issues = reader.issues.enumerated().sorted {
            ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset)
        }.map(\.element)
        guard issues.isEmpty, let pipeline else { throw PipelineErrors(issues) }
        return pipeline
    }

    /// Parses a PromQL series selector (`name{label="v", …}`); columns are in `text`.
    public static func parseSelector(_ text: String) throws(PipelineErrors) -> [Matcher] {
        do { return try SelectorParser.parse(text) } catch {
            throw PipelineErrors([
                PipelineIssue(
                    code: .invalidValue, file: "<selector>", line: 1, column: error.offset + 1, path: "",
                    message: error.message)
            ])
        }
    }

    /// The keys allowed at the top of a spec.
    static let topLevelKeys = ["pipeline", "kafka", "collectors", "streams", "outputs", "detectors", "alerts", "runtime"]
    /// The metrics the synthetic collector publishes (anomalies may target any of them).
    static let syntheticMetrics = [
        "http_requests_total", "http_request_duration_seconds", "process_cpu_usage", "process_resident_memory_bytes",
    ]
    static let aggregationFunctions = [
        "count", "sum", "min", "max", "avg", "last", "stddev", "rate", "increase", "quantile",
    ]
    /// Partitions of a signal topic that is used but not declared.
    static let defaultSignalPartitions = 4
}

extension SpecReader {
    /// Records a Yams error with its position.
    func syntaxError(_ error: any Error, in yaml: String) {
        func at(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) {
            var message = problem
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            report(.syntax, Location(path: "", mark: mark), "invalid YAML: \(message)")
        }
        switch error as? YamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            at(mark, problem, context)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            report(.duplicate, Location(path: "", mark: context.mark), "duplicate key \(keys) in one mapping")
        case .reader(let problem, let offset, _, _):
            var line = 1, column = 1
            if let offset {
                for ch in yaml.prefix(offset) {
                    if ch == "\n" { line += 1; column = 1 } else { column += 1 }
                }
            }
            report(.syntax, Location(path: "", line: line, column: column), "invalid YAML: \(problem)")
        default:
            report(.syntax, Location(path: "", line: 1, column: 1), "invalid YAML: \(error)")
        }
    }

    /// A name that must match a pattern; `kind` names the rule in the message.
    func name(
        _ parent: MappingView, _ key: String = "name", valid: (String) -> Bool, rule: String, required: Bool = true
    ) -> String? {
        guard let text = string(parent, key, required: required) else { return nil }
        guard valid(text) else {
            report(.invalidValue, parent.location(of: key), "'\(text)' is not a valid name; expected \(rule)")
            return nil
        }
        return text
    }

    /// Parses a selector at `location`, reporting errors at their column.
    func selector(_ node: Node, _ location: Location) -> [Matcher]? {
        guard let text = string(node, location) else { return nil }
        do { return try SelectorParser.parse(text) } catch {
            report(.invalidValue, location.advanced(by: error.offset, quoted: node.isQuoted), "invalid selector: \(error.message)")
            return nil
        }
    }
}

/// Character rules for names.
enum NameRules {
    static func isPipelineName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || $0.isASCIIDigit || $0 == "_" || $0 == "-" }
    }

    static func isComponentName(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-" }
    }

    static func isTopicName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 249 && s != "." && s != ".."
            && s.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-" || $0 == "." }
    }

    static let identifierRule = "letters, digits and _, not starting with a digit"
}
