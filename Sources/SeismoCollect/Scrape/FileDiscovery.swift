import Foundation
import SeismoCore
import SeismoPipeline
import Yams

/// `file_sd`: target groups from JSON or YAML files, as Prometheus reads them:
///
///     [{"targets": ["10.0.0.1:9100"], "labels": {"env": "prod"}}]
///
/// Every `check` looks at the files' modification times (and the glob's matches) and
/// re-reads a file that changed, or every file once `refreshInterval` has passed. A file
/// that cannot be read or parsed keeps its previous groups and reports an error. Each
/// target gets `__meta_filepath`.
public struct FileDiscovery: Sendable {
    public let spec: FileSDSpec
    private var cache: [String: Entry] = [:]
    private var lastFullRead: Duration?

    struct Entry: Sendable {
        var modified: Date?
        var groups: [TargetGroup]
    }

    public init(spec: FileSDSpec) { self.spec = spec }

    /// The current groups, with an error per file that could not be used. `now` is any
    /// monotonic time (it is only compared with itself).
    public mutating func check(now: Duration) -> (groups: [TargetGroup], errors: [String]) {
        let full = lastFullRead.map { now - $0 >= spec.refreshInterval } ?? true
        if full { lastFullRead = now }
        var errors: [String] = []
        var paths: [String] = []
        for pattern in spec.files { paths += Self.expand(pattern) }
        var next: [String: Entry] = [:]
        for path in paths {
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            if let cached = cache[path], !full, cached.modified == modified {
                next[path] = cached
                continue
            }
            do {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw CollectError(.unreadableFile, "cannot read the file_sd file", context: path)
                }
                next[path] = Entry(modified: modified, groups: try Self.parse(Array(data), path: path))
            } catch {
                errors.append("\(error)")
                if let cached = cache[path] { next[path] = cached }
            }
        }
        cache = next
        let groups = paths.compactMap { next[$0]?.groups }.flatMap { $0 }
        return (groups, errors)
    }

    /// Parses one file: JSON for `.json`, YAML otherwise.
    public static func parse(_ bytes: [UInt8], path: String) throws(CollectError) -> [TargetGroup] {
        let specs: [TargetGroupSpec]
        do {
            if path.hasSuffix(".json") {
                specs = try JSONDecoder().decode([TargetGroupSpec].self, from: Data(bytes))
            } else {
                specs = try YAMLDecoder().decode([TargetGroupSpec].self, from: Data(bytes))
            }
        } catch {
            throw CollectError(.badInput, "invalid file_sd file (expected a list of {targets, labels}): \(error)", context: path)
        }
        var groups: [TargetGroup] = []
        for (index, spec) in specs.enumerated() {
            for name in spec.labels.keys where !Labels.isValidLabelName(name) {
                throw CollectError(.badInput, "invalid label name '\(name)' in group \(index)", context: path)
            }
            var group = TargetGroup(source: "\(path):\(index)", spec: spec)
            group.labels["__meta_filepath"] = path
            groups.append(group)
        }
        return groups
    }

    /// The paths a pattern names: itself, or the matches of a `*` / `?` glob, sorted.
    static func expand(_ pattern: String) -> [String] {
        guard pattern.contains("*") || pattern.contains("?") || pattern.contains("[") else { return [pattern] }
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
