import ArgumentParser
import SeismoWire

/// `seismo subscribe` filters on anomaly events (and, by label, on alert records): every
/// given filter must match. Signal records are left out when a pipeline, detector or
/// severity filter is given.
struct SubscribeFilter: ParsableArguments {
    @Option(name: .long, help: "Only events of this pipeline.")
    var pipeline: String?

    @Option(name: .long, help: "Only events of this detector.")
    var detector: String?

    @Option(name: .long, help: "Only events at least this severe (info, warning, critical).")
    var severity: AnomalyEvent.Severity?

    @Option(name: .customLong("label"), help: "Only events whose group has name=value (repeatable).")
    var labels: [String] = []

    var isEmpty: Bool { pipeline == nil && detector == nil && severity == nil && labels.isEmpty }

    /// Signal batches pass only when no event-specific filter is set.
    var acceptsSignals: Bool { pipeline == nil && detector == nil && severity == nil }

    func validate() throws {
        for label in labels where !label.contains("=") { throw ValidationError("--label takes name=value, got \(label)") }
    }

    func accepts(_ event: AnomalyEvent) -> Bool {
        if let pipeline, event.pipeline != pipeline { return false }
        if let detector, event.detector != detector { return false }
        if let severity, event.severity < severity { return false }
        return accepts(labels: event.group)
    }

    func accepts(labels group: [String: String]) -> Bool {
        labels.allSatisfy { pair in
            guard let eq = pair.firstIndex(of: "=") else { return false }
            return group[String(pair[..<eq])] == String(pair[pair.index(after: eq)...])
        }
    }
}

extension AnomalyEvent.Severity: ExpressibleByArgument {}
