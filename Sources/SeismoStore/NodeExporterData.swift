import Foundation
import SeismoCore

/// Deterministic node-exporter-like data for storage benchmarks, scraped every 15 s with a
/// per-host offset, 0-3 ms of jitter and one scrape in 64 late by 5-20 ms, stamped as
/// Prometheus (and Seismo's scraper) stamp scrapes: a scrape within 2 ms of the previous one
/// plus the interval gets exactly that time (about 3 scrapes in 4 here). Per host 507 series, the count and mix of Debian's
/// node-exporter 1.5 on a small VM (where 381 of 507 series kept their value between two
/// scrapes 15 s apart):
/// - 110 busy series: CPU-seconds counters with 0.01 s resolution, memory and filesystem
///   gauges in 4 KiB pages, network and disk byte/packet counters, load averages, process
///   counts, `node_time_seconds`, the scrape duration;
/// - 46 `node_scrape_collector_duration_seconds` (random nanoseconds) and 46
///   `node_scrape_collector_success`;
/// - 20 Go runtime gauges and counters of the exporter (`go_memstats_*`), changing every scrape;
/// - 285 series that keep their value: info metrics, interface, filesystem, conntrack, timex
///   and pressure gauges, counters that stay at zero.
///
/// So 150 of the 507 change at every scrape or most scrapes: more than the real exporter.
public struct NodeExporterData: Sendable {
    public let hosts: Int
    public let scrapes: Int
    /// The first scrape's nominal time, milliseconds since the epoch (a UTC midnight).
    public let start: Int64
    public let interval: Int64 = 15_000
    /// Every series' labels, host-major.
    public let labels: [Labels]
    /// Values, scrape-major: `values[scrape * labels.count + series]`.
    public let values: [Double]
    /// Scrape times, host-major: `times[host * scrapes + scrape]`.
    let times: [Int64]

    public static let seriesPerHost = 507

    /// node-exporter's collectors (one duration and one success series each).
    static let collectors = [
        "arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats", "dmi", "edac", "entropy",
        "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband", "ipvs", "loadavg", "mdadm", "meminfo", "netclass",
        "netdev", "netstat", "nfs", "nfsd", "nvme", "os", "powersupplyclass", "pressure", "rapl", "schedstat", "selinux",
        "sockstat", "softnet", "stat", "systemd", "tapestats", "textfile", "thermal_zone", "time", "timex", "udp_queues",
        "uname", "vmstat", "xfs", "zfs",
    ]

    /// Per-interface series that keep their value (interface attributes, counters at zero).
    static let steadyInterfaceSeries = [
        "node_network_up", "node_network_transmit_queue_length", "node_network_protocol_type", "node_network_net_dev_group",
        "node_network_mtu_bytes", "node_network_iface_link_mode", "node_network_iface_link", "node_network_iface_id",
        "node_network_flags", "node_network_device_id", "node_network_carrier_up_changes_total",
        "node_network_carrier_down_changes_total", "node_network_carrier_changes_total", "node_network_address_assign_type",
        "node_network_transmit_fifo_total", "node_network_transmit_errs_total", "node_network_transmit_compressed_total",
        "node_network_transmit_colls_total", "node_network_transmit_carrier_total", "node_network_receive_nohandler_total",
        "node_network_receive_multicast_total", "node_network_receive_frame_total", "node_network_receive_fifo_total",
        "node_network_receive_drop_total", "node_network_receive_compressed_total", "node_network_dormant",
        "node_network_carrier", "node_network_speed_bytes", "node_network_name_assign_type",
    ]

    /// Host-wide series that keep their value.
    static let steadyHostSeries = [
        "node_timex_tick_seconds", "node_timex_tai_offset_seconds", "node_timex_sync_status", "node_timex_status",
        "node_timex_pps_stability_hertz", "node_timex_pps_stability_exceeded_total", "node_timex_pps_shift_seconds",
        "node_timex_pps_jitter_total", "node_timex_pps_jitter_seconds", "node_timex_pps_frequency_hertz",
        "node_timex_pps_error_total", "node_timex_pps_calibration_total", "node_timex_loop_time_constant",
        "node_time_zone_offset_seconds", "node_textfile_scrape_error", "node_selinux_enabled", "node_os_version",
        "node_nf_conntrack_stat_search_restart", "node_nf_conntrack_stat_invalid", "node_nf_conntrack_stat_insert_failed",
        "node_nf_conntrack_stat_insert", "node_nf_conntrack_stat_ignore", "node_nf_conntrack_stat_found",
        "node_nf_conntrack_stat_early_drop", "node_nf_conntrack_stat_drop", "node_nf_conntrack_entries_limit",
        "node_filefd_maximum", "node_entropy_pool_size_bits", "node_vmstat_pswpout", "node_vmstat_pswpin",
        "node_vmstat_oom_kill", "process_max_fds", "process_virtual_memory_max_bytes", "process_start_time_seconds",
        "go_memstats_mcache_sys_bytes", "go_memstats_mcache_inuse_bytes", "go_memstats_lookups_total",
        "node_pressure_memory_waiting_seconds_total", "node_pressure_memory_stalled_seconds_total",
    ]

    /// The exporter's Go runtime series that change at every scrape.
    static let goRuntimeSeries = [
        "go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_buck_hash_sys_bytes",
        "go_memstats_frees_total", "go_memstats_gc_sys_bytes", "go_memstats_heap_alloc_bytes", "go_memstats_heap_idle_bytes",
        "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects", "go_memstats_heap_released_bytes",
        "go_memstats_heap_sys_bytes", "go_memstats_mallocs_total", "go_memstats_mspan_inuse_bytes",
        "go_memstats_mspan_sys_bytes", "go_memstats_other_sys_bytes", "go_memstats_stack_inuse_bytes",
        "go_memstats_stack_sys_bytes", "go_memstats_sys_bytes", "go_goroutines", "go_threads",
    ]

    public init(hosts: Int, hours: Double, start: Int64 = 1_700_006_400_000) {
        self.hosts = hosts
        self.scrapes = max(2, Int(hours * 3_600_000 / 15_000))
        self.start = start
        var labels: [Labels] = []
        var kinds: [Kind] = []
        for host in 0..<hosts {
            let instance = "host-\(host):9100"
            func add(_ name: String, _ extra: [(String, String)] = [], _ kind: Kind) {
                let pairs = [Label("__name__", name), Label("instance", instance), Label("job", "node")]
                    + extra.map { Label($0.0, $0.1) }
                labels.append(Labels(uncheckedSorted: pairs.sorted()))
                kinds.append(kind)
            }
            let modes: [(String, Double)] = [
                ("idle", 0.78), ("user", 0.12), ("system", 0.05), ("iowait", 0.02), ("irq", 0), ("softirq", 0.01),
                ("steal", 0), ("nice", 0.001),
            ]
            for cpu in 0..<4 {
                for (mode, share) in modes { add("node_cpu_seconds_total", [("cpu", "\(cpu)"), ("mode", mode)], .cpu(share)) }
            }
            let memory = [
                "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive",
                "Active_anon", "Inactive_anon", "Active_file", "Inactive_file", "Dirty", "Writeback", "AnonPages",
                "Mapped", "Shmem", "Slab", "SwapTotal", "SwapFree",
            ]
            for (index, name) in memory.enumerated() {
                add("node_memory_\(name)_bytes", [], index % 5 == 0 ? .constant(Double(16 << 30)) : .pages(Double(index + 1) * 3e8))
            }
            for device in ["eth0", "eth1", "lo"] {
                add("node_network_receive_bytes_total", [("device", device)], .counter(200_000))
                add("node_network_transmit_bytes_total", [("device", device)], .counter(80_000))
                add("node_network_receive_packets_total", [("device", device)], .counter(250))
                add("node_network_transmit_packets_total", [("device", device)], .counter(120))
                add("node_network_receive_errs_total", [("device", device)], .constant(0))
                add("node_network_transmit_drop_total", [("device", device)], .rare)
            }
            for device in ["sda", "sdb"] {
                add("node_disk_read_bytes_total", [("device", device)], .counter(400_000))
                add("node_disk_written_bytes_total", [("device", device)], .counter(900_000))
                add("node_disk_reads_completed_total", [("device", device)], .counter(40))
                add("node_disk_writes_completed_total", [("device", device)], .counter(90))
                add("node_disk_io_time_seconds_total", [("device", device)], .seconds(0.3))
                add("node_disk_read_time_seconds_total", [("device", device)], .seconds(0.05))
            }
            for mount in ["/", "/var", "/home"] {
                add("node_filesystem_avail_bytes", [("mountpoint", mount)], .pages(5e10))
                add("node_filesystem_free_bytes", [("mountpoint", mount)], .pages(6e10))
                add("node_filesystem_size_bytes", [("mountpoint", mount)], .constant(1e11))
                add("node_filesystem_files_free", [("mountpoint", mount)], .walk(5e6))
                add("node_filesystem_files", [("mountpoint", mount)], .constant(6_553_600))
                add("node_filesystem_readonly", [("mountpoint", mount)], .constant(0))
            }
            add("node_load1", [], .load)
            add("node_load5", [], .load)
            add("node_load15", [], .load)
            add("node_procs_running", [], .small)
            add("node_procs_blocked", [], .small)
            add("node_context_switches_total", [], .counter(30_000))
            add("node_intr_total", [], .counter(20_000))
            add("node_forks_total", [], .counter(40))
            add("node_boot_time_seconds", [], .constant(1_699_000_000))
            add("node_time_seconds", [], .time)
            add("scrape_duration_seconds", [], .duration)
            add("up", [], .constant(1))
            add("scrape_samples_scraped", [], .constant(Double(Self.seriesPerHost)))
            for collector in Self.collectors {
                add("node_scrape_collector_duration_seconds", [("collector", collector)], .collectorDuration)
                add("node_scrape_collector_success", [("collector", collector)], .constant(1))
            }
            for name in Self.goRuntimeSeries { add(name, [], .counter(50_000)) }
            for (index, name) in Self.steadyInterfaceSeries.enumerated() {
                for device in ["eth0", "eth1", "lo", "docker0", "veth1", "veth2", "veth3", "veth4"] {
                    add(name, [("device", device)], .constant(Double(index % 4 == 0 ? 1500 : index % 3)))
                }
            }
            for (index, name) in Self.steadyHostSeries.enumerated() { add(name, [], .constant(Double(index * 1_000))) }
            add("node_uname_info", [("machine", "x86_64"), ("nodename", "host-\(host)"), ("release", "6.1.0-27-amd64")], .constant(1))
            add("node_exporter_build_info", [("goversion", "go1.19.8"), ("version", "1.5.0")], .constant(1))
            add("node_os_info", [("id", "debian"), ("version_id", "12")], .constant(1))
            add("go_info", [("version", "go1.19.8")], .constant(1))
            add("node_time_clocksource_current_info", [("clocksource", "kvm-clock")], .constant(1))
            add("node_time_clocksource_available_info", [("clocksource", "kvm-clock")], .constant(1))
            add("node_time_clocksource_available_info", [("clocksource", "tsc")], .constant(1))
            add("node_disk_info", [("device", "sda"), ("major", "8")], .constant(1))
            add("node_disk_info", [("device", "sdb"), ("major", "8")], .constant(1))
            add("node_selinux_config_mode", [], .constant(0))
            add("node_sockstat_FRAG_inuse", [], .constant(0))
        }
        precondition(labels.count == hosts * Self.seriesPerHost, "NodeExporterData.seriesPerHost")
        self.labels = labels
        let count = labels.count
        var values = [Double](repeating: 0, count: count * scrapes)
        var random = Generator(seed: 42)
        var state = kinds.map { _ in 1_000.0 }
        for (series, kind) in kinds.enumerated() {
            state[series] = kind.initial(&random)
        }
        for scrape in 0..<scrapes {
            for series in 0..<count {
                let host = series / Self.seriesPerHost
                let t = Double(start + Int64(scrape) * interval + Self.offset(host: host)) / 1000
                state[series] = kinds[series].next(state[series], t: t, &random)
                values[scrape * count + series] = state[series]
            }
        }
        self.values = values
        var times: [Int64] = []
        times.reserveCapacity(hosts * scrapes)
        for host in 0..<hosts {
            var last: Int64?
            for scrape in 0..<scrapes {
                let hash = UInt64(scrape &* 7_919 &+ host &* 104_729) &* 0x9E37_79B9_7F4A_7C15
                let jitter = Int64(hash >> 62) + ((hash >> 50) & 63 == 0 ? 5 + Int64((hash >> 40) & 15) : 0)
                let started = start + Int64(scrape) * 15_000 + Self.offset(host: host) + jitter
                var time = started
                if let last, abs(started - (last + 15_000)) <= 2 { time = last + 15_000 }
                times.append(time)
                last = time
            }
        }
        self.times = times
    }

    public var sampleCount: Int { labels.count * scrapes }

    /// The timestamp of scrape `scrape` of the host of `series`.
    public func timestamp(scrape: Int, series: Int) -> Int64 { times[(series / Self.seriesPerHost) * scrapes + scrape] }

    static func offset(host: Int) -> Int64 { Int64((host * 7_717) % 15_000) }

    /// Writes the data as OpenMetrics text (scrape by scrape, `# EOF` last) for
    /// `promtool tsdb create-blocks-from openmetrics`.
    public func writeOpenMetrics(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path)
        else { throw StoreError(.io, "cannot create \(path)") }
        defer { try? file.close() }
        let names = labels.map { labels -> String in
            let name = labels.name ?? ""
            let rest = labels.pairs.filter { $0.name != "__name__" }.map { "\($0.name)=\"\($0.value)\"" }
            return "\(name){\(rest.joined(separator: ","))} "
        }
        var buffer = ""
        buffer.reserveCapacity(1 << 22)
        for scrape in 0..<scrapes {
            for series in labels.indices {
                let t = timestamp(scrape: scrape, series: series)
                buffer += names[series]
                buffer += "\(values[scrape * labels.count + series]) \(t / 1000).\(String(format: "%03d", Int(t % 1000)))\n"
            }
            if buffer.utf8.count > 1 << 22 {
                try file.write(contentsOf: Data(buffer.utf8))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        buffer += "# EOF\n"
        try file.write(contentsOf: Data(buffer.utf8))
    }

    enum Kind {
        case cpu(Double), constant(Double), pages(Double), counter(Double), rare, seconds(Double), walk(Double)
        case load, small, time, duration, collectorDuration

        func initial(_ random: inout Generator) -> Double {
            switch self {
            case .cpu: (random.unit() * 1e6).rounded() / 100
            case .constant(let value): value
            case .pages(let size): (size * (0.5 + random.unit()) / 4096).rounded() * 4096
            case .counter(let rate): (rate * 1e4 * random.unit()).rounded()
            case .rare: 0
            case .seconds: (random.unit() * 1e7).rounded() / 1000
            case .walk(let size): (size * (0.5 + random.unit())).rounded()
            case .load: 1.5
            case .small: 2
            case .time, .duration, .collectorDuration: 0
            }
        }

        func next(_ value: Double, t: Double, _ random: inout Generator) -> Double {
            switch self {
            case .cpu(let share):
                return share == 0 ? value : ((value + 15 * share * (0.8 + 0.4 * random.unit())) * 100).rounded() / 100
            case .constant: return value
            case .pages(let size):
                let step = random.unit() < 0.3 ? 0 : ((random.unit() - 0.5) * size * 1e-4 / 4096).rounded() * 4096
                return max(4096, value + step)
            case .counter(let rate): return value + (rate * 15 * (0.5 + random.unit())).rounded()
            case .rare: return random.unit() < 0.002 ? value + 1 : value
            case .seconds(let share): return ((value + 15 * share * random.unit()) * 1000).rounded() / 1000
            case .walk: return random.unit() < 0.2 ? value + ((random.unit() - 0.5) * 200).rounded() : value
            case .load: return max(0, ((value + (random.unit() - 0.5) * 0.2) * 100).rounded() / 100)
            case .small: return (random.unit() * 6).rounded()
            case .time: return t + random.unit() * 0.001
            // Durations are whole nanoseconds in seconds, as Go's `Duration.Seconds()` makes them.
            case .duration: return (1e7 + random.unit() * 2e7).rounded() / 1e9
            case .collectorDuration: return (1e4 + random.unit() * random.unit() * 1e7).rounded() / 1e9
            }
        }
    }

    /// SplitMix64: deterministic, for generated data and property tests.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }
}
