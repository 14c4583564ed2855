import Foundation
import Logging
import SeismoCore
import SeismoPipeline

/// The `host` collector: every `interval` it reads `/proc`, `/sys` (filesystems through
/// `statvfs`) and the cgroup v2 tree, and emits one batch of node-exporter / cAdvisor
/// named series. A file that cannot be read leaves its group out of that round (logged
/// once); a series that disappears (an unmounted filesystem, a stopped container) gets a
/// stale marker.
public struct HostSource: LiveCollectorSource {
    public let name: String
    public let spec: HostSpec
    private let rounds: RoundClock
    private let logger: Logger
    /// Most cgroups read per round (a bound on a huge container host).
    public static let maxCgroups = 4096

    public init(name: String, spec: HostSpec, clock: some Clock<Duration> = ContinuousClock(), logger: Logger) {
        self.name = name
        self.spec = spec
        rounds = RoundClock(clock)
        self.logger = logger
    }

    public func run(emit: @escaping @Sendable (SourceBatch) -> Bool) async throws {
        var previous: Set<Labels> = []
        var reported: Set<String> = []
        while !Task.isCancelled {
            let started = rounds.elapsed()
            let time = Timestamp.now
            var problems: [String] = []
            let points = collect(problems: &problems)
            for problem in problems where reported.insert(problem).inserted { logger.warning("host: \(problem)") }
            var samples: [Sample] = []
            var current: Set<Labels> = []
            for point in points {
                guard let labels = labels(point), current.insert(labels).inserted else { continue }
                samples.append(Sample(labels: labels, timestamp: time, value: point.value))
            }
            for gone in previous where !current.contains(gone) { samples.append(.staleMarker(labels: gone, timestamp: time)) }
            previous = current
            _ = emit(SourceBatch(time: time, samples: samples))
            try await rounds.waitForNextRound(started: started, interval: spec.interval)
        }
    }

    private func labels(_ point: HostParsers.Point) -> Labels? {
        var pairs = spec.labels
        for (key, value) in point.labels { pairs[key] = value }
        pairs[Labels.metricName] = point.name
        return try? Labels(validating: pairs)
    }

    /// One round of every configured group.
    func collect(problems: inout [String]) -> [HostParsers.Point] {
        var out: [HostParsers.Point] = []
        let groups = Set(spec.groups)
        func read(_ path: String) -> String? {
            guard let data = FileManager.default.contents(atPath: path) else {
                problems.append("cannot read \(path)")
                return nil
            }
            return String(decoding: data, as: UTF8.self)
        }
        if groups.contains(.cpu), let text = read("\(spec.procPath)/stat") { out += HostParsers.stat(text) }
        if groups.contains(.memory), let text = read("\(spec.procPath)/meminfo") { out += HostParsers.meminfo(text) }
        if groups.contains(.load), let text = read("\(spec.procPath)/loadavg") { out += HostParsers.loadavg(text) }
        if groups.contains(.disk), let text = read("\(spec.procPath)/diskstats") { out += HostParsers.diskstats(text) }
        if groups.contains(.network), let text = read("\(spec.procPath)/net/dev") { out += HostParsers.netdev(text) }
        if groups.contains(.filesystem), let text = read("\(spec.procPath)/self/mounts") {
            let excluded = Set(spec.excludedFilesystemTypes)
            var seen: Set<String> = []
            for mount in HostParsers.mounts(text) where !excluded.contains(mount.type) && !HostParsers.isIgnoredMountPoint(mount.mountPoint)
                && seen.insert(mount.mountPoint).inserted
            {
                var buffer = statvfs()
                guard statvfs(mount.mountPoint, &buffer) == 0 else { continue }
                let stats = HostParsers.FilesystemStats(
                    blockSize: Double(buffer.f_frsize), blocks: Double(buffer.f_blocks), blocksFree: Double(buffer.f_bfree),
                    blocksAvailable: Double(buffer.f_bavail), files: Double(buffer.f_files), filesFree: Double(buffer.f_ffree))
                out += HostParsers.filesystem(mount, stats)
            }
        }
        if groups.contains(.cgroup) { out += cgroups(read: { FileManager.default.contents(atPath: $0).map { String(decoding: $0, as: UTF8.self) } }) }
        return out
    }

    /// Walks the cgroup v2 tree breadth-first, up to `maxCgroups` groups.
    func cgroups(read: (String) -> String?) -> [HostParsers.Point] {
        var out: [HostParsers.Point] = []
        var queue = [""]
        var visited = 0
        while !queue.isEmpty, visited < Self.maxCgroups {
            let relative = queue.removeFirst()
            visited += 1
            let directory = spec.cgroupPath + relative
            let labels = HostParsers.cgroupLabels(relative)
            if let cpu = read("\(directory)/cpu.stat") { out += HostParsers.cgroupCPU(cpu, labels: labels) }
            out += HostParsers.cgroupMemory(
                current: read("\(directory)/memory.current"), stat: read("\(directory)/memory.stat"),
                swap: read("\(directory)/memory.swap.current"), labels: labels)
            if let io = read("\(directory)/io.stat") { out += HostParsers.cgroupIO(io, labels: labels) }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for child in children.sorted() {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(directory)/\(child)", isDirectory: &isDirectory), isDirectory.boolValue {
                    queue.append("\(relative)/\(child)")
                }
            }
        }
        return out
    }
}
