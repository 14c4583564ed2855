import SeismoCore
import SeismoPipeline

/// Applies `relabel_configs` / `metric_relabel_configs` with Prometheus's semantics: each
/// rule reads its `source_labels` joined by `separator`, matches the fully anchored
/// `regex` (`.` also matches a newline) and acts; `keep`/`drop` can discard the whole
/// label set. Setting a label to the empty value removes it. A pure value: no I/O.
public struct Relabeler: Sendable {
    struct Step: @unchecked Sendable {  // Regex is immutable once built.
        var rule: RelabelRule
        /// Nil for the default `(.*)`, which matches everything with group 1 = the value.
        var regex: Regex<AnyRegexOutput>?
    }

    let steps: [Step]

    /// Compiles `rules`. Throws `.invalidSpec` for a regex that does not compile.
    public init(_ rules: [RelabelRule]) throws(CollectError) {
        var steps: [Step] = []
        for rule in rules {
            if rule.regex == "(.*)" {
                steps.append(Step(rule: rule, regex: nil))
                continue
            }
            do {
                steps.append(Step(rule: rule, regex: try Regex("(?s:\(rule.regex))")))
            } catch {
                throw CollectError(.invalidSpec, "invalid relabel regex", context: rule.regex)
            }
        }
        self.steps = steps
    }

    public var isEmpty: Bool { steps.isEmpty }

    /// The relabeled set, or nil when a rule dropped it.
    public func apply(_ labels: Labels) -> Labels? {
        guard !steps.isEmpty else { return labels }
        var builder: [String: String] = [:]
        builder.reserveCapacity(labels.count + 4)
        for label in labels { builder[label.name] = label.value }
        guard apply(&builder) else { return nil }
        return Self.labels(builder)
    }

    /// Relabels `labels` in place; false when a rule dropped the set.
    public func apply(_ labels: inout [String: String]) -> Bool {
        for step in steps where !Self.apply(step, &labels) { return false }
        return true
    }

    /// The label set of a builder; names are valid by construction.
    static func labels(_ builder: [String: String]) -> Labels {
        Labels(uncheckedSorted: builder.filter { !$0.value.isEmpty }.map { Label($0.key, $0.value) }.sorted())
    }

    private static func apply(_ step: Step, _ labels: inout [String: String]) -> Bool {
        let rule = step.rule
        let value = rule.sourceLabels.count == 1
            ? labels[rule.sourceLabels[0]] ?? "" : rule.sourceLabels.map { labels[$0] ?? "" }.joined(separator: rule.separator)
        switch rule.action {
        case .drop:
            if matches(step, value) { return false }
        case .keep:
            if !matches(step, value) { return false }
        case .dropequal:
            if (labels[rule.targetLabel ?? ""] ?? "") == value { return false }
        case .keepequal:
            if (labels[rule.targetLabel ?? ""] ?? "") != value { return false }
        case .replace:
            guard let groups = match(step, value) else { break }
            let target = expand(rule.targetLabel ?? "", groups)
            guard Labels.isValidLabelName(target) else { break }
            set(&labels, target, expand(rule.replacement, groups))
        case .lowercase:
            set(&labels, rule.targetLabel ?? "", value.lowercased())
        case .uppercase:
            set(&labels, rule.targetLabel ?? "", value.uppercased())
        case .hashmod:
            let digest = MD5.digest(value.utf8)
            let tail = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            set(&labels, rule.targetLabel ?? "", String(tail % max(1, rule.modulus ?? 1)))
        case .labelmap:
            for (name, labelValue) in labels {
                guard let groups = match(step, name) else { continue }
                let target = expand(rule.replacement, groups)
                if Labels.isValidLabelName(target) { set(&labels, target, labelValue) }
            }
        case .labeldrop:
            for name in labels.keys where matches(step, name) { labels[name] = nil }
        case .labelkeep:
            for name in labels.keys where !matches(step, name) { labels[name] = nil }
        }
        return true
    }

    private static func set(_ labels: inout [String: String], _ name: String, _ value: String) {
        guard Labels.isValidLabelName(name) else { return }
        labels[name] = value.isEmpty ? nil : value
    }

    private static func matches(_ step: Step, _ text: String) -> Bool {
        guard let regex = step.regex else { return true }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    /// The groups of an anchored match: numbered, and by name.
    struct Groups {
        var numbered: [String]
        var match: Regex<AnyRegexOutput>.Match?

        func named(_ name: String) -> String {
            guard let match, let element = match.output[name], let substring = element.substring else { return "" }
            return String(substring)
        }
    }

    private static func match(_ step: Step, _ text: String) -> Groups? {
        guard let regex = step.regex else { return Groups(numbered: [text, text], match: nil) }
        guard let found = try? regex.wholeMatch(in: text) else { return nil }
        let numbered = (0..<found.output.count).map { found.output[$0].substring.map(String.init) ?? "" }
        return Groups(numbered: numbered, match: found)
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is the longest
    /// run of letters, digits and `_`; an unknown group is empty; a lone `$` stays.
    static func expand(_ template: String, _ groups: Groups) -> String {
        guard template.utf8.contains(UInt8(ascii: "$")) else { return template }
        var out = ""
        let scalars = Array(template.unicodeScalars)
        var i = 0
        func isNameScalar(_ c: Unicode.Scalar) -> Bool {
            c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c)
        }
        while i < scalars.count {
            let c = scalars[i]
            guard c == "$", i + 1 < scalars.count else {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            if scalars[i + 1] == "$" {
                out += "$"
                i += 2
                continue
            }
            var j = i + 1
            let braced = scalars[j] == "{"
            if braced { j += 1 }
            let nameStart = j
            while j < scalars.count, isNameScalar(scalars[j]) { j += 1 }
            let name = String(String.UnicodeScalarView(scalars[nameStart..<j]))
            if name.isEmpty || (braced && (j >= scalars.count || scalars[j] != "}")) {
                out += "$"
                i += 1
                continue
            }
            if braced { j += 1 }
            if let index = Int(name) {
                if index < groups.numbered.count { out += groups.numbered[index] }
            } else {
                out += groups.named(name)
            }
            i = j
        }
        return out
    }
}
