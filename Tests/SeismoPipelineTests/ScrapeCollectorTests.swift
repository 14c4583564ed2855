import Foundation
import Testing

@testable import SeismoPipeline

@Suite("prometheus_scrape, host and probe collectors in YAML")
struct ScrapeCollectorTests {
    static func spec(_ collector: String) -> String {
        """
        pipeline: t
        kafka:
          topics:
            signals.t: {key_by: [instance]}
        collectors:
        \(collector)
        """
    }

    @Test("a full scrape job compiles with Prometheus's keys and defaults")
    func fullScrape() throws {
        let pipeline = try load(
            Self.spec(
                """
                  - name: node
                    type: prometheus_scrape
                    topic: signals.t
                    scrape_interval: 30s
                    params: {module: [http_2xx]}
                    honor_labels: true
                    static_configs:
                      - targets: ['a:9100', 'b:9100']
                        labels: {env: prod}
                    file_sd_configs:
                      - files: [/etc/targets/*.json]
                    kubernetes_sd_configs:
                      - role: pod
                        namespaces: {names: [default]}
                        kubeconfig_file: /root/.kube/config
                    relabel_configs:
                      - {source_labels: [__address__], regex: '(.+):\\d+', target_label: host}
                      - {action: hashmod, source_labels: [__address__], modulus: 4, target_label: __tmp_shard}
                      - {action: keep, source_labels: [__tmp_shard], regex: '0'}
                    metric_relabel_configs:
                      - {action: labeldrop, regex: 'id'}
                    body_size_limit: 16MiB
                """))
        guard case .prometheusScrape(let scrape) = try #require(pipeline.collectors.first).kind else {
            Issue.record("not a scrape collector")
            return
        }
        #expect(scrape.jobName == "node")
        #expect(scrape.interval == .seconds(30))
        #expect(scrape.timeout == .seconds(10))
        #expect(scrape.metricsPath == "/metrics")
        #expect(scrape.params == ["module": ["http_2xx"]])
        #expect(scrape.honorLabels)
        #expect(scrape.staticConfigs == [TargetGroupSpec(targets: ["a:9100", "b:9100"], labels: ["env": "prod"])])
        #expect(scrape.fileSD.first?.files == ["/etc/targets/*.json"])
        #expect(scrape.kubernetesSD.first?.role == .pod)
        #expect(scrape.kubernetesSD.first?.namespaces == ["default"])
        #expect(scrape.relabelConfigs.count == 3)
        #expect(scrape.relabelConfigs[1].modulus == 4)
        #expect(scrape.relabelConfigs[0].replacement == "$1")
        #expect(scrape.metricRelabelConfigs.first?.action == .labeldrop)
        #expect(scrape.bodySizeLimit == 16 << 20)
    }

    @Test("misspelt keys and actions get suggestions, at their line and column")
    func suggestions() throws {
        let found = issues(
            Self.spec(
                """
                  - name: node
                    type: prometheus_scrape
                    topic: signals.t
                    scrape_intervall: 30s
                    static_configs: [{targets: ['a:1']}]
                    relabel_configs:
                      - {action: keeep, source_labels: [a]}
                """))
        let messages = found.map(\.description)
        #expect(found.count == 2, "\(messages)")
        #expect(messages.contains { $0.contains("t.yaml:9:5") && $0.contains("did you mean 'scrape_interval'") })
        #expect(messages.contains { $0.contains("t.yaml:12:18") && $0.contains("did you mean 'keep'") })
    }

    @Test("bad relabel rules and limits are reported each with its path")
    func badRules() throws {
        let found = issues(
            Self.spec(
                """
                  - name: node
                    type: prometheus_scrape
                    topic: signals.t
                    scrape_interval: 10s
                    scrape_timeout: 20s
                    static_configs: [{targets: ['a:1']}]
                    relabel_configs:
                      - {regex: '(unclosed', target_label: x}
                      - {action: hashmod, source_labels: [a], target_label: t}
                      - {action: replace, source_labels: [a]}
                      - {action: labeldrop, source_labels: [a], regex: x}
                      - {source_labels: ['bad-name'], target_label: x}
                    body_size_limit: lots
                """))
        let paths = Set(found.map(\.path))
        #expect(paths.contains("collectors[0].scrape_timeout"))
        #expect(paths.contains("collectors[0].relabel_configs[0].regex"))
        #expect(paths.contains("collectors[0].relabel_configs[1]"))  // hashmod needs modulus
        #expect(paths.contains("collectors[0].relabel_configs[2]"))  // replace needs target_label
        #expect(paths.contains("collectors[0].relabel_configs[3].source_labels"))
        #expect(paths.contains("collectors[0].relabel_configs[4].source_labels[0]"))
        #expect(paths.contains("collectors[0].body_size_limit"))
    }

    @Test("a scrape job without any targets is an error")
    func noTargets() throws {
        let issue = try onlyIssue(Self.spec("  - {name: node, type: prometheus_scrape, topic: signals.t}"))
        #expect(issue.code == .missingKey)
        #expect(issue.message.contains("static_configs"))
    }

    @Test("host and probe collectors compile; unknown groups and modules are reported with suggestions")
    func hostAndProbe() throws {
        let pipeline = try load(
            Self.spec(
                """
                  - {name: host, type: host, topic: signals.t, collectors: [cpu, memory], labels: {instance: n1}}
                  - name: probes
                    type: probe
                    topic: signals.t
                    pings: 3
                    targets:
                      - {module: http, target: 'https://example.org/', body_regex: 'ok', valid_status_codes: [200, 301]}
                      - {module: icmp, target: 127.0.0.1}
                """))
        guard case .host(let host) = pipeline.collectors[0].kind, case .probe(let probe) = pipeline.collectors[1].kind else {
            Issue.record("wrong kinds")
            return
        }
        #expect(host.groups == [.cpu, .memory])
        #expect(host.labels == ["instance": "n1"])
        #expect(probe.pings == 3)
        #expect(probe.targets.map(\.module) == [.http, .icmp])
        #expect(probe.targets[0].validStatusCodes == [200, 301])

        let found = issues(
            Self.spec(
                """
                  - {name: host, type: host, topic: signals.t, collectors: [cpuu]}
                  - name: probes
                    type: probe
                    topic: signals.t
                    targets:
                      - {module: htp, target: 'x'}
                      - {module: http, target: 'example.org'}
                      - {module: tcp, target: 'no-port'}
                """))
        let messages = found.map(\.description)
        #expect(messages.contains { $0.contains("did you mean 'cpu'") })
        #expect(messages.contains { $0.contains("did you mean 'http'") })
        #expect(messages.contains { $0.contains("http:// or https:// URL") })
        #expect(messages.contains { $0.contains("host:port") })
    }

    @Test("pipelines/examples/node.yaml loads and matches the JSON Schema")
    func example() async throws {
        let path = repositoryRoot.appendingPathComponent("pipelines/examples/node.yaml").path
        let pipeline = try PipelineLoader.load(path: path)
        #expect(pipeline.collectors.map(\.kind.typeName) == ["prometheus_scrape", "host", "probe"])
        let check = try await SchemaCheck.run(path)
        #expect(check.valid, "\(check.output)")
    }
}
