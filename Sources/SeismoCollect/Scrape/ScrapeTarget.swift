import SeismoCore
import SeismoPipeline

/// Targets found by one discovery mechanism, sharing `labels`.
public struct TargetGroup: Sendable, Hashable {
    /// Where it came from (a file path, `static/0`, `kubernetes/pod`), for logs.
    public var source: String
    /// One label set per target; each holds `__address__` and any `__meta_*` labels.
    public var targets: [[String: String]]
    /// Labels of every target in the group (a target's own labels win).
    public var labels: [String: String]

    public init(source: String, targets: [[String: String]], labels: [String: String] = [:]) {
        self.source = source
        self.targets = targets
        self.labels = labels
    }

    /// A `static_configs` / `file_sd` group: `targets` are addresses.
    public init(source: String, spec: TargetGroupSpec) {
        self.init(source: source, targets: spec.targets.map { ["__address__": $0] }, labels: spec.labels)
    }
}

/// One endpoint to scrape, after relabeling.
public struct ScrapeTarget: Sendable, Hashable {
    /// The labels added to every scraped series (`job`, `instance`, and what relabeling kept).
    public var labels: Labels
    /// `scheme://address/metrics_path?params`.
    public var url: String
}

/// Turns discovered groups into scrape targets as Prometheus does: defaults for `job`,
/// `__scheme__`, `__metrics_path__`, `__scrape_interval__`, `__scrape_timeout__` and
/// `__param_<name>`; then `relabel_configs`; then `instance` defaults to `__address__`
/// and every label starting with `__` is removed. A pure function.
public enum TargetBuilder {
    public struct Result: Sendable, Equatable {
        public var targets: [ScrapeTarget]
        /// Targets relabeling dropped.
        public var dropped: Int
        /// Targets left without an `__address__`, with a reason each.
        public var invalid: [String]
    }

    public static func build(_ groups: [TargetGroup], spec: ScrapeSpec, relabeler: Relabeler) -> Result {
        var result = Result(targets: [], dropped: 0, invalid: [])
        var seen: Set<ScrapeTarget> = []
        for group in groups {
            for discovered in group.targets {
                var labels = group.labels.merging(discovered) { _, own in own }
                setDefault(&labels, "job", spec.jobName)
                setDefault(&labels, "__scheme__", spec.scheme)
                setDefault(&labels, "__metrics_path__", spec.metricsPath)
                setDefault(&labels, "__scrape_interval__", format(spec.interval))
                setDefault(&labels, "__scrape_timeout__", format(spec.timeout))
                for (name, values) in spec.params.sorted(by: { $0.key < $1.key }) {
                    if let first = values.first { setDefault(&labels, "__param_\(name)", first) }
                }
                guard relabeler.apply(&labels) else {
                    result.dropped += 1
                    continue
                }
                guard let address = labels["__address__"], !address.isEmpty else {
                    result.invalid.append("no __address__ after relabeling (\(group.source))")
                    continue
                }
                if address.contains("/") || address.contains(" ") {
                    result.invalid.append("invalid address '\(address)' (\(group.source))")
                    continue
                }
                setDefault(&labels, "instance", address)
                let target = ScrapeTarget(
                    labels: Relabeler.labels(labels.filter { !$0.key.hasPrefix("__") }),
                    url: url(labels, address: address, spec: spec))
                if seen.insert(target).inserted { result.targets.append(target) }
            }
        }
        return result
    }

    private static func setDefault(_ labels: inout [String: String], _ name: String, _ value: String) {
        if labels[name]?.isEmpty ?? true { labels[name] = value }
    }

    /// `15s`, `1m30s`, `500ms`: Prometheus's duration spelling.
    static func format(_ duration: Duration) -> String {
        var ms = duration.milliseconds
        guard ms > 0 else { return "0s" }
        var out = ""
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000), ("ms", 1)] where ms >= size {
            out += "\(ms / size)\(unit)"
            ms %= size
        }
        return out
    }

    private static func url(_ labels: [String: String], address: String, spec: ScrapeSpec) -> String {
        let scheme = labels["__scheme__"] ?? spec.scheme
        var path = labels["__metrics_path__"] ?? spec.metricsPath
        if !path.hasPrefix("/") { path = "/" + path }
        var params = spec.params
        for (name, value) in labels where name.hasPrefix("__param_") {
            let key = String(name.dropFirst("__param_".count))
            if var values = params[key], !values.isEmpty {
                values[0] = value
                params[key] = values
            } else {
                params[key] = [value]
            }
        }
        var out = "\(scheme)://\(address)\(path)"
        let query = params.sorted { $0.key < $1.key }.flatMap { key, values in
            values.map { "\(percentEncode(key))=\(percentEncode($0))" }
        }
        if !query.isEmpty { out += (path.contains("?") ? "&" : "?") + query.joined(separator: "&") }
        return out
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
