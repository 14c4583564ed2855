import AsyncHTTPClient
import Foundation
import NIOSSL
import SeismoCore
import SeismoPipeline
import Yams

/// Where and how to reach the Kubernetes API server.
public struct KubernetesCredentials: Sendable, Equatable {
    public var server: String
    public var bearerToken: String?
    /// PEM of the certificate authorities to trust; nil: the system's.
    public var caPEM: [UInt8]?
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var insecureSkipVerify: Bool

    /// The in-cluster service account's files.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Resolves the credentials of `spec`: a kubeconfig file (its current context), or an
    /// explicit `api_server`, or in-cluster (`KUBERNETES_SERVICE_HOST`/`_PORT` and the
    /// service account's token and CA). `readFile` and `environment` are parameters so
    /// that this is tested without a cluster.
    public static func resolve(
        _ spec: KubernetesSDSpec, environment: [String: String], readFile: (String) -> [UInt8]?
    ) throws(CollectError) -> KubernetesCredentials {
        func read(_ path: String, _ what: String) throws(CollectError) -> [UInt8] {
            guard let bytes = readFile(path) else { throw CollectError(.unreadableFile, "cannot read the \(what)", context: path) }
            return bytes
        }
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        var credentials: KubernetesCredentials
        if let kubeconfig = spec.kubeconfig {
            credentials = try Kubeconfig.credentials(text(try read(kubeconfig, "kubeconfig")), path: kubeconfig, readFile: readFile)
            if let server = spec.apiServer { credentials.server = server }
        } else if let server = spec.apiServer {
            credentials = KubernetesCredentials(server: server, insecureSkipVerify: spec.insecureSkipVerify)
        } else {
            guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
                throw CollectError(
                    .invalidSpec,
                    "not running in a cluster (no KUBERNETES_SERVICE_HOST): set api_server or kubeconfig_file in kubernetes_sd_configs")
            }
            let hostPart = host.contains(":") ? "[\(host)]" : host
            credentials = KubernetesCredentials(server: "https://\(hostPart):\(port)", insecureSkipVerify: spec.insecureSkipVerify)
            credentials.bearerToken = text(try read("\(serviceAccountDirectory)/token", "service account token"))
            credentials.caPEM = readFile("\(serviceAccountDirectory)/ca.crt")
        }
        if let tokenFile = spec.bearerTokenFile { credentials.bearerToken = text(try read(tokenFile, "bearer token file")) }
        if let caFile = spec.caFile { credentials.caPEM = try read(caFile, "CA file") }
        if spec.insecureSkipVerify { credentials.insecureSkipVerify = true }
        while credentials.server.hasSuffix("/") { credentials.server.removeLast() }
        return credentials
    }

    public init(
        server: String, bearerToken: String? = nil, caPEM: [UInt8]? = nil, clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil, insecureSkipVerify: Bool = false
    ) {
        self.server = server
        self.bearerToken = bearerToken
        self.caPEM = caPEM
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.insecureSkipVerify = insecureSkipVerify
    }

    /// The TLS configuration for an `https` server.
    func tlsConfiguration() throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caPEM { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(caPEM)) }
        if let certificate = clientCertificatePEM, let key = clientKeyPEM {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        if insecureSkipVerify { configuration.certificateVerification = .none }
        return configuration
    }
}

/// The parts of a kubeconfig file discovery needs.
enum Kubeconfig {
    struct File: Decodable {
        struct NamedCluster: Decodable {
            var name: String
            var cluster: Cluster
        }
        struct Cluster: Decodable {
            var server: String
            var certificateAuthority: String?
            var certificateAuthorityData: String?
            var insecureSkipTLSVerify: Bool?
            enum CodingKeys: String, CodingKey {
                case server
                case certificateAuthority = "certificate-authority"
                case certificateAuthorityData = "certificate-authority-data"
                case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            }
        }
        struct NamedUser: Decodable {
            var name: String
            var user: User
        }
        struct User: Decodable {
            var token: String?
            var tokenFile: String?
            var clientCertificate: String?
            var clientCertificateData: String?
            var clientKey: String?
            var clientKeyData: String?
            enum CodingKeys: String, CodingKey {
                case token, tokenFile
                case clientCertificate = "client-certificate"
                case clientCertificateData = "client-certificate-data"
                case clientKey = "client-key"
                case clientKeyData = "client-key-data"
            }
        }
        struct NamedContext: Decodable {
            var name: String
            var context: Context
        }
        struct Context: Decodable {
            var cluster: String
            var user: String?
        }
        var clusters: [NamedCluster]
        var users: [NamedUser]?
        var contexts: [NamedContext]
        var currentContext: String?
        enum CodingKeys: String, CodingKey {
            case clusters, users, contexts
            case currentContext = "current-context"
        }
    }

    static func credentials(_ text: String, path: String, readFile: (String) -> [UInt8]?) throws(CollectError)
        -> KubernetesCredentials
    {
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: text) } catch {
            throw CollectError(.badInput, "invalid kubeconfig: \(error)", context: path)
        }
        guard let contextName = file.currentContext ?? file.contexts.first?.name,
            let context = file.contexts.first(where: { $0.name == contextName })?.context
        else { throw CollectError(.invalidSpec, "the kubeconfig has no current context", context: path) }
        guard let cluster = file.clusters.first(where: { $0.name == context.cluster })?.cluster else {
            throw CollectError(.invalidSpec, "the kubeconfig has no cluster '\(context.cluster)'", context: path)
        }
        let user = file.users?.first { $0.name == context.user }?.user
        let directory = (path as NSString).deletingLastPathComponent
        func contents(_ name: String?, data: String?) throws(CollectError) -> [UInt8]? {
            if let data {
                guard let decoded = Data(base64Encoded: data) else {
                    throw CollectError(.invalidSpec, "invalid base64 in the kubeconfig", context: path)
                }
                return Array(decoded)
            }
            guard let name else { return nil }
            let full = name.hasPrefix("/") ? name : "\(directory)/\(name)"
            guard let bytes = readFile(full) else { throw CollectError(.unreadableFile, "cannot read a kubeconfig file", context: full) }
            return bytes
        }
        var token = user?.token
        if token == nil, let tokenFile = user?.tokenFile, let bytes = readFile(tokenFile) {
            token = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return KubernetesCredentials(
            server: cluster.server, bearerToken: token,
            caPEM: try contents(cluster.certificateAuthority, data: cluster.certificateAuthorityData),
            clientCertificatePEM: try contents(user?.clientCertificate, data: user?.clientCertificateData),
            clientKeyPEM: try contents(user?.clientKey, data: user?.clientKeyData),
            insecureSkipVerify: cluster.insecureSkipTLSVerify ?? false)
    }
}

/// Kubernetes objects, as far as discovery reads them.
enum KubernetesObjects {
    struct List<Item: Decodable>: Decodable { var items: [Item] }
    struct Metadata: Decodable {
        var name: String
        var namespace: String?
        var uid: String?
        var labels: [String: String]?
        var annotations: [String: String]?
        var ownerReferences: [Owner]?
    }
    struct Owner: Decodable {
        var kind: String
        var name: String
        var controller: Bool?
    }
    struct Pod: Decodable {
        struct Spec: Decodable {
            var nodeName: String?
            var containers: [Container]
            var initContainers: [Container]?
        }
        struct Container: Decodable {
            var name: String
            var image: String?
            var ports: [Port]?
        }
        struct Port: Decodable {
            var name: String?
            var containerPort: Int
            var `protocol`: String?
        }
        struct Status: Decodable {
            var phase: String?
            var podIP: String?
            var hostIP: String?
            var conditions: [Condition]?
        }
        struct Condition: Decodable {
            var type: String
            var status: String
        }
        var metadata: Metadata
        var spec: Spec
        var status: Status?
    }
    struct Service: Decodable {
        struct Spec: Decodable {
            var type: String?
            var clusterIP: String?
            var externalName: String?
            var ports: [Port]?
        }
        struct Port: Decodable {
            var name: String?
            var port: Int
            var `protocol`: String?
        }
        var metadata: Metadata
        var spec: Spec
    }
    struct Endpoints: Decodable {
        struct Subset: Decodable {
            var addresses: [Address]?
            var notReadyAddresses: [Address]?
            var ports: [Port]?
        }
        struct Address: Decodable {
            var ip: String
            var hostname: String?
            var nodeName: String?
            var targetRef: Reference?
        }
        struct Reference: Decodable {
            var kind: String?
            var name: String?
            var namespace: String?
        }
        struct Port: Decodable {
            var name: String?
            var port: Int
            var `protocol`: String?
        }
        var metadata: Metadata
        var subsets: [Subset]?
    }
}

/// Kubernetes service discovery: lists pods, services or endpoints through the API server
/// (every namespace, or the configured ones) at each refresh interval and turns them into
/// targets with Prometheus's `__meta_kubernetes_*` labels. The mapping from API objects to
/// groups is a pure function (`groups(role:pods:services:endpoints:)`), tested on
/// recorded responses. When a refresh fails the previous targets are kept.
public struct KubernetesDiscovery: Sendable {
    public let spec: KubernetesSDSpec
    private var lastRefresh: Duration?
    private var current: [TargetGroup] = []

    public init(spec: KubernetesSDSpec) { self.spec = spec }

    /// Refreshes when due; returns the groups and the refresh's error, if any.
    mutating func refresh(now: Duration, api: KubernetesAPI?) async -> ([TargetGroup], String?) {
        if let lastRefresh, now - lastRefresh < spec.refreshInterval { return (current, nil) }
        lastRefresh = now
        guard let api else { return (current, "no API client (see the earlier error)") }
        do {
            current = try await api.discover(spec)
            return (current, nil)
        } catch {
            return (current, "\(error)")
        }
    }

    /// The target groups of `role` from listed objects.
    static func groups(
        role: KubernetesSDSpec.Role, pods: [KubernetesObjects.Pod], services: [KubernetesObjects.Service],
        endpoints: [KubernetesObjects.Endpoints]
    ) -> [TargetGroup] {
        switch role {
        case .pod: return pods.compactMap(podGroup)
        case .service: return services.map(serviceGroup)
        case .endpoints:
            return endpoints.map { endpointsGroup($0, services: services, pods: pods) }
        }
    }

    /// `[^a-zA-Z0-9_]` → `_`, as Prometheus sanitizes label and annotation names.
    static func sanitize(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { c in
            c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) ? c : "_"
        }))
    }

    static func objectLabels(_ metadata: KubernetesObjects.Metadata, prefix: String) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in metadata.labels ?? [:] {
            out["\(prefix)_label_\(sanitize(key))"] = value
            out["\(prefix)_labelpresent_\(sanitize(key))"] = "true"
        }
        for (key, value) in metadata.annotations ?? [:] {
            out["\(prefix)_annotation_\(sanitize(key))"] = value
            out["\(prefix)_annotationpresent_\(sanitize(key))"] = "true"
        }
        return out
    }

    static func podLabels(_ pod: KubernetesObjects.Pod) -> [String: String] {
        let p = "__meta_kubernetes_pod"
        var labels = objectLabels(pod.metadata, prefix: p)
        labels["__meta_kubernetes_namespace"] = pod.metadata.namespace ?? "default"
        labels["\(p)_name"] = pod.metadata.name
        labels["\(p)_ip"] = pod.status?.podIP ?? ""
        labels["\(p)_node_name"] = pod.spec.nodeName ?? ""
        labels["\(p)_host_ip"] = pod.status?.hostIP ?? ""
        labels["\(p)_uid"] = pod.metadata.uid ?? ""
        labels["\(p)_phase"] = pod.status?.phase ?? ""
        let ready = pod.status?.conditions?.first { $0.type == "Ready" }?.status.lowercased() ?? "unknown"
        labels["\(p)_ready"] = ready
        if let owner = pod.metadata.ownerReferences?.first(where: { $0.controller == true }) {
            labels["\(p)_controller_kind"] = owner.kind
            labels["\(p)_controller_name"] = owner.name
        }
        return labels
    }

    static func podGroup(_ pod: KubernetesObjects.Pod) -> TargetGroup? {
        guard let ip = pod.status?.podIP, !ip.isEmpty else { return nil }
        let host = ip.contains(":") ? "[\(ip)]" : ip
        var targets: [[String: String]] = []
        let p = "__meta_kubernetes_pod"
        let all = pod.spec.containers.map { ($0, false) } + (pod.spec.initContainers ?? []).map { ($0, true) }
        for (container, isInit) in all {
            var base = [
                "\(p)_container_name": container.name, "\(p)_container_image": container.image ?? "",
                "\(p)_container_init": isInit ? "true" : "false",
            ]
            guard let ports = container.ports, !ports.isEmpty else {
                if !isInit {
                    base["__address__"] = host
                    targets.append(base)
                }
                continue
            }
            for port in ports {
                var target = base
                target["__address__"] = "\(host):\(port.containerPort)"
                target["\(p)_container_port_name"] = port.name ?? ""
                target["\(p)_container_port_number"] = String(port.containerPort)
                target["\(p)_container_port_protocol"] = port.protocol ?? "TCP"
                targets.append(target)
            }
        }
        let namespace = pod.metadata.namespace ?? "default"
        return TargetGroup(source: "pod/\(namespace)/\(pod.metadata.name)", targets: targets, labels: podLabels(pod))
    }

    static func serviceLabels(_ service: KubernetesObjects.Service) -> [String: String] {
        let s = "__meta_kubernetes_service"
        var labels = objectLabels(service.metadata, prefix: s)
        labels["__meta_kubernetes_namespace"] = service.metadata.namespace ?? "default"
        labels["\(s)_name"] = service.metadata.name
        labels["\(s)_type"] = service.spec.type ?? "ClusterIP"
        if let ip = service.spec.clusterIP { labels["\(s)_cluster_ip"] = ip }
        if let external = service.spec.externalName { labels["\(s)_external_name"] = external }
        return labels
    }

    static func serviceGroup(_ service: KubernetesObjects.Service) -> TargetGroup {
        let namespace = service.metadata.namespace ?? "default"
        let s = "__meta_kubernetes_service"
        let targets = (service.spec.ports ?? []).map { port in
            [
                "__address__": "\(service.metadata.name).\(namespace).svc:\(port.port)",
                "\(s)_port_name": port.name ?? "", "\(s)_port_number": String(port.port),
                "\(s)_port_protocol": port.protocol ?? "TCP",
            ]
        }
        return TargetGroup(source: "svc/\(namespace)/\(service.metadata.name)", targets: targets, labels: serviceLabels(service))
    }

    static func endpointsGroup(
        _ endpoints: KubernetesObjects.Endpoints, services: [KubernetesObjects.Service], pods: [KubernetesObjects.Pod]
    ) -> TargetGroup {
        let namespace = endpoints.metadata.namespace ?? "default"
        let e = "__meta_kubernetes_endpoint"
        var labels = objectLabels(endpoints.metadata, prefix: "__meta_kubernetes_endpoints")
        labels["__meta_kubernetes_namespace"] = namespace
        labels["__meta_kubernetes_endpoints_name"] = endpoints.metadata.name
        if let service = services.first(where: {
            $0.metadata.name == endpoints.metadata.name && ($0.metadata.namespace ?? "default") == namespace
        }) {
            labels.merge(serviceLabels(service)) { own, _ in own }
        }
        var targets: [[String: String]] = []
        for subset in endpoints.subsets ?? [] {
            let addresses = (subset.addresses ?? []).map { ($0, true) } + (subset.notReadyAddresses ?? []).map { ($0, false) }
            for (address, ready) in addresses {
                let host = address.ip.contains(":") ? "[\(address.ip)]" : address.ip
                var base = ["\(e)_ready": ready ? "true" : "false"]
                if let hostname = address.hostname { base["\(e)_hostname"] = hostname }
                if let node = address.nodeName { base["\(e)_node_name"] = node }
                if let reference = address.targetRef, let kind = reference.kind, let name = reference.name {
                    base["\(e)_address_target_kind"] = kind
                    base["\(e)_address_target_name"] = name
                    if kind == "Pod",
                        let pod = pods.first(where: { $0.metadata.name == name && ($0.metadata.namespace ?? "default") == namespace })
                    {
                        base.merge(podLabels(pod)) { own, _ in own }
                    }
                }
                for port in subset.ports ?? [] {
                    var target = base
                    target["__address__"] = "\(host):\(port.port)"
                    target["\(e)_port_name"] = port.name ?? ""
                    target["\(e)_port_protocol"] = port.protocol ?? "TCP"
                    targets.append(target)
                }
            }
        }
        return TargetGroup(source: "endpoints/\(namespace)/\(endpoints.metadata.name)", targets: targets, labels: labels)
    }
}

/// A client of the API server's list endpoints.
struct KubernetesAPI: Sendable {
    let credentials: KubernetesCredentials
    let client: HTTPClient
    static let bodyLimit = 64 << 20

    init(credentials: KubernetesCredentials) throws {
        self.credentials = credentials
        let tls = credentials.server.hasPrefix("https://") ? try credentials.tlsConfiguration() : nil
        client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
    }

    func shutdown() async { try? await client.shutdown() }

    func list<Item: Decodable>(_ resource: String, namespaces: [String], as type: Item.Type) async throws -> [Item] {
        let paths = namespaces.isEmpty ? ["/api/v1/\(resource)"] : namespaces.map { "/api/v1/namespaces/\($0)/\(resource)" }
        var items: [Item] = []
        var headers = [("Accept", "application/json")]
        if let token = credentials.bearerToken { headers.append(("Authorization", "Bearer \(token)")) }
        let fetch = HTTPFetch(client: client)
        for path in paths {
            let response = try await fetch.get(credentials.server + path, headers: headers, timeout: .seconds(30), limit: Self.bodyLimit)
            guard response.status == 200 else {
                throw CollectError(.network, "the API server answered \(response.status) for \(path)", context: credentials.server)
            }
            do {
                items += try JSONDecoder().decode(KubernetesObjects.List<Item>.self, from: Data(response.body)).items
            } catch {
                throw CollectError(.badInput, "cannot decode the API server's \(resource) list: \(error)", context: path)
            }
        }
        return items
    }

    func discover(_ spec: KubernetesSDSpec) async throws -> [TargetGroup] {
        let ns = spec.namespaces
        switch spec.role {
        case .pod:
            return KubernetesDiscovery.groups(
                role: .pod, pods: try await list("pods", namespaces: ns, as: KubernetesObjects.Pod.self), services: [], endpoints: [])
        case .service:
            return KubernetesDiscovery.groups(
                role: .service, pods: [], services: try await list("services", namespaces: ns, as: KubernetesObjects.Service.self),
                endpoints: [])
        case .endpoints:
            return KubernetesDiscovery.groups(
                role: .endpoints, pods: try await list("pods", namespaces: ns, as: KubernetesObjects.Pod.self),
                services: try await list("services", namespaces: ns, as: KubernetesObjects.Service.self),
                endpoints: try await list("endpoints", namespaces: ns, as: KubernetesObjects.Endpoints.self))
        }
    }
}
