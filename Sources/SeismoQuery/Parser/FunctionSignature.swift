/// A PromQL function's argument and return types, as the parser checks them.
public struct FunctionSignature: Sendable {
    public var name: String
    public var args: [ValueType]
    /// 0: exactly `args`; n > 0: the last `n` arguments may be left out (or, with
    /// `repeatsLast`, the last may repeat).
    public var optional: Int
    public var repeatsLast: Bool
    public var returns: ValueType

    init(_ name: String, _ args: [ValueType], _ returns: ValueType, optional: Int = 0, repeatsLast: Bool = false) {
        self.name = name
        self.args = args
        self.returns = returns
        self.optional = optional
        self.repeatsLast = repeatsLast
    }

    /// The functions of Prometheus 2.42 over float samples.
    public static let all: [String: FunctionSignature] = {
        var out: [String: FunctionSignature] = [:]
        func add(_ s: FunctionSignature) { out[s.name] = s }
        for name in ["abs", "ceil", "floor", "exp", "ln", "log2", "log10", "sqrt", "sgn", "sort", "sort_desc",
            "absent", "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh",
            "deg", "rad"]
        {
            add(FunctionSignature(name, [.vector], .vector))
        }
        for name in ["rate", "irate", "increase", "delta", "idelta", "deriv", "resets", "changes", "avg_over_time",
            "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "stddev_over_time",
            "stdvar_over_time", "last_over_time", "present_over_time", "absent_over_time"]
        {
            add(FunctionSignature(name, [.matrix], .vector))
        }
        for name in ["day_of_week", "day_of_month", "day_of_year", "days_in_month", "hour", "minute", "month", "year"] {
            add(FunctionSignature(name, [.vector], .vector, optional: 1))
        }
        add(FunctionSignature("predict_linear", [.matrix, .scalar], .vector))
        add(FunctionSignature("quantile_over_time", [.scalar, .matrix], .vector))
        add(FunctionSignature("holt_winters", [.matrix, .scalar, .scalar], .vector))
        add(FunctionSignature("histogram_quantile", [.scalar, .vector], .vector))
        add(FunctionSignature("round", [.vector, .scalar], .vector, optional: 1))
        add(FunctionSignature("clamp", [.vector, .scalar, .scalar], .vector))
        add(FunctionSignature("clamp_min", [.vector, .scalar], .vector))
        add(FunctionSignature("clamp_max", [.vector, .scalar], .vector))
        add(FunctionSignature("label_replace", [.vector, .string, .string, .string, .string], .vector))
        add(FunctionSignature("label_join", [.vector, .string, .string, .string], .vector, optional: 1, repeatsLast: true))
        add(FunctionSignature("time", [], .scalar))
        add(FunctionSignature("pi", [], .scalar))
        add(FunctionSignature("timestamp", [.vector], .vector))
        add(FunctionSignature("vector", [.scalar], .vector))
        add(FunctionSignature("scalar", [.vector], .scalar))
        return out
    }()
}
