import SeismoCore
import Yams

/// The `prometheus_scrape`, `host` and `probe` collectors.
extension PipelineCompiler {
    static let scrapeFamilyTypes = ["prometheus_scrape", "host", "probe"]

    static let scrapeFamilyKeys: [String: [String]] = [
        "prometheus_scrape": [
            "job_name", "scrape_interval", "scrape_timeout", "metrics_path", "scheme", "params", "honor_labels",
            "honor_timestamps", "static_configs", "file_sd_configs", "kubernetes_sd_configs", "relabel_configs",
            "metric_relabel_configs", "body_size_limit", "sample_limit",
        ],
        "host": ["interval", "proc_path", "sys_path", "cgroup_path", "collectors", "exclude_fs_types", "labels"],
        "probe": ["interval", "timeout", "pings", "targets"],
    ]

    static let relabelKeys = ["action", "source_labels", "separator", "regex", "modulus", "target_label", "replacement"]

    func scrapeFamily(_ type: String, _ m: MappingView, name: String?) -> CollectorSpec.Kind? {
        switch type {
        case "prometheus_scrape": scrape(m, name: name).map { .prometheusScrape($0) }
        case "host": host(m).map { .host($0) }
        case "probe": probe(m).map { .probe($0) }
        default: nil
        }
    }

    // MARK: prometheus_scrape

    private func scrape(_ m: MappingView, name: String?) -> ScrapeSpec? {
        let before = reader.issues.count
        var spec = ScrapeSpec(jobName: reader.string(m, "job_name") ?? name ?? "scrape")
        spec.interval = reader.duration(m, "scrape_interval") ?? spec.interval
        spec.timeout = reader.duration(m, "scrape_timeout") ?? min(spec.timeout, spec.interval)
        if spec.timeout > spec.interval {
            reader.report(
                .invalidValue, m.location(of: "scrape_timeout"),
                "scrape_timeout (\(spec.timeout)) must not exceed scrape_interval (\(spec.interval))")
        }
        if let path = reader.string(m, "metrics_path") {
            if path.hasPrefix("/") { spec.metricsPath = path } else {
                reader.report(.invalidValue, m.location(of: "metrics_path"), "must start with '/', got '\(path)'")
            }
        }
        spec.scheme = reader.choice(m, "scheme", ["http", "https"]) ?? spec.scheme
        if let params = reader.mapping(m, "params", allowed: nil) {
            for entry in params.entries {
                let values = reader.strings(params, entry.key) ?? []
                spec.params[entry.key] = values.map(\.0)
            }
        }
        spec.honorLabels = reader.bool(m, "honor_labels") ?? false
        spec.honorTimestamps = reader.bool(m, "honor_timestamps") ?? true
        for (node, location) in reader.list(m, "static_configs") ?? [] {
            if let group = targetGroup(node, location) { spec.staticConfigs.append(group) }
        }
        for (node, location) in reader.list(m, "file_sd_configs") ?? [] {
            guard let sd = reader.mapping(node, location, allowed: ["files", "refresh_interval"]) else { continue }
            let files = (reader.strings(sd, "files", required: true) ?? []).map(\.0)
            if files.isEmpty, sd.contains("files") { reader.report(.invalidValue, sd.location(of: "files"), "must list at least one file") }
            spec.fileSD.append(FileSDSpec(files: files, refreshInterval: reader.duration(sd, "refresh_interval") ?? .seconds(300)))
        }
        for (node, location) in reader.list(m, "kubernetes_sd_configs") ?? [] {
            if let sd = kubernetesSD(node, location) { spec.kubernetesSD.append(sd) }
        }
        if spec.staticConfigs.isEmpty, spec.fileSD.isEmpty, spec.kubernetesSD.isEmpty, reader.issues.count == before {
            reader.report(
                .missingKey, m.location,
                "a prometheus_scrape collector needs targets: static_configs, file_sd_configs or kubernetes_sd_configs")
        }
        spec.relabelConfigs = relabelRules(m, "relabel_configs")
        spec.metricRelabelConfigs = relabelRules(m, "metric_relabel_configs")
        if let node = m["body_size_limit"] {
            if let bytes = Self.byteSize(node) { spec.bodySizeLimit = bytes } else {
                reader.wrongType(node, m.location(of: "body_size_limit"), expected: "a size in bytes (e.g. 10MB, 64MiB, 1048576)")
            }
        }
        spec.sampleLimit = reader.int(m, "sample_limit", min: 0) ?? 0
        return reader.issues.count == before ? spec : nil
    }

    /// A `{targets, labels}` group.
    private func targetGroup(_ node: Node, _ location: Location) -> TargetGroupSpec? {
        guard let g = reader.mapping(node, location, allowed: ["targets", "labels"]) else { return nil }
        var targets: [String] = []
        for (target, at) in reader.strings(g, "targets", required: true) ?? [] {
            if target.isEmpty || target.contains(" ") {
                reader.report(.invalidValue, at, "'\(target)' is not a target address (host:port)")
            } else {
                targets.append(target)
            }
        }
        return TargetGroupSpec(targets: targets, labels: labelMap(g, "labels"))
    }

    /// A mapping of label names to values.
    func labelMap(_ parent: MappingView, _ key: String) -> [String: String] {
        guard let labels = reader.mapping(parent, key, allowed: nil) else { return [:] }
        var out: [String: String] = [:]
        for entry in labels.entries {
            guard Labels.isValidLabelName(entry.key) else {
                reader.report(.invalidValue, labels.keyLocation(of: entry.key), "'\(entry.key)' is not a valid label name")
                continue
            }
            if let value = reader.string(labels, entry.key) { out[entry.key] = value }
        }
        return out
    }

    private func kubernetesSD(_ node: Node, _ location: Location) -> KubernetesSDSpec? {
        let keys = [
            "role", "api_server", "namespaces", "kubeconfig_file", "bearer_token_file", "tls_config", "refresh_interval",
        ]
        guard let k = reader.mapping(node, location, allowed: keys) else { return nil }
        guard let roleName = reader.choice(k, "role", KubernetesSDSpec.Role.allCases.map(\.rawValue), required: true),
            let role = KubernetesSDSpec.Role(rawValue: roleName)
        else { return nil }
        var sd = KubernetesSDSpec(role: role)
        if let server = reader.string(k, "api_server") {
            if server.hasPrefix("http://") || server.hasPrefix("https://") { sd.apiServer = server } else {
                reader.report(.invalidValue, k.location(of: "api_server"), "expected an http:// or https:// URL, got '\(server)'")
            }
        }
        if let ns = reader.mapping(k, "namespaces", allowed: ["names"]) {
            sd.namespaces = (reader.strings(ns, "names") ?? []).map(\.0)
        }
        sd.kubeconfig = reader.string(k, "kubeconfig_file")
        sd.bearerTokenFile = reader.string(k, "bearer_token_file")
        if let tls = reader.mapping(k, "tls_config", allowed: ["ca_file", "insecure_skip_verify"]) {
            sd.caFile = reader.string(tls, "ca_file")
            sd.insecureSkipVerify = reader.bool(tls, "insecure_skip_verify") ?? false
        }
        sd.refreshInterval = reader.duration(k, "refresh_interval") ?? sd.refreshInterval
        return sd
    }

    private func relabelRules(_ m: MappingView, _ key: String) -> [RelabelRule] {
        var rules: [RelabelRule] = []
        for (node, location) in reader.list(m, key) ?? [] {
            if let rule = relabelRule(node, location) { rules.append(rule) }
        }
        return rules
    }

    private func relabelRule(_ node: Node, _ location: Location) -> RelabelRule? {
        guard let r = reader.mapping(node, location, allowed: Self.relabelKeys) else { return nil }
        let before = reader.issues.count
        var rule = RelabelRule()
        if r.contains("action") {
            // An unknown action is reported once; the rest of the rule is not checked against a guess.
            guard let name = reader.choice(r, "action", RelabelRule.Action.allCases.map(\.rawValue)),
                let action = RelabelRule.Action(rawValue: name)
            else { return nil }
            rule.action = action
        }
        for (label, at) in reader.strings(r, "source_labels") ?? [] {
            if Labels.isValidLabelName(label) { rule.sourceLabels.append(label) } else {
                reader.report(.invalidValue, at, "'\(label)' is not a valid label name")
            }
        }
        rule.separator = reader.string(r, "separator") ?? rule.separator
        if let pattern = reader.string(r, "regex") {
            if let problem = Self.regexProblem(pattern) {
                reader.report(.invalidValue, r.location(of: "regex"), "invalid regex '\(pattern)': \(problem)")
            }
            rule.regex = pattern
        }
        rule.replacement = reader.string(r, "replacement") ?? rule.replacement
        rule.targetLabel = reader.string(r, "target_label")
        if let node = r["modulus"] {
            if let text = node.plainScalar, let modulus = UInt64(text), modulus > 0 { rule.modulus = modulus } else {
                reader.wrongType(node, r.location(of: "modulus"), expected: "a positive integer")
            }
        }
        let needsTarget: Set<RelabelRule.Action> = [.replace, .hashmod, .lowercase, .uppercase, .keepequal, .dropequal]
        if needsTarget.contains(rule.action), rule.targetLabel == nil {
            reader.report(.missingKey, r.location, "action '\(rule.action.rawValue)' needs target_label")
        }
        if let target = rule.targetLabel {
            // Only `replace` expands `$1` in target_label.
            let valid = rule.action == .replace ? Self.isLabelTemplate(target) : Labels.isValidLabelName(target)
            if !valid { reader.report(.invalidValue, r.location(of: "target_label"), "'\(target)' is not a valid label name") }
            if [.labelmap, .labeldrop, .labelkeep, .keep, .drop].contains(rule.action) {
                reader.report(.invalidValue, r.location(of: "target_label"), "action '\(rule.action.rawValue)' takes no target_label")
            }
        }
        if rule.action == .hashmod, rule.modulus == nil, !r.contains("modulus") {
            reader.report(.missingKey, r.location, "action 'hashmod' needs modulus")
        }
        if [.labeldrop, .labelkeep].contains(rule.action), r.contains("source_labels") {
            reader.report(.invalidValue, r.location(of: "source_labels"), "action '\(rule.action.rawValue)' matches label names and takes no source_labels")
        }
        if [.keep, .drop, .hashmod, .keepequal, .dropequal].contains(rule.action), rule.sourceLabels.isEmpty,
            !r.contains("source_labels")
        {
            reader.report(.missingKey, r.location, "action '\(rule.action.rawValue)' needs source_labels")
        }
        return reader.issues.count == before ? rule : nil
    }

    /// Why `pattern` does not compile, or nil when it does.
    static func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try Regex("(?s:\(pattern))")
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A label name in which `$1` / `${name}` may stand for parts.
    static func isLabelTemplate(_ text: String) -> Bool {
        var stripped = ""
        var scalars = text.unicodeScalars[...]
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            guard c == "$" else {
                stripped.unicodeScalars.append(c)
                continue
            }
            if scalars.first == "{" {
                guard let close = scalars.firstIndex(of: "}") else { return false }
                scalars = scalars[scalars.index(after: close)...]
            } else {
                while let d = scalars.first, d == "_" || d.isASCIILetter || d.isASCIIDigit { scalars = scalars.dropFirst() }
            }
            stripped += "a"
        }
        return Labels.isValidLabelName(stripped)
    }

    /// `1048576`, `512KB`, `10MB`, `64MiB`, `1GB`.
    static func byteSize(_ node: Node) -> Int? {
        guard case .scalar(let s) = node else { return nil }
        let text = s.string.trimmingPrefixAndSuffixSpaces
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count)), n > 0 else { return nil }
            return n * factor
        }
        guard let n = Int(text), n > 0 else { return nil }
        return n
    }

    // MARK: host

    private func host(_ m: MappingView) -> HostSpec? {
        let before = reader.issues.count
        var spec = HostSpec()
        spec.interval = reader.duration(m, "interval") ?? spec.interval
        spec.procPath = reader.string(m, "proc_path") ?? spec.procPath
        spec.sysPath = reader.string(m, "sys_path") ?? spec.sysPath
        spec.cgroupPath = reader.string(m, "cgroup_path") ?? spec.cgroupPath
        if let listed = reader.strings(m, "collectors") {
            let names = HostSpec.Group.allCases.map(\.rawValue)
            spec.groups = listed.compactMap { name, at in
                guard let group = HostSpec.Group(rawValue: name) else {
                    reader.report(.invalidValue, at, "unknown host collector '\(name)'\(Suggestions.hint(for: name, in: names))")
                    return nil
                }
                return group
            }
        }
        if let types = reader.strings(m, "exclude_fs_types") { spec.excludedFilesystemTypes = types.map(\.0) }
        spec.labels = labelMap(m, "labels")
        return reader.issues.count == before ? spec : nil
    }

    // MARK: probe

    private func probe(_ m: MappingView) -> ProbeSpec? {
        let before = reader.issues.count
        var spec = ProbeSpec(targets: [])
        spec.interval = reader.duration(m, "interval") ?? spec.interval
        spec.timeout = reader.duration(m, "timeout") ?? min(spec.timeout, spec.interval)
        spec.pings = reader.int(m, "pings", min: 1) ?? spec.pings
        let keys = ["module", "target", "valid_status_codes", "body_regex", "method", "labels", "insecure_skip_verify"]
        for (node, location) in reader.list(m, "targets", required: true) ?? [] {
            guard let t = reader.mapping(node, location, allowed: keys) else { continue }
            let modules = ProbeTargetSpec.Module.allCases.map(\.rawValue)
            guard let moduleName = reader.choice(t, "module", modules, required: true),
                let module = ProbeTargetSpec.Module(rawValue: moduleName),
                let target = reader.string(t, "target", required: true)
            else { continue }
            var probe = ProbeTargetSpec(module: module, target: target)
            if module == .http, !(target.hasPrefix("http://") || target.hasPrefix("https://")) {
                reader.report(.invalidValue, t.location(of: "target"), "an http probe needs an http:// or https:// URL, got '\(target)'")
            }
            if module == .tcp, !target.contains(":") {
                reader.report(.invalidValue, t.location(of: "target"), "a tcp probe needs host:port, got '\(target)'")
            }
            for (node, at) in reader.list(t, "valid_status_codes") ?? [] {
                if let code = reader.int(node, at, min: 100) { probe.validStatusCodes.append(code) }
            }
            if let pattern = reader.string(t, "body_regex") {
                if let problem = Self.regexProblem(pattern) {
                    reader.report(.invalidValue, t.location(of: "body_regex"), "invalid regex '\(pattern)': \(problem)")
                }
                probe.bodyRegex = pattern
            }
            probe.method = reader.choice(t, "method", ["GET", "HEAD", "POST"]) ?? probe.method
            probe.labels = labelMap(t, "labels")
            probe.insecureSkipVerify = reader.bool(t, "insecure_skip_verify") ?? false
            spec.targets.append(probe)
        }
        if spec.targets.isEmpty, m.contains("targets"), reader.issues.count == before {
            reader.report(.invalidValue, m.location(of: "targets"), "must list at least one target")
        }
        return reader.issues.count == before ? spec : nil
    }
}

extension String {
    fileprivate var trimmingPrefixAndSuffixSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
