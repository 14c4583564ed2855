import Foundation
import Logging
import SeismoCore
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

@Suite("HostParsers")
struct HostParsersTests {
    typealias Point = HostParsers.Point

    static func find(_ points: [Point], _ name: String, _ labels: [String: String] = [:]) -> Double? {
        points.first { point in point.name == name && labels.allSatisfy { key, value in point.labels[key] == value } }?.value
    }

    @Test("/proc/stat: per-CPU seconds by mode (ticks / 100), guest, context switches, boot time, procs")
    func stat() {
        let text = """
            cpu  1000 20 300 40000 50 6 7 8 90 10
            cpu0 500 10 150 20000 25 3 4 5 45 5
            cpu1 500 10 150 20000 25 3 3 3 45 5
            intr 123456 1 2 3
            ctxt 987654
            btime 1764500000
            processes 4242
            procs_running 3
            procs_blocked 1
            """
        let points = HostParsers.stat(text)
        #expect(Self.find(points, "node_cpu_seconds_total", ["cpu": "0", "mode": "user"]) == 5)
        #expect(Self.find(points, "node_cpu_seconds_total", ["cpu": "1", "mode": "idle"]) == 200)
        #expect(Self.find(points, "node_cpu_seconds_total", ["cpu": "1", "mode": "steal"]) == 0.03)
        #expect(Self.find(points, "node_cpu_guest_seconds_total", ["cpu": "0", "mode": "nice"]) == 0.05)
        #expect(points.filter { $0.name == "node_cpu_seconds_total" }.count == 16)  // the total line is not a CPU
        #expect(Self.find(points, "node_context_switches_total") == 987_654)
        #expect(Self.find(points, "node_boot_time_seconds") == 1_764_500_000)
        #expect(Self.find(points, "node_forks_total") == 4242)
        #expect(Self.find(points, "node_intr_total") == 123_456)
        #expect(Self.find(points, "node_procs_running") == 3)
        #expect(Self.find(points, "node_procs_blocked") == 1)
    }

    @Test("/proc/meminfo: kB become bytes; parentheses become underscores; counts stay counts")
    func meminfo() {
        let text = """
            MemTotal:       16303412 kB
            MemAvailable:    9876543 kB
            Active(anon):     123456 kB
            HugePages_Total:       0
            garbage line
            """
        let points = HostParsers.meminfo(text)
        #expect(Self.find(points, "node_memory_MemTotal_bytes") == Double(16_303_412 * 1024))
        #expect(Self.find(points, "node_memory_MemAvailable_bytes") == Double(9_876_543 * 1024))
        #expect(Self.find(points, "node_memory_Active_anon_bytes") == Double(123_456 * 1024))
        #expect(Self.find(points, "node_memory_HugePages_Total") == 0)
        #expect(points.count == 4)
    }

    @Test("/proc/loadavg: node_load1, 5 and 15")
    func loadavg() {
        let points = HostParsers.loadavg("0.52 0.58 0.59 2/1234 56789\n")
        #expect(points == [Point("node_load1", 0.52), Point("node_load5", 0.58), Point("node_load15", 0.59)])
    }

    @Test("/proc/diskstats: bytes from 512-byte sectors, seconds from ms; partitions and loops skipped")
    func diskstats() {
        let text = """
             259       0 nvme0n1 1000 10 20000 300 2000 20 40000 600 0 700 900 5 0 80 2 30 4
             259       1 nvme0n1p1 10 0 200 3 20 0 400 6 0 7 9 0 0 0 0 0 0
               7       0 loop0 5 0 10 1 0 0 0 0 0 1 1 0 0 0 0
               8       0 sda 1 2 3 4 5 6 7 8 9 10 11
            """
        let points = HostParsers.diskstats(text)
        #expect(Set(points.map { $0.labels["device"]! }) == ["nvme0n1", "sda"])
        #expect(Self.find(points, "node_disk_reads_completed_total", ["device": "nvme0n1"]) == 1000)
        #expect(Self.find(points, "node_disk_read_bytes_total", ["device": "nvme0n1"]) == Double(20000 * 512))
        #expect(Self.find(points, "node_disk_written_bytes_total", ["device": "nvme0n1"]) == Double(40000 * 512))
        #expect(Self.find(points, "node_disk_read_time_seconds_total", ["device": "nvme0n1"]) == 0.3)
        #expect(Self.find(points, "node_disk_io_time_seconds_total", ["device": "nvme0n1"]) == 0.7)
        #expect(Self.find(points, "node_disk_flush_requests_total", ["device": "nvme0n1"]) == 30)
        #expect(HostParsers.isIgnoredDisk("sda1") && !HostParsers.isIgnoredDisk("sda"))
    }

    @Test("/proc/net/dev: receive and transmit counters per device")
    func netdev() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 1234567    8901    0    0    0     0          0         0  1234567    8901    0    0    0     0       0          0
              eth0: 98765 43 1 2 0 0 0 7 5555 44 0 3 0 0 0 0
            """
        let points = HostParsers.netdev(text)
        #expect(Self.find(points, "node_network_receive_bytes_total", ["device": "lo"]) == 1_234_567)
        #expect(Self.find(points, "node_network_receive_multicast_total", ["device": "eth0"]) == 7)
        #expect(Self.find(points, "node_network_transmit_bytes_total", ["device": "eth0"]) == 5555)
        #expect(Self.find(points, "node_network_transmit_drop_total", ["device": "eth0"]) == 3)
        #expect(points.count == 32)
    }

    @Test("mounts: octal escapes resolved, ro flag read; filesystem sizes from statvfs figures")
    func filesystems() {
        let mounts = HostParsers.mounts("/dev/sda1 / ext4 rw,relatime 0 0\n/dev/sdb1 /mnt/my\\040disk vfat ro,noatime 0 0\n")
        #expect(mounts.map(\.mountPoint) == ["/", "/mnt/my disk"])
        #expect(mounts.map(\.readOnly) == [false, true])
        let stats = HostParsers.FilesystemStats(blockSize: 4096, blocks: 1000, blocksFree: 300, blocksAvailable: 250, files: 64, filesFree: 60)
        let points = HostParsers.filesystem(mounts[1], stats)
        let labels = ["device": "/dev/sdb1", "fstype": "vfat", "mountpoint": "/mnt/my disk"]
        #expect(Self.find(points, "node_filesystem_size_bytes", labels) == 4_096_000)
        #expect(Self.find(points, "node_filesystem_avail_bytes", labels) == 1_024_000)
        #expect(Self.find(points, "node_filesystem_free_bytes", labels) == 1_228_800)
        #expect(Self.find(points, "node_filesystem_readonly", labels) == 1)
    }

    @Test("cgroup paths give pod_uid and container_id under the systemd and cgroupfs drivers")
    func cgroupLabels() {
        let id = String(repeating: "ab12", count: 16)
        let systemd = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-\(id).scope"
        #expect(HostParsers.cgroupLabels(systemd) == [
            "id": systemd, "pod_uid": "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901", "container_id": id,
        ])
        let cgroupfs = "/kubepods/besteffort/pod1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901/\(id)"
        #expect(HostParsers.cgroupLabels(cgroupfs)["pod_uid"] == "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901")
        #expect(HostParsers.cgroupLabels(cgroupfs)["container_id"] == id)
        #expect(HostParsers.cgroupLabels("/system.slice/docker-\(id).scope")["container_id"] == id)
        #expect(HostParsers.cgroupLabels("/system.slice/ssh.service") == ["id": "/system.slice/ssh.service", "service": "ssh"])
        #expect(HostParsers.cgroupLabels("") == ["id": "/"])
    }

    @Test("cgroup v2 cpu.stat, memory and io.stat become cAdvisor's container_* series")
    func cgroupFiles() {
        let labels = ["id": "/a"]
        let cpu = HostParsers.cgroupCPU("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_throttled 3\n", labels: labels)
        #expect(Self.find(cpu, "container_cpu_usage_seconds_total") == 2.5)
        #expect(Self.find(cpu, "container_cpu_system_seconds_total") == 0.5)
        #expect(Self.find(cpu, "container_cpu_cfs_throttled_periods_total") == 3)
        let memory = HostParsers.cgroupMemory(
            current: "1000000\n", stat: "anon 600000\nfile 300000\ninactive_file 100000\n", swap: "0\n", labels: labels)
        #expect(Self.find(memory, "container_memory_usage_bytes") == 1_000_000)
        #expect(Self.find(memory, "container_memory_working_set_bytes") == 900_000)
        #expect(Self.find(memory, "container_memory_rss") == 600_000)
        #expect(Self.find(memory, "container_memory_cache") == 300_000)
        #expect(Self.find(memory, "container_memory_swap") == 0)
        let io = HostParsers.cgroupIO("8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n", labels: labels)
        #expect(Self.find(io, "container_fs_reads_bytes_total", ["device": "8:0", "id": "/a"]) == 4096)
        #expect(Self.find(io, "container_fs_writes_total", ["device": "8:0"]) == 2)
        #expect(io.count == 4)
    }

    @Test("the cgroup walk reads a fixture tree and labels each group")
    func cgroupWalk() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-cgroup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let id = String(repeating: "c0ffee00", count: 8)
        let leaf = root.appendingPathComponent("system.slice/docker-\(id).scope")
        try FileManager.default.createDirectory(at: leaf, withIntermediateDirectories: true)
        try "usage_usec 1000000\n".write(to: leaf.appendingPathComponent("cpu.stat"), atomically: true, encoding: .utf8)
        try "4096\n".write(to: leaf.appendingPathComponent("memory.current"), atomically: true, encoding: .utf8)
        let source = HostSource(
            name: "host", spec: HostSpec(cgroupPath: root.path, groups: [.cgroup]), logger: Logger(label: "test"))
        var problems: [String] = []
        let points = source.collect(problems: &problems)
        #expect(Self.find(points, "container_cpu_usage_seconds_total", ["container_id": id]) == 1)
        #expect(Self.find(points, "container_memory_usage_bytes", ["id": "/system.slice/docker-\(id).scope"]) == 4096)
    }
}

@Suite("HostSource against node-exporter", .serialized)
struct HostSourceInteropTests {
    @Test(
        "on this machine, the host collector agrees with node-exporter on CPUs, memory size, boot time, devices and /",
        .enabled(if: FileManager.default.isExecutableFile(atPath: nodeExporterPath)))
    func matchesNodeExporter() async throws {
        let (exporter, port) = try await ExporterInteropTests.startNodeExporter()
        defer { exporter.signal(SIGTERM) }
        let text = try await ExporterInteropTests.curl("http://127.0.0.1:\(port)/metrics")
        let theirs = ExpositionParser.parse(text, defaultTimestamp: .now).samples
        let source = HostSource(name: "host", spec: HostSpec(groups: [.cpu, .memory, .network, .filesystem]), logger: Logger(label: "test"))
        var problems: [String] = []
        let ours = source.collect(problems: &problems)
        #expect(problems.isEmpty, "\(problems)")

        func theirValue(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            theirs.first { sample in sample.labels.name == name && labels.allSatisfy { k, v in sample.labels[k] == v } }?.value
        }
        #expect(HostParsersTests.find(ours, "node_memory_MemTotal_bytes") == theirValue("node_memory_MemTotal_bytes"))
        #expect(HostParsersTests.find(ours, "node_boot_time_seconds") == theirValue("node_boot_time_seconds"))
        let ourCPUs = Set(ours.filter { $0.name == "node_cpu_seconds_total" }.compactMap { "\($0.labels["cpu"]!)/\($0.labels["mode"]!)" })
        let theirCPUs = Set(theirs.filter { $0.labels.name == "node_cpu_seconds_total" }.map { "\($0.labels["cpu"]!)/\($0.labels["mode"]!)" })
        #expect(!ourCPUs.isEmpty && ourCPUs == theirCPUs)
        let theirDevices = Set(theirs.filter { $0.labels.name == "node_network_receive_bytes_total" }.compactMap { $0.labels["device"] })
        let ourDevices = Set(ours.filter { $0.name == "node_network_receive_bytes_total" }.compactMap { $0.labels["device"] })
        #expect(!theirDevices.isEmpty && theirDevices.isSubset(of: ourDevices))
        // Filesystem size does not change between the two reads; node-exporter may skip some mounts.
        let theirRoot = theirs.filter { $0.labels.name == "node_filesystem_size_bytes" }
        #expect(!theirRoot.isEmpty)
        for sample in theirRoot {
            guard let mountpoint = sample.labels["mountpoint"] else { continue }
            #expect(HostParsersTests.find(ours, "node_filesystem_size_bytes", ["mountpoint": mountpoint]) == sample.value, "\(mountpoint)")
        }
    }
}
