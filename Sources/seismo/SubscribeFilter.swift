import ArgumentParser
import Foundation
import SeismoAlert
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

extension SubscribeFilter {
    /// An alert record (`seismo.alert.v1`, on `alerts.<pipeline>`), when `value` is one.
    static func decodeAlert(_ value: [UInt8]) -> Payloads.AlertRecord? {
        guard let record = try? JSONDecoder().decode(Payloads.AlertRecord.self, from: Data(value)),
            record.schema == Payloads.AlertRecord.schemaName
        else { return nil }
        return record
    }

    func accepts(alert: Payloads.AlertRecord) -> Bool {
        if let pipeline, alert.pipeline != pipeline { return false }
        if let detector, alert.labels["detector"] != detector { return false }
        if let severity, let own = alert.labels["severity"].flatMap(AnomalyEvent.Severity.init), own < severity { return false }
        return accepts(labels: alert.labels)
    }

    /// `starts_at  ALERT firing  {labels}  summary`.
    static func line(_ alert: Payloads.AlertRecord) -> String {
        let labels = alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
        let when = alert.status == "resolved" ? (alert.endsAt ?? alert.startsAt) : alert.startsAt
        return "\(when)  ALERT \(alert.status)  {\(labels)}" + (alert.annotations["summary"].map { "  \($0)" } ?? "")
    }
}

extension AnomalyEvent.Severity: ExpressibleByArgument {}
