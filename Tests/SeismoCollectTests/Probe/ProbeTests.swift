import AsyncHTTPClient
import Foundation
import Logging
import SeismoCore
import SeismoPipeline
import SeismoTesting
import Testing

@testable import SeismoCollect

@Suite("ProbeReport")
struct ProbeReportTests {
    static let t0 = Timestamp(milliseconds: 1_795_300_000_000)

    @Test("the first probe gives blackbox's series; the round gives min, median, max and loss")
    func round() {
        var first = ProbeResult(success: true, duration: .milliseconds(40))
        first.statusCode = 200
        first.tls = true
        first.certificateExpiry = 1_800_000_000
        first.phases = ["connect": 0.01, "tls": 0.02]
        let round = [
            first, ProbeResult(success: true, duration: .milliseconds(10)), ProbeResult(success: false, duration: .seconds(5)),
            ProbeResult(success: true, duration: .milliseconds(30)),
        ]
        let target = ProbeTargetSpec(module: .http, target: "https://x/", labels: ["team": "web"])
        let samples = ProbeReport.samples(job: "probes", target: target, round: round, time: Self.t0)
        func value(_ name: String, _ extra: [String: String] = [:]) -> Double? {
            samples.first { sample in sample.labels.name == name && extra.allSatisfy { k, v in sample.labels[k] == v } }?.value
        }
        #expect(value("probe_success") == 1)
        #expect(value("probe_duration_seconds") == 0.04)
        #expect(value("probe_http_status_code") == 200)
        #expect(value("probe_http_ssl") == 1)
        #expect(value("probe_ssl_earliest_cert_expiry") == 1_800_000_000)
        #expect(value("probe_http_duration_seconds", ["phase": "tls"]) == 0.02)
        #expect(value("probe_round_latency_seconds", ["stat": "min"]) == 0.01)
        #expect(value("probe_round_latency_seconds", ["stat": "median"]) == 0.03)
        #expect(value("probe_round_latency_seconds", ["stat": "max"]) == 0.04)
        #expect(value("probe_round_loss_ratio") == 0.25)
        #expect(value("probe_round_sent") == 4)
        #expect(samples.allSatisfy {
            $0.labels["job"] == "probes" && $0.labels["instance"] == "https://x/" && $0.labels["module"] == "http"
                && $0.labels["team"] == "web" && $0.timestamp == Self.t0
        })
    }

    @Test("a round where every probe failed has loss 1 and no latency series")
    func allLost() {
        let round = [ProbeResult(success: false, duration: .seconds(1)), ProbeResult(success: false, duration: .seconds(1))]
        let samples = ProbeReport.samples(job: "p", target: ProbeTargetSpec(module: .tcp, target: "h:1"), round: round, time: Self.t0)
        #expect(samples.first { $0.labels.name == "probe_round_loss_ratio" }?.value == 1)
        #expect(!samples.contains { $0.labels.name == "probe_round_latency_seconds" })
        #expect(samples.first { $0.labels.name == "probe_success" }?.value == 0)
    }

    @Test("the ICMP checksum is RFC 1071's")
    func checksum() {
        // An echo request with id 0, sequence 1 and no payload: 0x0800 + 0x0001 → ~0x0801.
        #expect(Probers.checksum([8, 0, 0, 0, 0, 0, 0, 1]) == 0xF7FE)
    }
}

/// Probes against servers the test starts on loopback.
@Suite("Probers on loopback", .serialized)
struct ProberLoopbackTests {
    static func probers(timeout: Duration = .seconds(5)) -> Probers {
        Probers(client: .shared, insecureClient: insecure, timeout: timeout)
    }

    static let insecure = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(certificateVerification: .none))

    /// A directory served by python3's http.server on a free port.
    static func httpServer() async throws -> (BackgroundProcess, Int, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "status: all good\n".write(to: directory.appendingPathComponent("health"), atomically: true, encoding: .utf8)
        let port = try Loopback.freePort()
        let server = try BackgroundProcess(
            "/usr/bin/env", ["python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory.path])
        #expect(try await Loopback.waitForListener(port: port), "http.server did not start: \(server.stderr)")
        return (server, port, directory)
    }

    @Test("HTTP: status, body regex, phases; a 404 and a mismatching regex fail")
    func http() async throws {
        let (server, port, directory) = try await Self.httpServer()
        defer {
            server.signal(SIGTERM)
            try? FileManager.default.removeItem(at: directory)
        }
        let probers = Self.probers()
        let good = await probers.probe(ProbeTargetSpec(module: .http, target: "http://127.0.0.1:\(port)/health", bodyRegex: "all g..d"))
        #expect(good.success, "\(good.error ?? "")")
        #expect(good.statusCode == 200)
        #expect(good.contentLength == 17)
        #expect(Set(good.phases.keys) == ["resolve", "connect", "processing", "transfer"])
        #expect(!good.tls)

        let missing = await probers.probe(ProbeTargetSpec(module: .http, target: "http://127.0.0.1:\(port)/nope"))
        #expect(!missing.success && missing.statusCode == 404)
        let accepted = await probers.probe(
            ProbeTargetSpec(module: .http, target: "http://127.0.0.1:\(port)/nope", validStatusCodes: [404]))
        #expect(accepted.success)
        let regex = await probers.probe(ProbeTargetSpec(module: .http, target: "http://127.0.0.1:\(port)/health", bodyRegex: "broken"))
        #expect(!regex.success && regex.failedDueToRegex)
    }

    @Test("TCP connect succeeds on a listening port and fails on a closed one")
    func tcp() async throws {
        let (server, port, directory) = try await Self.httpServer()
        defer {
            server.signal(SIGTERM)
            try? FileManager.default.removeItem(at: directory)
        }
        let probers = Self.probers()
        #expect(await probers.probe(ProbeTargetSpec(module: .tcp, target: "127.0.0.1:\(port)")).success)
        let closed = try Loopback.freePort()
        let failed = await probers.probe(ProbeTargetSpec(module: .tcp, target: "127.0.0.1:\(closed)"))
        #expect(!failed.success && failed.error != nil)
    }

    @Test("DNS resolves localhost and fails on a reserved .invalid name")
    func dns() async {
        let probers = Self.probers()
        let local = await probers.probe(ProbeTargetSpec(module: .dns, target: "localhost"))
        #expect(local.success && (local.answers ?? 0) > 0)
        let invalid = await probers.probe(ProbeTargetSpec(module: .dns, target: "no-such-host.invalid"))
        #expect(!invalid.success && invalid.error != nil)
    }

    @Test("ICMP to 127.0.0.1 answers, or fails with a clear reason when the system does not permit it")
    func icmp() async {
        let result = await Self.probers(timeout: .seconds(2)).probe(ProbeTargetSpec(module: .icmp, target: "127.0.0.1"))
        if result.success {
            #expect(result.phases["rtt"] != nil)
        } else {
            #expect(result.error?.contains("ping_group_range") == true, "\(result.error ?? "")")
        }
    }

    @Test(
        "HTTPS: TLS phase and the certificate's expiry; an untrusted certificate fails unless insecure_skip_verify",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func https() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try await ProcessRunner.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=localhost", "-keyout", key, "-out", cert])
        #expect(made.status == 0, "\(made.stderr)")
        let end = try await ProcessRunner.run(
            "/usr/bin/env",
            ["python3", "-c", "import ssl,sys,subprocess; d=subprocess.check_output(['openssl','x509','-in',sys.argv[1],'-noout','-enddate']).decode().strip().split('=',1)[1]; print(int(ssl.cert_time_to_seconds(d)))", cert])
        let expiry = try #require(Double(end.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(end.stderr)")

        let port = try Loopback.freePort()
        let server = try BackgroundProcess(
            "/usr/bin/openssl", ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-www", "-quiet"])
        defer { server.signal(SIGTERM) }
        #expect(try await Loopback.waitForListener(port: port), "s_server did not start: \(server.stderr)")

        let probers = Self.probers()
        let insecure = await probers.probe(
            ProbeTargetSpec(module: .http, target: "https://localhost:\(port)/", insecureSkipVerify: true))
        #expect(insecure.success, "\(insecure.error ?? "")")
        #expect(insecure.tls)
        #expect(insecure.phases["tls"] != nil)
        #expect(insecure.certificateExpiry == expiry)

        let verified = await probers.probe(ProbeTargetSpec(module: .http, target: "https://localhost:\(port)/"))
        #expect(!verified.success)
        #expect(verified.error != nil)
    }
}
