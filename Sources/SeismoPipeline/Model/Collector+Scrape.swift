import SeismoCore

/// One relabeling step, with Prometheus's semantics (`relabel_configs`,
/// `metric_relabel_configs`). The regex is fully anchored.
public struct RelabelRule: Sendable, Hashable {
    /// What the step does.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case replace, keep, drop, labelmap, labeldrop, labelkeep, hashmod, lowercase, uppercase, keepequal, dropequal
    }

    public var action: Action
    public var sourceLabels: [String]
    public var separator: String
    /// The pattern as written (RE2 syntax); matched against the whole value.
    public var regex: String
    /// For `hashmod`.
    public var modulus: UInt64?
    public var targetLabel: String?
    /// May use `$1`, `${1}` and `${name}` for the regex's groups.
    public var replacement: String

    public init(
        action: Action = .replace, sourceLabels: [String] = [], separator: String = ";", regex: String = "(.*)",
        modulus: UInt64? = nil, targetLabel: String? = nil, replacement: String = "$1"
    ) {
        self.action = action
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.regex = regex
        self.modulus = modulus
        self.targetLabel = targetLabel
        self.replacement = replacement
    }
}

/// Targets that share labels (a `static_configs` entry or a `file_sd` group).
public struct TargetGroupSpec: Sendable, Hashable, Codable {
    /// `host:port` addresses.
    public var targets: [String]
    public var labels: [String: String]

    public init(targets: [String], labels: [String: String] = [:]) {
        self.targets = targets
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey { case targets, labels }

    /// As in a `file_sd` file: `labels` may be absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targets = try container.decode([String].self, forKey: .targets)
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
    }
}

/// Target groups read from JSON or YAML files, re-read when a file changes.
public struct FileSDSpec: Sendable, Hashable {
    /// Paths; the last component may hold a `*` glob.
    public var files: [String]
    /// How often the files are checked even without a change of modification time.
    public var refreshInterval: Duration

    public init(files: [String], refreshInterval: Duration = .seconds(300)) {
        self.files = files
        self.refreshInterval = refreshInterval
    }
}

/// Targets from the Kubernetes API server.
public struct KubernetesSDSpec: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable, CaseIterable { case pod, endpoints, service }

    public var role: Role
    /// `https://host:port`; nil: in-cluster (`KUBERNETES_SERVICE_HOST`) or the kubeconfig's server.
    public var apiServer: String?
    /// Empty: every namespace.
    public var namespaces: [String]
    /// A kubeconfig file; nil: the in-cluster service account.
    public var kubeconfig: String?
    public var bearerTokenFile: String?
    public var caFile: String?
    public var insecureSkipVerify: Bool
    public var refreshInterval: Duration

    public init(
        role: Role, apiServer: String? = nil, namespaces: [String] = [], kubeconfig: String? = nil,
        bearerTokenFile: String? = nil, caFile: String? = nil, insecureSkipVerify: Bool = false,
        refreshInterval: Duration = .seconds(60)
    ) {
        self.role = role
        self.apiServer = apiServer
        self.namespaces = namespaces
        self.kubeconfig = kubeconfig
        self.bearerTokenFile = bearerTokenFile
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.refreshInterval = refreshInterval
    }
}

/// A Prometheus scrape job (`type: prometheus_scrape`), keys as in Prometheus's `scrape_config`.
public struct ScrapeSpec: Sendable, Hashable {
    public var jobName: String
    public var interval: Duration
    /// At most `interval`.
    public var timeout: Duration
    public var metricsPath: String
    /// `http` or `https`.
    public var scheme: String
    public var params: [String: [String]]
    public var honorLabels: Bool
    public var honorTimestamps: Bool
    public var staticConfigs: [TargetGroupSpec]
    public var fileSD: [FileSDSpec]
    public var kubernetesSD: [KubernetesSDSpec]
    public var relabelConfigs: [RelabelRule]
    public var metricRelabelConfigs: [RelabelRule]
    /// Largest accepted body; a larger one fails the scrape (`up` 0).
    public var bodySizeLimit: Int
    /// Most samples per scrape after metric relabeling; 0: no limit. Over it, the scrape fails.
    public var sampleLimit: Int

    public init(
        jobName: String, interval: Duration = .seconds(15), timeout: Duration = .seconds(10),
        metricsPath: String = "/metrics", scheme: String = "http", params: [String: [String]] = [:],
        honorLabels: Bool = false, honorTimestamps: Bool = true, staticConfigs: [TargetGroupSpec] = [],
        fileSD: [FileSDSpec] = [], kubernetesSD: [KubernetesSDSpec] = [], relabelConfigs: [RelabelRule] = [],
        metricRelabelConfigs: [RelabelRule] = [], bodySizeLimit: Int = 64 << 20, sampleLimit: Int = 0
    ) {
        self.jobName = jobName
        self.interval = interval
        self.timeout = timeout
        self.metricsPath = metricsPath
        self.scheme = scheme
        self.params = params
        self.honorLabels = honorLabels
        self.honorTimestamps = honorTimestamps
        self.staticConfigs = staticConfigs
        self.fileSD = fileSD
        self.kubernetesSD = kubernetesSD
        self.relabelConfigs = relabelConfigs
        self.metricRelabelConfigs = metricRelabelConfigs
        self.bodySizeLimit = bodySizeLimit
        self.sampleLimit = sampleLimit
    }
}

/// Host and container metrics from `/proc`, `/sys` and cgroup v2 (`type: host`).
public struct HostSpec: Sendable, Hashable {
    /// The groups of metrics read.
    public enum Group: String, Sendable, Hashable, CaseIterable {
        case cpu, memory, load, disk, filesystem, network, cgroup
    }

    public var interval: Duration
    public var procPath: String
    public var sysPath: String
    public var cgroupPath: String
    /// The mount table read for filesystems (`<proc>/self/mounts` by default).
    public var groups: [Group]
    /// Filesystem types that are not reported.
    public var excludedFilesystemTypes: [String]
    /// Labels added to every series (e.g. `instance`).
    public var labels: [String: String]

    public init(
        interval: Duration = .seconds(15), procPath: String = "/proc", sysPath: String = "/sys",
        cgroupPath: String = "/sys/fs/cgroup", groups: [Group] = Group.allCases,
        excludedFilesystemTypes: [String] = HostSpec.defaultExcludedFilesystemTypes, labels: [String: String] = [:]
    ) {
        self.interval = interval
        self.procPath = procPath
        self.sysPath = sysPath
        self.cgroupPath = cgroupPath
        self.groups = groups
        self.excludedFilesystemTypes = excludedFilesystemTypes
        self.labels = labels
    }

    /// Pseudo filesystems node-exporter also skips by default.
    public static let defaultExcludedFilesystemTypes = [
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs", "fusectl",
        "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay", "proc", "procfs", "pstore", "rpc_pipefs", "securityfs",
        "selinuxfs", "squashfs", "sysfs", "tracefs",
    ]
}

/// Blackbox and Smokeping style probes (`type: probe`).
public struct ProbeSpec: Sendable, Hashable {
    public var interval: Duration
    public var timeout: Duration
    /// Probes per round for the repeated-latency series (min, median, max, loss).
    public var pings: Int
    public var targets: [ProbeTargetSpec]

    public init(interval: Duration = .seconds(30), timeout: Duration = .seconds(5), pings: Int = 5, targets: [ProbeTargetSpec]) {
        self.interval = interval
        self.timeout = timeout
        self.pings = pings
        self.targets = targets
    }
}

/// One probed target.
public struct ProbeTargetSpec: Sendable, Hashable {
    public enum Module: String, Sendable, Hashable, CaseIterable { case http, tcp, dns, icmp }

    public var module: Module
    /// A URL (http), `host:port` (tcp), a name to resolve (dns) or a host (icmp).
    public var target: String
    /// http: accepted status codes; empty means 2xx.
    public var validStatusCodes: [Int]
    /// http: the body must match this (unanchored) regex.
    public var bodyRegex: String?
    /// http: the method.
    public var method: String
    /// Labels added to the probe's series.
    public var labels: [String: String]
    /// https: accept any certificate (the expiry is still reported).
    public var insecureSkipVerify: Bool

    public init(
        module: Module, target: String, validStatusCodes: [Int] = [], bodyRegex: String? = nil, method: String = "GET",
        labels: [String: String] = [:], insecureSkipVerify: Bool = false
    ) {
        self.insecureSkipVerify = insecureSkipVerify
        self.module = module
        self.target = target
        self.validStatusCodes = validStatusCodes
        self.bodyRegex = bodyRegex
        self.method = method
        self.labels = labels
    }
}
