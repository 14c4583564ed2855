import SeismoCore

/// The type of a PromQL expression's value.
public enum ValueType: String, Sendable, Hashable {
    case scalar
    case vector = "instant vector"
    case matrix = "range vector"
    case string
}

/// A binary operator, in the order Prometheus lists them.
public enum BinaryOperator: String, Sendable, Hashable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^", atan2
    case eql = "==", neq = "!=", gtr = ">", lss = "<", gte = ">=", lte = "<="
    case and, or, unless

    static let keywordOperators: [String: BinaryOperator] = ["and": .and, "or": .or, "unless": .unless, "atan2": .atan2]

    /// Binding strength: higher binds tighter (Prometheus's yacc precedence).
    var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .eql, .neq, .gtr, .lss, .gte, .lte: 3
        case .add, .sub: 4
        case .mul, .div, .mod, .atan2: 5
        case .pow: 6
        }
    }

    public var isComparison: Bool {
        switch self {
        case .eql, .neq, .gtr, .lss, .gte, .lte: true
        default: false
        }
    }

    public var isSetOperator: Bool { self == .and || self == .or || self == .unless }
}

/// The `@` modifier: a fixed time, or the query's start or end.
public enum AtModifier: Sendable, Hashable {
    case timestamp(Int64)
    case start
    case end
}

/// An instant vector selector: `name{matchers} offset d @ t`.
public struct VectorSelector: Sendable, Hashable {
    public var name: String?
    /// All matchers, including `__name__="name"` when a name was written.
    public var matchers: [Matcher]
    /// Milliseconds; positive looks back.
    public var offset: Int64 = 0
    public var at: AtModifier?
}

/// Which side of a many-to-one match has the higher cardinality.
public enum Cardinality: Sendable, Hashable {
    case oneToOne, manyToOne, oneToMany, manyToMany
}

/// `on(…)`/`ignoring(…)` and `group_left(…)`/`group_right(…)` of a binary operation.
public struct VectorMatching: Sendable, Hashable {
    public var cardinality: Cardinality = .oneToOne
    /// The labels of `on` (when `on` is true) or `ignoring`.
    public var labels: [String] = []
    public var on = false
    /// Extra labels of `group_left(…)` / `group_right(…)`, copied from the "one" side.
    public var include: [String] = []
}

/// An aggregation operator.
public enum AggregateOperator: String, Sendable, Hashable, CaseIterable {
    case sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile
    case countValues = "count_values"

    var hasParameter: Bool { self == .topk || self == .bottomk || self == .quantile || self == .countValues }
}

/// A node of a parsed query, with the byte range it spans.
public indirect enum Expr: Sendable, Hashable {
    case number(Double)
    case string(String)
    case vectorSelector(VectorSelector)
    /// `selector[range]`, range in milliseconds.
    case matrixSelector(VectorSelector, range: Int64)
    /// `expr[range:step] offset d @ t`; step 0 means the default resolution.
    case subquery(Expr, range: Int64, step: Int64, offset: Int64, at: AtModifier?)
    case call(function: String, args: [Expr])
    case aggregate(op: AggregateOperator, expr: Expr, param: Expr?, grouping: [String], without: Bool)
    case binary(op: BinaryOperator, lhs: Expr, rhs: Expr, matching: VectorMatching?, returnBool: Bool)
    case unaryMinus(Expr)
    case paren(Expr)

    /// The static type of the expression's value.
    public var type: ValueType {
        switch self {
        case .number: .scalar
        case .string: .string
        case .vectorSelector: .vector
        case .matrixSelector, .subquery: .matrix
        case .call(let name, _): FunctionSignature.all[name]?.returns ?? .vector
        case .aggregate: .vector
        case .binary(_, let lhs, let rhs, _, _): lhs.type == .scalar && rhs.type == .scalar ? .scalar : .vector
        case .unaryMinus(let e), .paren(let e): e.type
        }
    }

    /// The expression without enclosing parentheses.
    public var unwrapped: Expr {
        if case .paren(let inner) = self { return inner.unwrapped }
        return self
    }
}

extension Expr: CustomStringConvertible {
    /// PromQL text for the expression (normalized spacing).
    public var description: String {
        switch self {
        case .number(let v): return Self.format(v)
        case .string(let s): return s.debugDescription
        case .vectorSelector(let vs): return Self.format(vs)
        case .matrixSelector(var vs, let range):
            let modifiers = Self.modifiers(vs.offset, vs.at)
            vs.offset = 0
            vs.at = nil
            return "\(Self.format(vs))[\(DurationParser.format(milliseconds: range))]\(modifiers)"
        case .subquery(let e, let range, let step, let offset, let at):
            let s = step == 0 ? "" : DurationParser.format(milliseconds: step)
            return "\(e)[\(DurationParser.format(milliseconds: range)):\(s)]\(Self.modifiers(offset, at))"
        case .call(let f, let args): return "\(f)(\(args.map(\.description).joined(separator: ", ")))"
        case .aggregate(let op, let e, let p, let grouping, let without):
            var out = op.rawValue
            if without || !grouping.isEmpty { out += " \(without ? "without" : "by") (\(grouping.joined(separator: ", "))) " }
            out += "(" + (p.map { "\($0), " } ?? "") + "\(e))"
            return out
        case .binary(let op, let l, let r, let m, let b):
            var out = "\(l) \(op.rawValue)"
            if b { out += " bool" }
            if let m {
                if m.on || !m.labels.isEmpty { out += " \(m.on ? "on" : "ignoring")(\(m.labels.joined(separator: ", ")))" }
                if m.cardinality == .manyToOne { out += " group_left(\(m.include.joined(separator: ", ")))" }
                if m.cardinality == .oneToMany { out += " group_right(\(m.include.joined(separator: ", ")))" }
            }
            return out + " \(r)"
        case .unaryMinus(let e): return "-\(e)"
        case .paren(let e): return "(\(e))"
        }
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    static func format(_ vs: VectorSelector) -> String {
        let rest = vs.matchers.filter { !(vs.name != nil && $0.name == Labels.metricName && $0.kind == .equal) }
        var out = vs.name ?? ""
        if !rest.isEmpty || vs.name == nil { out += "{" + rest.map(\.description).joined(separator: ", ") + "}" }
        return out + modifiers(vs.offset, vs.at)
    }

    static func modifiers(_ offset: Int64, _ at: AtModifier?) -> String {
        var out = ""
        if let at {
            switch at {
            case .timestamp(let t): out += " @ \(format(Double(t) / 1000))"
            case .start: out += " @ start()"
            case .end: out += " @ end()"
            }
        }
        if offset > 0 { out += " offset \(DurationParser.format(milliseconds: offset))" }
        if offset < 0 { out += " offset -\(DurationParser.format(milliseconds: -offset))" }
        return out
    }
}
