/// Pure parsers of `/proc`, `/sys` and cgroup v2 files, producing series named as
/// node-exporter and cAdvisor name them. Each takes the file's text and returns
/// `(name, labels, value)` triples; lines it cannot read are skipped.
public enum HostParsers {
    /// One host series before it is stamped: its metric name, labels and value.
    public struct Point: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double

        public init(_ name: String, _ labels: [String: String], _ value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }

        /// A series without labels.
        public init(_ name: String, _ value: Double) { self.init(name, [:], value) }
    }

    /// Kernel clock ticks per second (`USER_HZ`), 100 on every Linux architecture we run on.
    public static let userHZ = 100.0

    static func fields(_ line: Substring) -> [Substring] { line.split(whereSeparator: { $0 == " " || $0 == "\t" }) }

    // MARK: /proc/stat

    /// `/proc/stat`: `node_cpu_seconds_total{cpu,mode}`, `node_context_switches_total`,
    /// `node_boot_time_seconds`, `node_forks_total`, `node_intr_total`, `node_procs_running`,
    /// `node_procs_blocked`.
    public static func stat(_ text: String) -> [Point] {
        let modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            let f = fields(line)
            guard let key = f.first else { continue }
            if key.hasPrefix("cpu"), key != "cpu" {
                let cpu = String(key.dropFirst(3))
                for (index, mode) in modes.enumerated() where index + 1 < f.count {
                    if let ticks = Double(f[index + 1]) {
                        out.append(Point("node_cpu_seconds_total", ["cpu": cpu, "mode": mode], ticks / userHZ))
                    }
                }
                // guest and guest_nice are also counted in user and nice, as node-exporter reports.
                for (index, mode) in ["user", "nice"].enumerated() where index + 9 < f.count {
                    if let ticks = Double(f[index + 9]) {
                        out.append(Point("node_cpu_guest_seconds_total", ["cpu": cpu, "mode": mode], ticks / userHZ))
                    }
                }
                continue
            }
            guard f.count >= 2, let value = Double(f[1]) else { continue }
            switch key {
            case "ctxt": out.append(Point("node_context_switches_total", value))
            case "btime": out.append(Point("node_boot_time_seconds", value))
            case "processes": out.append(Point("node_forks_total", value))
            case "intr": out.append(Point("node_intr_total", value))
            case "procs_running": out.append(Point("node_procs_running", value))
            case "procs_blocked": out.append(Point("node_procs_blocked", value))
            default: break
            }
        }
        return out
    }

    // MARK: /proc/meminfo

    /// `/proc/meminfo`: `node_memory_<Key>_bytes` (kB × 1024), or `node_memory_<Key>` for
    /// counts; `Active(anon)` becomes `Active_anon`.
    public static func meminfo(_ text: String) -> [Point] {
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].replacing("(", with: "_").replacing(")", with: "")
            let f = fields(line[line.index(after: colon)...])
            guard let first = f.first, let value = Double(first) else { continue }
            if f.count >= 2, f[1] == "kB" {
                out.append(Point("node_memory_\(key)_bytes", value * 1024))
            } else {
                out.append(Point("node_memory_\(key)", value))
            }
        }
        return out
    }

    // MARK: /proc/loadavg

    /// `/proc/loadavg`: `node_load1`, `node_load5`, `node_load15`.
    public static func loadavg(_ text: String) -> [Point] {
        let f = fields(text[...])
        return zip(["node_load1", "node_load5", "node_load15"], f).compactMap { name, field in
            Double(field).map { Point(name, $0) }
        }
    }

    // MARK: /proc/diskstats

    /// Partitions and virtual devices node-exporter skips by default.
    public static func isIgnoredDisk(_ device: String) -> Bool {
        (try? ignoredDisk.wholeMatch(in: device)) != nil
    }

    nonisolated(unsafe) private static let ignoredDisk = try! Regex("(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+")

    /// `/proc/diskstats`: `node_disk_*` per device (sectors are 512 bytes, times in ms).
    public static func diskstats(_ text: String) -> [Point] {
        // Field index (after major, minor, name) → (metric, scale); 0.001 is ms → s (divided, to stay exact).
        let columns: [(Int, String, Double)] = [
            (0, "node_disk_reads_completed_total", 1), (1, "node_disk_reads_merged_total", 1),
            (2, "node_disk_read_bytes_total", 512), (3, "node_disk_read_time_seconds_total", 0.001),
            (4, "node_disk_writes_completed_total", 1), (5, "node_disk_writes_merged_total", 1),
            (6, "node_disk_written_bytes_total", 512), (7, "node_disk_write_time_seconds_total", 0.001),
            (8, "node_disk_io_now", 1), (9, "node_disk_io_time_seconds_total", 0.001),
            (10, "node_disk_io_time_weighted_seconds_total", 0.001), (11, "node_disk_discards_completed_total", 1),
            (12, "node_disk_discards_merged_total", 1), (13, "node_disk_discarded_sectors_total", 1),
            (14, "node_disk_discard_time_seconds_total", 0.001), (15, "node_disk_flush_requests_total", 1),
            (16, "node_disk_flush_requests_time_seconds_total", 0.001),
        ]
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            let f = fields(line)
            guard f.count >= 14 else { continue }
            let device = String(f[2])
            if isIgnoredDisk(device) { continue }
            for (index, name, scale) in columns where index + 3 < f.count {
                if let value = Double(f[index + 3]) {
                    out.append(Point(name, ["device": device], scale == 0.001 ? value / 1000 : value * scale))
                }
            }
        }
        return out
    }

    // MARK: /proc/net/dev

    /// `/proc/net/dev`: `node_network_{receive,transmit}_*_total{device}`.
    public static func netdev(_ text: String) -> [Point] {
        let receive = ["bytes", "packets", "errs", "drop", "fifo", "frame", "compressed", "multicast"]
        let transmit = ["bytes", "packets", "errs", "drop", "fifo", "colls", "carrier", "compressed"]
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let device = line[..<colon].trimmingSpaces
            let f = fields(line[line.index(after: colon)...])
            guard f.count >= 16, !device.isEmpty else { continue }
            for (index, name) in receive.enumerated() {
                if let value = Double(f[index]) { out.append(Point("node_network_receive_\(name)_total", ["device": device], value)) }
            }
            for (index, name) in transmit.enumerated() {
                if let value = Double(f[index + 8]) {
                    out.append(Point("node_network_transmit_\(name)_total", ["device": device], value))
                }
            }
        }
        return out
    }

    // MARK: mounts

    /// One line of `/proc/<pid>/mounts`.
    public struct Mount: Sendable, Hashable {
        public var device: String
        public var mountPoint: String
        public var type: String
        public var readOnly: Bool
    }

    /// `/proc/self/mounts`, with the octal escapes (`\040` for a space) resolved.
    public static func mounts(_ text: String) -> [Mount] {
        text.split(separator: "\n").compactMap { line in
            let f = fields(line)
            guard f.count >= 4 else { return nil }
            let options = f[3].split(separator: ",")
            return Mount(
                device: unescapeOctal(f[0]), mountPoint: unescapeOctal(f[1]), type: String(f[2]),
                readOnly: options.contains("ro"))
        }
    }

    static func unescapeOctal(_ text: Substring) -> String {
        guard text.contains("\\") else { return String(text) }
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var i = 0
        while i < utf8.count {
            if utf8[i] == 0x5C, i + 3 < utf8.count,
                let code = UInt8(String(decoding: utf8[(i + 1)...(i + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(code)
                i += 4
            } else {
                bytes.append(utf8[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Mount points node-exporter skips by default (`/dev`, `/proc`, `/sys`, container storage).
    public static func isIgnoredMountPoint(_ path: String) -> Bool {
        (try? ignoredMountPoint.wholeMatch(in: path)) != nil
    }

    nonisolated(unsafe) private static let ignoredMountPoint = try! Regex(
        "/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/).*")

    /// `statvfs` figures of one filesystem.
    public struct FilesystemStats: Sendable, Hashable {
        public var blockSize: Double
        public var blocks: Double
        public var blocksFree: Double
        public var blocksAvailable: Double
        public var files: Double
        public var filesFree: Double

        public init(blockSize: Double, blocks: Double, blocksFree: Double, blocksAvailable: Double, files: Double, filesFree: Double) {
            self.blockSize = blockSize
            self.blocks = blocks
            self.blocksFree = blocksFree
            self.blocksAvailable = blocksAvailable
            self.files = files
            self.filesFree = filesFree
        }
    }

    /// `node_filesystem_{size,free,avail}_bytes`, `_files`, `_files_free`, `_readonly`.
    public static func filesystem(_ mount: Mount, _ stats: FilesystemStats) -> [Point] {
        let labels = ["device": mount.device, "fstype": mount.type, "mountpoint": mount.mountPoint]
        return [
            Point("node_filesystem_size_bytes", labels, stats.blocks * stats.blockSize),
            Point("node_filesystem_free_bytes", labels, stats.blocksFree * stats.blockSize),
            Point("node_filesystem_avail_bytes", labels, stats.blocksAvailable * stats.blockSize),
            Point("node_filesystem_files", labels, stats.files),
            Point("node_filesystem_files_free", labels, stats.filesFree),
            Point("node_filesystem_readonly", labels, mount.readOnly ? 1 : 0),
        ]
    }

    // MARK: cgroup v2

    /// What a cgroup path says about its container: cAdvisor's `id`, and where the path
    /// follows the kubelet / container runtime conventions, `pod_uid`, `container_id`
    /// and the systemd `service`.
    public static func cgroupLabels(_ path: String) -> [String: String] {
        var labels = ["id": path.isEmpty ? "/" : path]
        for component in path.split(separator: "/") {
            var name = Substring(component)
            for suffix in [".slice", ".scope"] where name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
            // kubepods-burstable-pod1234_5678.slice, or kubepods/burstable/pod1234-5678 (cgroupfs driver).
            var uid: Substring?
            if name.hasPrefix("pod") {
                uid = name.dropFirst(3)
            } else if name.hasPrefix("kubepods"), let range = name.ranges(of: "-pod").last {
                uid = name[range.upperBound...]
            }
            if let uid, uid.count >= 32 { labels["pod_uid"] = String(uid.replacing("_", with: "-")) }
            // cri-containerd-<id>, docker-<id>, crio-<id>, or a bare 64-hex id.
            let hexDigits = name.suffix(64)
            if hexDigits.count == 64, hexDigits.allSatisfy(\.isHexDigit) {
                labels["container_id"] = String(hexDigits)
            }
            if component.hasSuffix(".service") { labels["service"] = String(component.dropLast(".service".count)) }
        }
        return labels
    }

    /// `cpu.stat`: `container_cpu_usage_seconds_total`, `_user_`, `_system_`, and throttling.
    public static func cgroupCPU(_ text: String, labels: [String: String]) -> [Point] {
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            let f = fields(line)
            guard f.count == 2, let value = Double(f[1]) else { continue }
            switch f[0] {
            case "usage_usec": out.append(Point("container_cpu_usage_seconds_total", labels, value / 1e6))
            case "user_usec": out.append(Point("container_cpu_user_seconds_total", labels, value / 1e6))
            case "system_usec": out.append(Point("container_cpu_system_seconds_total", labels, value / 1e6))
            case "nr_periods": out.append(Point("container_cpu_cfs_periods_total", labels, value))
            case "nr_throttled": out.append(Point("container_cpu_cfs_throttled_periods_total", labels, value))
            case "throttled_usec": out.append(Point("container_cpu_cfs_throttled_seconds_total", labels, value / 1e6))
            default: break
            }
        }
        return out
    }

    /// `memory.current` and `memory.stat`: usage, working set (usage − inactive_file), RSS
    /// (anon), cache (file), swap.
    public static func cgroupMemory(current: String?, stat: String?, swap: String?, labels: [String: String]) -> [Point] {
        var out: [Point] = []
        var stats: [Substring: Double] = [:]
        for line in (stat ?? "").split(separator: "\n") {
            let f = fields(line)
            if f.count == 2, let value = Double(f[1]) { stats[f[0]] = value }
        }
        if let usage = current.flatMap({ Double($0.trimmingSpaces) }) {
            out.append(Point("container_memory_usage_bytes", labels, usage))
            let inactive = stats["inactive_file"] ?? 0
            out.append(Point("container_memory_working_set_bytes", labels, max(0, usage - inactive)))
        }
        if let anon = stats["anon"] { out.append(Point("container_memory_rss", labels, anon)) }
        if let file = stats["file"] { out.append(Point("container_memory_cache", labels, file)) }
        if let mapped = stats["file_mapped"] { out.append(Point("container_memory_mapped_file", labels, mapped)) }
        if let swapped = swap.flatMap({ Double($0.trimmingSpaces) }) {
            out.append(Point("container_memory_swap", labels, swapped))
        }
        return out
    }

    /// `io.stat` (`MAJ:MIN rbytes=… wbytes=… rios=… wios=…`): `container_fs_*_total{device}`.
    public static func cgroupIO(_ text: String, labels: [String: String]) -> [Point] {
        let names = [
            "rbytes": "container_fs_reads_bytes_total", "wbytes": "container_fs_writes_bytes_total",
            "rios": "container_fs_reads_total", "wios": "container_fs_writes_total",
        ]
        var out: [Point] = []
        for line in text.split(separator: "\n") {
            let f = fields(line)
            guard let device = f.first else { continue }
            var deviceLabels = labels
            deviceLabels["device"] = String(device)
            for field in f.dropFirst() {
                let kv = field.split(separator: "=", maxSplits: 1)
                guard kv.count == 2, let name = names[String(kv[0])], let value = Double(kv[1]) else { continue }
                out.append(Point(name, deviceLabels, value))
            }
        }
        return out
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\n" || $0 == "\t" }).reversed())
    }
}
