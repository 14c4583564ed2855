import Foundation
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

/// The OpenTelemetry Python SDK's OTLP/HTTP exporters (from PyPI) send metrics, traces and
/// logs to the receiver (`scripts/otlp_client.py`); the test reads what arrived on the topic.
@Suite("otlp receiver with the OpenTelemetry Python SDK", .serialized)
struct OTLPPythonSDKTests {
    static var sdkInstalled: Bool {
        guard let python = ProcessRunner.which("python3") else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    struct Sent: Decodable {
        struct SpanID: Decodable {
            var name: String
            var trace_id: String
            var span_id: String
        }
        var flushed: Bool
        var spans: [SpanID]
    }

    @Test("metrics, spans and logs sent by the SDK arrive on the topic, named as documented", .enabled(if: sdkInstalled))
    func pythonSDK() async throws {
        let topic = TopicSpec(name: "signals.otel", partitions: 3)
        try await KafkaFixtures.withCluster(topics: [topic.name: 3]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let spec = CollectorSpec(name: "otel", topic: topic.name, kind: .otlp(OTLPSpec(listen: ReceiverListen(port: 0))))
            try await ReceiverHarness.withReceiver({ Collectors.service(spec: spec, topic: topic, producer: producer, onListening: $0) }) { port in
                let script = Binaries.repositoryRoot.appendingPathComponent("scripts/otlp_client.py").path
                let run = try await ProcessRunner.run(ProcessRunner.which("python3")!, [script, "http://127.0.0.1:\(port)"], timeout: .seconds(90))
                #expect(run.status == 0, "\(run.stderr)")
                let sent = try JSONDecoder().decode(Sent.self, from: Data(run.stdout.utf8))
                #expect(sent.flushed)
                #expect(!run.stderr.contains("Failed to export"), "\(run.stderr)")

                let batches = try await TopicReader.batches(cluster.bootstrapServers, topic: topic.name, partitions: 3) { batches in
                    batches.reduce(0) { $0 + $1.spans.count } >= 2 && batches.reduce(0) { $0 + $1.logs.count } >= 2
                        && batches.reduce(0) { $0 + $1.sampleCount } >= 10
                }
                // Spans: the ids the SDK reports, with kind, status, parent and attributes.
                let spans = batches.flatMap(\.spans)
                #expect(Set(spans.map(\.spanIDHex)) == Set(sent.spans.map(\.span_id)))
                let root = try #require(spans.first { $0.name == "checkout" })
                let child = try #require(spans.first { $0.name == "charge card" })
                #expect(root.kind == .server && root.parentSpanID == nil && root.service == "shop")
                #expect(child.parentSpanID == root.spanID && child.traceID == root.traceID)
                #expect(root.traceIDHex == sent.spans.first?.trace_id)
                #expect(child.status == .error && child.statusMessage == "card declined" && child.attributes["amount"] == "12.5")
                #expect(root.attributes["http.method"] == "POST" && root.attributes["deployment.environment"] == "test")

                // Metrics: counter (cumulative, monotonic) → _total; up-down counter → gauge; histogram → buckets.
                var values: [String: Double] = [:]
                for series in batches.flatMap(\.series) {
                    #expect(series.labels["job"] == "demo/shop" && series.labels["service_name"] == "shop")
                    #expect(series.labels["otel_scope_name"] == "shop.metrics")
                    // The SDK sets service.instance.id, which is also `instance`.
                    #expect(series.labels["instance"] != nil && series.labels["instance"] == series.labels["service_instance_id"])
                    let key = series.labels.removing(["job", "instance", "service_instance_id", "service_name", "service_namespace", "deployment_environment",
                        "otel_scope_name", "otel_scope_version", "telemetry_sdk_language", "telemetry_sdk_name", "telemetry_sdk_version"]).description
                    values[key] = series.values.last
                }
                #expect(values[#"orders_total{region="eu"}"#] == 5, "\(values.keys.sorted())")
                #expect(values[#"orders_total{region="us"}"#] == 7)
                #expect(values["inflight_requests"] == 3)
                #expect(values[#"checkout_duration_bucket{le="0.1", method="card"}"#] == 1)
                #expect(values[#"checkout_duration_bucket{le="1", method="card"}"#] == 3)
                #expect(values[#"checkout_duration_bucket{le="10", method="card"}"#] == 4)
                #expect(values[#"checkout_duration_bucket{le="+Inf", method="card"}"#] == 5)
                #expect(values[#"checkout_duration_count{method="card"}"#] == 5)
                #expect(abs((values[#"checkout_duration_sum{method="card"}"#] ?? 0) - 24.25) < 1e-9)

                // Logs: body, severity, resource and record attributes as labels.
                let logs = batches.flatMap(\.logs)
                let retried = try #require(logs.first { $0.body == "payment retried" })
                #expect(retried.severity == .warn && retried.labels["order_id"] == "o-17" && retried.labels["job"] == "demo/shop")
                #expect(logs.contains { $0.body == "payment failed" && $0.severity == .error })
            }
            try await producer.shutdown()
        }
    }
}
