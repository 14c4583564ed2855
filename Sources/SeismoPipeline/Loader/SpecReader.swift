import SeismoCore
import Yams

/// Where a value sits: its YAML path and position.
struct Location {
    var path: String
    var line: Int
    var column: Int

    init(path: String, mark: Mark?) {
        self.path = path
        line = mark?.line ?? 0
        column = mark?.column ?? 0
    }

    init(path: String, node: Node) { self.init(path: path, mark: node.mark) }

    init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }

    /// The location `offset` scalars into a one-line scalar (inside its quote, if any).
    func advanced(by offset: Int, quoted: Bool) -> Location {
        var copy = self
        if column > 0 { copy.column += offset + (quoted ? 1 : 0) }
        return copy
    }

    /// `path.key`, or `path["key"]` for keys that are not identifiers.
    func child(_ key: String, mark: Mark?) -> Location {
        Location(path: Location.join(path, key), mark: mark)
    }

    static func join(_ path: String, _ key: String) -> String {
        if isIdentifier(key) { return path.isEmpty ? key : "\(path).\(key)" }
        return "\(path)[\"\(key)\"]"
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || $0.isASCIIDigit }
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

/// A YAML mapping whose keys have been checked against the keys allowed at its spot.
struct MappingView {
    struct Entry {
        var key: String
        var keyNode: Node
        var value: Node
    }

    var node: Node
    var location: Location
    var entries: [Entry]

    subscript(key: String) -> Node? {
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        return entry.value.isNull ? nil : entry.value
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    func location(of key: String) -> Location {
        let entry = entries.first { $0.key == key }
        return location.child(key, mark: entry?.value.mark ?? entry?.keyNode.mark ?? node.mark)
    }

    func keyLocation(of key: String) -> Location {
        location.child(key, mark: entries.first { $0.key == key }?.keyNode.mark ?? node.mark)
    }
}

extension Node {
    /// True for an empty plain scalar and YAML's null spellings.
    var isNull: Bool {
        guard case .scalar(let s) = self, s.style == .plain || s.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    var isQuoted: Bool {
        guard case .scalar(let s) = self else { return false }
        return s.style == .singleQuoted || s.style == .doubleQuoted
    }

    var plainScalar: String? {
        guard case .scalar(let s) = self, !isQuoted else { return nil }
        return s.string
    }

    /// "a mapping", "a list", "a string", … for messages.
    var kindDescription: String {
        switch self {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar(let s):
            if isNull { return "nothing (null)" }
            if isQuoted { return "a string" }
            if Double(s.string) != nil { return "a number" }
            if ["true", "false", "True", "False", "TRUE", "FALSE"].contains(s.string) { return "a boolean" }
            return "a string"
        }
    }
}

/// Reads typed values out of `Node`s, recording an issue for every problem and going on.
final class SpecReader {
    let file: String
    private(set) var issues: [PipelineIssue] = []

    init(file: String) { self.file = file }

    func report(_ code: PipelineIssue.Code, _ location: Location, _ message: String) {
        issues.append(
            PipelineIssue(
                code: code, file: file, line: location.line, column: location.column, path: location.path,
                message: message))
    }

    func wrongType(_ node: Node, _ location: Location, expected: String) {
        report(.wrongType, location, "expected \(expected), got \(node.kindDescription)")
    }

    // MARK: Containers

    /// The mapping at `node`, with unknown keys reported (with a suggestion) and skipped.
    /// `allowed: nil` accepts any key (maps of user-chosen names).
    func mapping(_ node: Node, _ location: Location, allowed: [String]?, what: String = "a mapping") -> MappingView? {
        guard case .mapping(let mapping) = node else {
            wrongType(node, location, expected: what)
            return nil
        }
        var entries: [MappingView.Entry] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode, !keyNode.isNull else {
                report(.wrongType, Location(path: location.path, node: keyNode), "keys must be strings")
                continue
            }
            let key = scalar.string
            if let allowed, !allowed.contains(key) {
                let hint = Suggestions.hint(for: key, in: allowed)
                report(.unknownKey, location.child(key, mark: keyNode.mark), "unknown key '\(key)'\(hint)")
                continue
            }
            entries.append(MappingView.Entry(key: key, keyNode: keyNode, value: value))
        }
        return MappingView(node: node, location: location, entries: entries)
    }

    /// The mapping at `key` of `parent`, when present.
    func mapping(_ parent: MappingView, _ key: String, allowed: [String]?, required: Bool = false) -> MappingView? {
        guard let node = value(parent, key, required: required) else { return nil }
        return mapping(node, parent.location(of: key), allowed: allowed)
    }

    /// The items of the list at `node`, each with its location.
    func list(_ node: Node, _ location: Location) -> [(Node, Location)]? {
        guard case .sequence(let sequence) = node else {
            wrongType(node, location, expected: "a list")
            return nil
        }
        return sequence.enumerated().map { i, item in
            (item, Location(path: "\(location.path)[\(i)]", node: item))
        }
    }

    func list(_ parent: MappingView, _ key: String, required: Bool = false) -> [(Node, Location)]? {
        guard let node = value(parent, key, required: required) else { return nil }
        return list(node, parent.location(of: key))
    }

    /// The value at `key`; reports a missing required key at the parent.
    func value(_ parent: MappingView, _ key: String, required: Bool) -> Node? {
        if let node = parent[key] { return node }
        if required { report(.missingKey, parent.location, "missing required key '\(key)'") }
        return nil
    }

    // MARK: Scalars

    func string(_ node: Node, _ location: Location) -> String? {
        guard case .scalar(let s) = node, !node.isNull else {
            wrongType(node, location, expected: "a string")
            return nil
        }
        return s.string
    }

    func string(_ parent: MappingView, _ key: String, required: Bool = false) -> String? {
        guard let node = value(parent, key, required: required) else { return nil }
        return string(node, parent.location(of: key))
    }

    func int(_ node: Node, _ location: Location, min: Int? = nil) -> Int? {
        guard let text = node.plainScalar, let value = Int(text) else {
            wrongType(node, location, expected: "an integer")
            return nil
        }
        if let min, value < min {
            report(.invalidValue, location, "must be at least \(min), got \(value)")
            return nil
        }
        return value
    }

    func int(_ parent: MappingView, _ key: String, min: Int? = nil, required: Bool = false) -> Int? {
        guard let node = value(parent, key, required: required) else { return nil }
        return int(node, parent.location(of: key), min: min)
    }

    func number(_ node: Node, _ location: Location) -> Double? {
        guard let text = node.plainScalar, let value = Double(text), value.isFinite,
            text.unicodeScalars.allSatisfy({ $0.isASCIIDigit || "+-.eE".unicodeScalars.contains($0) })
        else {
            wrongType(node, location, expected: "a number")
            return nil
        }
        return value
    }

    /// A number checked by `rule`, which returns a complaint (e.g. "must be > 0") or nil.
    func number(
        _ parent: MappingView, _ key: String, required: Bool = false, _ rule: ((Double) -> String?)? = nil
    ) -> Double? {
        guard let node = value(parent, key, required: required) else { return nil }
        let location = parent.location(of: key)
        guard let value = number(node, location) else { return nil }
        if let complaint = rule?(value) {
            report(.invalidValue, location, "\(complaint), got \(Self.format(value))")
            return nil
        }
        return value
    }

    func bool(_ parent: MappingView, _ key: String) -> Bool? {
        guard let node = value(parent, key, required: false) else { return nil }
        switch node.plainScalar {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            wrongType(node, parent.location(of: key), expected: "true or false")
            return nil
        }
    }

    enum DurationRule { case nonNegative, positive }

    func duration(_ node: Node, _ location: Location, _ rule: DurationRule = .positive) -> Duration? {
        guard case .scalar(let s) = node, !node.isNull else {
            wrongType(node, location, expected: "a duration (e.g. 30s, 5m, 1h30m)")
            return nil
        }
        let ms: Int64
        do { ms = try DurationParser.parseMilliseconds(s.string) } catch {
            report(.invalidValue, location, "\(error.message): '\(s.string)'")
            return nil
        }
        if rule == .positive, ms <= 0 {
            report(.invalidValue, location, "must be a positive duration, got '\(s.string)'")
            return nil
        }
        return .milliseconds(ms)
    }

    func duration(_ parent: MappingView, _ key: String, _ rule: DurationRule = .positive, required: Bool = false)
        -> Duration?
    {
        guard let node = value(parent, key, required: required) else { return nil }
        return duration(node, parent.location(of: key), rule)
    }

    /// A list of strings (a single string is not accepted: YAML lists are explicit).
    func strings(_ parent: MappingView, _ key: String, required: Bool = false) -> [(String, Location)]? {
        guard let items = list(parent, key, required: required) else { return nil }
        var out: [(String, Location)] = []
        for (node, location) in items {
            if let s = string(node, location) { out.append((s, location)) }
        }
        return out
    }

    /// A value that must be one of `choices`, with a suggestion when it is not.
    func choice(_ parent: MappingView, _ key: String, _ choices: [String], required: Bool = false) -> String? {
        guard let text = string(parent, key, required: required) else { return nil }
        guard choices.contains(text) else {
            report(
                .invalidValue, parent.location(of: key),
                "unknown \(key) '\(text)'\(Suggestions.hint(for: text, in: choices))")
            return nil
        }
        return text
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }
}
