import SeismoAlert
import SeismoCore
import SeismoPipeline
import SeismoQuery

/// Runs alerting rules' `expr` on the PromQL engine over the pipeline's store, as
/// Prometheus's rule manager does: an instant query at the evaluation time, whose every
/// series is an alert candidate labelled by the series' labels without `__name__` (a
/// scalar result is one candidate without labels).
public struct QueryRuleEvaluator: RuleEvaluator {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func evaluate(_ expression: String, at time: Int64) async throws -> [(labels: AlertLabels, value: Double)] {
        switch try await engine.instantQuery(expression, at: time) {
        case .vector(let samples):
            return samples.map { sample in
                var labels: AlertLabels = [:]
                for label in sample.labels where label.name != Labels.metricName { labels[label.name] = label.value }
                return (labels, sample.value)
            }
        case .scalar(_, let value):
            // As Prometheus: a scalar result is one sample without labels.
            return [([:], value)]
        case let other:
            throw QueryError(.execution, "rule result is a \(other.resultType), not an instant vector")
        }
    }

    /// Every query rule whose `expr` does not parse, as "rule NAME: expr: message".
    public static func problems(in spec: AlertingSpec) -> [String] {
        spec.rules.compactMap { rule in
            guard case .query(let expression) = rule.condition else { return nil }
            do {
                let expr = try Parser.parse(expression)
                guard expr.type == .vector || expr.type == .scalar else {
                    return "rule \(rule.name): expr: \(expr.type.rawValue) result; an alerting rule needs an instant vector"
                }
                return nil
            } catch {
                return "rule \(rule.name): expr: \(error)"
            }
        }
    }
}
