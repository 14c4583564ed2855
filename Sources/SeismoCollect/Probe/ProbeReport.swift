import SeismoCore
import SeismoPipeline

/// What one probe measured.
public struct ProbeResult: Sendable, Hashable {
    public var success: Bool
    /// Wall time of the whole probe.
    public var duration: Duration
    /// Seconds per phase (`resolve`, `connect`, `tls`, `processing`, `transfer`), where measured.
    public var phases: [String: Double] = [:]
    public var statusCode: Int?
    public var contentLength: Int?
    /// Unix seconds at which the server's certificate expires.
    public var certificateExpiry: Double?
    public var tls = false
    /// The body did not match `body_regex`.
    public var failedDueToRegex = false
    /// DNS: the addresses found.
    public var answers: Int?
    /// Why it failed.
    public var error: String?

    public init(success: Bool, duration: Duration, error: String? = nil) {
        self.success = success
        self.duration = duration
        self.error = error
    }
}

/// Turns a round of probes of one target into blackbox-exporter and Smokeping series. A
/// pure function. The first probe of the round gives the blackbox series
/// (`probe_success`, `probe_duration_seconds`, `probe_http_*`, `probe_ssl_*`, `probe_dns_*`);
/// every probe of the round gives the repeated-latency series:
/// `probe_round_latency_seconds{stat="min"|"median"|"max"}` over the successful probes,
/// `probe_round_loss_ratio`, and `probe_round_sent`.
public enum ProbeReport {
    public static func samples(
        job: String, target: ProbeTargetSpec, round: [ProbeResult], time: Timestamp
    ) -> [Sample] {
        guard let first = round.first else { return [] }
        var base = target.labels
        base["job"] = job
        base["instance"] = target.target
        base["module"] = target.module.rawValue
        var out: [Sample] = []
        func add(_ name: String, _ value: Double, _ extra: [String: String] = [:]) {
            var pairs = base.merging(extra) { _, new in new }
            pairs[Labels.metricName] = name
            if let labels = try? Labels(validating: pairs) { out.append(Sample(labels: labels, timestamp: time, value: value)) }
        }
        add("probe_success", first.success ? 1 : 0)
        add("probe_duration_seconds", seconds(first.duration))
        switch target.module {
        case .http:
            add("probe_http_status_code", Double(first.statusCode ?? 0))
            if let length = first.contentLength { add("probe_http_content_length", Double(length)) }
            add("probe_http_ssl", first.tls ? 1 : 0)
            add("probe_failed_due_to_regex", first.failedDueToRegex ? 1 : 0)
            for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
                if let value = first.phases[phase] { add("probe_http_duration_seconds", value, ["phase": phase]) }
            }
            if let expiry = first.certificateExpiry { add("probe_ssl_earliest_cert_expiry", expiry) }
        case .tcp:
            if let expiry = first.certificateExpiry { add("probe_ssl_earliest_cert_expiry", expiry) }
        case .dns:
            if let resolve = first.phases["resolve"] { add("probe_dns_lookup_time_seconds", resolve) }
            add("probe_dns_answer_rrs", Double(first.answers ?? 0))
        case .icmp:
            if let rtt = first.phases["rtt"] { add("probe_icmp_duration_seconds", rtt, ["phase": "rtt"]) }
        }
        let latencies = round.filter(\.success).map { seconds($0.duration) }.sorted()
        if !latencies.isEmpty {
            add("probe_round_latency_seconds", latencies[0], ["stat": "min"])
            add("probe_round_latency_seconds", median(latencies), ["stat": "median"])
            add("probe_round_latency_seconds", latencies[latencies.count - 1], ["stat": "max"])
        }
        add("probe_round_loss_ratio", Double(round.count - latencies.count) / Double(round.count))
        add("probe_round_sent", Double(round.count))
        return out
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration.nanoseconds) / 1e9 }

    /// The median of sorted values (the mean of the middle two for an even count).
    static func median(_ sorted: [Double]) -> Double {
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
