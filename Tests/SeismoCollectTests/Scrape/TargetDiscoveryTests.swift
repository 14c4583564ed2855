import Foundation
import SeismoCore
import SeismoPipeline
import Testing

@testable import SeismoCollect

@Suite("TargetBuilder")
struct TargetBuilderTests {
    @Test("job, instance, scheme, path and params default as in Prometheus; __ labels are removed")
    func defaults() throws {
        let spec = ScrapeSpec(jobName: "node", metricsPath: "/probe", params: ["module": ["http_2xx"], "x": ["a b"]])
        let groups = [TargetGroup(source: "static/0", spec: TargetGroupSpec(targets: ["h1:9100", "h2:9100"], labels: ["env": "prod"]))]
        let result = TargetBuilder.build(groups, spec: spec, relabeler: try Relabeler([]))
        #expect(result.targets.count == 2)
        #expect(result.targets[0].labels == ["job": "node", "instance": "h1:9100", "env": "prod"])
        #expect(result.targets[0].url == "http://h1:9100/probe?module=http_2xx&x=a%20b")
    }

    @Test("relabel_configs see __address__, __scheme__, __metrics_path__ and __param_*, and may rewrite them")
    func relabeling() throws {
        // The blackbox exporter pattern: the address becomes a parameter, the exporter the address.
        let rules = [
            RelabelRule(sourceLabels: ["__address__"], targetLabel: "__param_target"),
            RelabelRule(sourceLabels: ["__param_target"], targetLabel: "instance"),
            RelabelRule(targetLabel: "__address__", replacement: "127.0.0.1:9115"),
            RelabelRule(targetLabel: "__scheme__", replacement: "https"),
            RelabelRule(action: .drop, sourceLabels: ["__address__", "env"], regex: ".*;skip"),
        ]
        let spec = ScrapeSpec(jobName: "blackbox", metricsPath: "/probe", params: ["module": ["http_2xx"]])
        let groups = [
            TargetGroup(source: "s", spec: TargetGroupSpec(targets: ["example.org"])),
            TargetGroup(source: "s", spec: TargetGroupSpec(targets: ["dropped.org"], labels: ["env": "skip"])),
        ]
        let result = TargetBuilder.build(groups, spec: spec, relabeler: try Relabeler(rules))
        #expect(result.dropped == 1)
        #expect(result.targets.map(\.url) == ["https://127.0.0.1:9115/probe?module=http_2xx&target=example.org"])
        #expect(result.targets.first?.labels == ["job": "blackbox", "instance": "example.org"])
    }

    @Test("a target without an address after relabeling is reported, not scraped")
    func invalid() throws {
        let rules = [RelabelRule(action: .labeldrop, regex: "__address__")]
        let groups = [TargetGroup(source: "s", spec: TargetGroupSpec(targets: ["h:1"]))]
        let result = TargetBuilder.build(groups, spec: ScrapeSpec(jobName: "j"), relabeler: try Relabeler(rules))
        #expect(result.targets.isEmpty)
        #expect(result.invalid.count == 1)
    }

    @Test("identical targets from two groups are scraped once")
    func duplicates() throws {
        let group = TargetGroup(source: "s", spec: TargetGroupSpec(targets: ["h:1", "h:1"]))
        let result = TargetBuilder.build([group, group], spec: ScrapeSpec(jobName: "j"), relabeler: try Relabeler([]))
        #expect(result.targets.count == 1)
    }
}

@Suite("FileDiscovery")
struct FileDiscoveryTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-filesd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("JSON and YAML files are read, matched by glob, labelled with __meta_filepath")
    func jsonAndYaml() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try #"[{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}}]"#.write(
            to: dir.appendingPathComponent("one.json"), atomically: true, encoding: .utf8)
        try "- targets: ['c:3']\n  labels:\n    team: db\n- targets: ['d:4']\n".write(
            to: dir.appendingPathComponent("two.yml"), atomically: true, encoding: .utf8)
        var discovery = FileDiscovery(spec: FileSDSpec(files: [dir.path + "/*.json", dir.path + "/*.yml"]))
        let (groups, errors) = discovery.check(now: .zero)
        #expect(errors.isEmpty)
        #expect(groups.flatMap { $0.targets.map { $0["__address__"]! } } == ["a:1", "b:2", "c:3", "d:4"])
        #expect(groups[0].labels == ["env": "prod", "__meta_filepath": dir.path + "/one.json"])
        #expect(groups[1].labels["team"] == "db")
    }

    @Test("a changed file is re-read; a broken file keeps its previous targets and reports an error")
    func reload() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("t.json")
        try #"[{"targets": ["a:1"]}]"#.write(to: file, atomically: true, encoding: .utf8)
        var discovery = FileDiscovery(spec: FileSDSpec(files: [file.path]))
        #expect(discovery.check(now: .zero).groups.first?.targets == [["__address__": "a:1"]])

        try #"[{"targets": ["b:2"]}]"#.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: file.path)
        #expect(discovery.check(now: .seconds(1)).groups.first?.targets == [["__address__": "b:2"]])

        try "{not json".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(10)], ofItemAtPath: file.path)
        let broken = discovery.check(now: .seconds(2))
        #expect(broken.groups.first?.targets == [["__address__": "b:2"]])
        #expect(broken.errors.count == 1)
    }

    @Test("an invalid label name in a file is an error with the file's path")
    func invalidLabel() {
        #expect(throws: CollectError.self) {
            try FileDiscovery.parse(Array(#"[{"targets": ["a:1"], "labels": {"bad-name": "x"}}]"#.utf8), path: "f.json")
        }
    }
}
