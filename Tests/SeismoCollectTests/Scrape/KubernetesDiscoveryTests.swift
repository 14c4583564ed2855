import Foundation
import Logging
import SeismoCore
import SeismoPipeline
import SeismoTesting
import Testing

@testable import SeismoCollect

@Suite("KubernetesDiscovery", .serialized)
struct KubernetesDiscoveryTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kubernetes")

    static func list<Item: Decodable>(_ name: String, _ type: Item.Type) throws -> [Item] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(KubernetesObjects.List<Item>.self, from: data).items
    }

    @Test("pods: one target per container port, a portless container gives the pod IP, pods without an IP are skipped")
    func pods() throws {
        let groups = KubernetesDiscovery.groups(
            role: .pod, pods: try Self.list("pods", KubernetesObjects.Pod.self), services: [], endpoints: [])
        #expect(groups.map(\.source) == ["pod/shop/web-7d4b9c8f6-x2k9p", "pod/data/db-0"])
        let web = groups[0]
        #expect(web.targets.map { $0["__address__"]! } == ["10.244.1.17:8080", "10.244.1.17:9000", "10.244.1.17", "10.244.1.17:7000"])
        #expect(web.targets[0]["__meta_kubernetes_pod_container_port_name"] == "http")
        #expect(web.targets[0]["__meta_kubernetes_pod_container_port_number"] == "8080")
        #expect(web.targets[0]["__meta_kubernetes_pod_container_name"] == "web")
        #expect(web.targets[3]["__meta_kubernetes_pod_container_init"] == "true")
        #expect(web.labels["__meta_kubernetes_namespace"] == "shop")
        #expect(web.labels["__meta_kubernetes_pod_label_app_kubernetes_io_name"] == "web")
        #expect(web.labels["__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name"] == "true")
        #expect(web.labels["__meta_kubernetes_pod_annotation_prometheus_io_scrape"] == "true")
        #expect(web.labels["__meta_kubernetes_pod_ready"] == "true")
        #expect(web.labels["__meta_kubernetes_pod_node_name"] == "node-a")
        #expect(web.labels["__meta_kubernetes_pod_controller_kind"] == "ReplicaSet")
        #expect(groups[1].labels["__meta_kubernetes_pod_ready"] == "false")
    }

    @Test("services: name.namespace.svc:port per port with service labels")
    func services() throws {
        let groups = KubernetesDiscovery.groups(
            role: .service, pods: [], services: try Self.list("services", KubernetesObjects.Service.self), endpoints: [])
        #expect(groups.flatMap { $0.targets.map { $0["__address__"]! } } == ["web.shop.svc:80", "kubernetes.default.svc:443"])
        #expect(groups[0].labels["__meta_kubernetes_service_cluster_ip"] == "10.96.12.34")
        #expect(groups[0].labels["__meta_kubernetes_service_annotation_prometheus_io_probe"] == "true")
        #expect(groups[0].targets[0]["__meta_kubernetes_service_port_name"] == "http")
    }

    @Test("endpoints: ready and not-ready addresses, with their service's and pod's labels")
    func endpoints() throws {
        let groups = KubernetesDiscovery.groups(
            role: .endpoints, pods: try Self.list("pods", KubernetesObjects.Pod.self),
            services: try Self.list("services", KubernetesObjects.Service.self),
            endpoints: try Self.list("endpoints", KubernetesObjects.Endpoints.self))
        let targets = try #require(groups.first).targets
        #expect(targets.map { $0["__address__"]! } == ["10.244.1.17:8080", "10.244.3.9:8080"])
        #expect(targets.map { $0["__meta_kubernetes_endpoint_ready"]! } == ["true", "false"])
        #expect(targets[0]["__meta_kubernetes_pod_name"] == "web-7d4b9c8f6-x2k9p")
        #expect(targets[1]["__meta_kubernetes_pod_name"] == nil)
        #expect(targets[0]["__meta_kubernetes_endpoint_address_target_kind"] == "Pod")
        #expect(groups[0].labels["__meta_kubernetes_service_name"] == "web")
    }

    @Test("credentials: in-cluster from the environment and service-account files; kubeconfig's current context")
    func credentials() throws {
        let files: [String: String] = [
            "/var/run/secrets/kubernetes.io/serviceaccount/token": "sa-token\n",
            "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt": "CA PEM",
            "/home/u/.kube/config": """
                apiVersion: v1
                kind: Config
                current-context: dev
                clusters:
                  - name: prod
                    cluster: {server: 'https://prod:6443'}
                  - name: dev
                    cluster:
                      server: https://dev:6443
                      certificate-authority-data: \(Data("DEV CA".utf8).base64EncodedString())
                contexts:
                  - name: prod
                    context: {cluster: prod, user: admin}
                  - name: dev
                    context: {cluster: dev, user: developer}
                users:
                  - name: admin
                    user: {token: admin-token}
                  - name: developer
                    user: {token: dev-token}
                """,
        ]
        let read = { (path: String) in files[path].map { Array($0.utf8) } }
        let inCluster = try KubernetesCredentials.resolve(
            KubernetesSDSpec(role: .pod), environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            readFile: read)
        #expect(inCluster == KubernetesCredentials(server: "https://10.96.0.1:443", bearerToken: "sa-token", caPEM: Array("CA PEM".utf8)))

        let kubeconfig = try KubernetesCredentials.resolve(
            KubernetesSDSpec(role: .pod, kubeconfig: "/home/u/.kube/config"), environment: [:], readFile: read)
        #expect(kubeconfig == KubernetesCredentials(server: "https://dev:6443", bearerToken: "dev-token", caPEM: Array("DEV CA".utf8)))

        #expect(throws: CollectError.self) {
            try KubernetesCredentials.resolve(KubernetesSDSpec(role: .pod), environment: [:], readFile: read)
        }
    }

    /// Starts the recorded API server; returns it and its port.
    static func startAPIServer(token: String) async throws -> (BackgroundProcess, Int) {
        let server = try BackgroundProcess(
            "/usr/bin/env", ["python3", fixtures.appendingPathComponent("api_server.py").path, token])
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let line = server.stdout.split(separator: "\n").first, let port = Int(line) { return (server, port) }
            try await Task.sleep(for: .milliseconds(50))
        }
        server.signal(SIGKILL)
        throw CollectError(.invalidSpec, "the recorded API server did not start: \(server.stderr)")
    }

    @Test("against recorded API responses on loopback, with a kubeconfig's token: pods become scrape targets after relabeling")
    func liveDiscovery() async throws {
        let token = "t-\(UUID().uuidString)"
        let (server, port) = try await Self.startAPIServer(token: token)
        defer { server.signal(SIGTERM) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-k8s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let kubeconfig = directory.appendingPathComponent("config")
        try """
            apiVersion: v1
            current-context: local
            clusters: [{name: local, cluster: {server: 'http://127.0.0.1:\(port)'}}]
            contexts: [{name: local, context: {cluster: local, user: me}}]
            users: [{name: me, user: {token: '\(token)'}}]
            """.write(to: kubeconfig, atomically: true, encoding: .utf8)

        // The usual annotation-driven job.
        let sd = KubernetesSDSpec(role: .pod, namespaces: ["shop", "data"], kubeconfig: kubeconfig.path)
        let spec = ScrapeSpec(
            jobName: "pods", kubernetesSD: [sd],
            relabelConfigs: [
                RelabelRule(action: .keep, sourceLabels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true"),
                RelabelRule(
                    sourceLabels: ["__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
                    regex: "([^:]+)(?::\\d+)?;(\\d+)", targetLabel: "__address__", replacement: "$1:$2"),
                RelabelRule(action: .labelmap, regex: "__meta_kubernetes_pod_label_(.+)"),
                RelabelRule(sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "namespace"),
                RelabelRule(sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "pod"),
            ])
        var discovery = ScrapeDiscovery(spec: spec, logger: Logger(label: "test"))
        let groups = await discovery.refresh(now: .zero, fetch: HTTPFetch(client: .shared))
        await discovery.shutdown()
        #expect(groups.count == 2)  // both namespaces listed; the pending pod has no IP
        let built = TargetBuilder.build(groups, spec: spec, relabeler: try Relabeler(spec.relabelConfigs))
        #expect(Set(built.targets.map(\.url)) == ["http://10.244.1.17:8080/metrics"])
        #expect(built.targets.first?.labels == [
            "job": "pods", "instance": "10.244.1.17:8080", "namespace": "shop", "pod": "web-7d4b9c8f6-x2k9p",
            "app_kubernetes_io_name": "web", "pod_template_hash": "7d4b9c8f6",
        ])
    }

    @Test("a wrong token is an error and keeps the previous (here: no) targets")
    func unauthorized() async throws {
        let (server, port) = try await Self.startAPIServer(token: "right")
        defer { server.signal(SIGTERM) }
        let api = try KubernetesAPI(credentials: KubernetesCredentials(server: "http://127.0.0.1:\(port)", bearerToken: "wrong"))
        var discovery = KubernetesDiscovery(spec: KubernetesSDSpec(role: .service))
        let (groups, error) = await discovery.refresh(now: .zero, api: api)
        await api.shutdown()
        #expect(groups.isEmpty)
        #expect(error?.contains("401") == true)
    }
}
