import SeismoCore
import SeismoTesting
import Testing
@testable import SeismoPipeline

@Suite("defaults filled in by the loader")
struct DefaultsTests {
    @Test("a minimal spec gets every default")
    func minimal() throws {
        let pipeline = try load(minimalSpec)
        #expect(pipeline.name == "t")
        #expect(pipeline.kafka.usesEmbeddedCluster)
        #expect(pipeline.kafka.consumerGroup == "seismo.t")
        #expect(pipeline.kafka.topics == [
            TopicSpec(name: "signals.t", partitions: 4, keyLabels: ["service"]),
            TopicSpec(name: "anomalies.t", partitions: 1), TopicSpec(name: "deadletter.t", partitions: 1),
        ])
        #expect(pipeline.outputs == OutputSpec(featureTable: "t_features", anomalyTopic: "anomalies.t", deadLetterTopic: "deadletter.t"))
        #expect(pipeline.runtime == RuntimeSettings())
        let window = pipeline.streams[0].window
        #expect(window == WindowSpec(kind: .tumbling, size: .seconds(60)))
        #expect(window.hop == .seconds(60))
        #expect(window.latePolicy == .drop)
        #expect(window.idleTimeout == .seconds(30))
        #expect(window.lateRetention == .seconds(60))
        #expect(pipeline.streams[0].selector.isEmpty)
    }

    @Test("used topics that are not declared are added: signals first, then anomalies, then dead letter")
    func topicOrder() throws {
        let pipeline = try load(
            """
            pipeline: my-pipe
            collectors:
              - {name: a, type: synthetic, topic: signals.b}
              - {name: b, type: file, topic: signals.a, path: x.prom}
            streams:
              - {name: s, topic: signals.a, window: {size: 1m}, without: [], aggregations: {n: {fn: count}}}
            outputs: {anomalies: {topic: alerts}}
            """)
        #expect(pipeline.kafka.topics.map(\.name) == ["signals.b", "signals.a", "alerts", "deadletter.my-pipe"])
        #expect(pipeline.kafka.topics.map(\.partitions) == [4, 4, 1, 1])
        #expect(pipeline.kafka.topics[0].keyLabels == nil)
        #expect(pipeline.outputs.featureTable == "my_pipe_features")
        guard case .file(let file) = pipeline.collectors[1].kind else {
            Issue.record("expected a file collector")
            return
        }
        #expect(file == FileReplaySpec(path: "x.prom", format: .exposition, speed: 0, loop: false))
        guard case .synthetic(let synthetic) = pipeline.collectors[0].kind else { return }
        #expect(synthetic == SyntheticSpec())
    }

    @Test("a file collector's format comes from the extension or format:")
    func fileFormat() throws {
        let base = "pipeline: t\ncollectors: [{name: a, type: file, topic: s, path: data.log"
        #expect(try onlyIssue(base + "}]").message.contains("set format: csv or exposition"))
        let pipeline = try load(base + ", format: csv}]")
        #expect(pipeline.collectors[0].kind == .file(FileReplaySpec(path: "data.log", format: .csv)))
    }

    @Test("kafka settings: brokers, properties as strings, consumer group")
    func kafka() throws {
        let pipeline = try load(
            minimalSpec.replacingOccurrences(
                of: "kafka:\n", with: "kafka:\n  brokers: [k1:9092]\n  properties: {linger.ms: 5, enable.idempotence: true}\n  consumer_group: g\n"))
        #expect(pipeline.kafka.brokers == ["k1:9092"])
        #expect(!pipeline.kafka.usesEmbeddedCluster)
        #expect(pipeline.kafka.properties == ["linger.ms": "5", "enable.idempotence": "true"])
        #expect(pipeline.kafka.consumerGroup == "g")
    }

    @Test("detector parameters get their type's defaults; unknown ones are errors with suggestions")
    func detectorParameters() throws {
        let detector = minimalSpec + "\ndetectors: [{name: d, type: zscore, stream: s, features: [n]}]"
        let pipeline = try load(detector)
        #expect(pipeline.detectors[0].parameters == ["history": .number(60), "min_history": .number(10), "z": .number(3.5)])
        #expect(pipeline.detectors[0].threshold == nil)

        let tuned = try load(detector.replacingOccurrences(of: "features: [n]}", with: "features: [n], threshold: 2, params: {z: 4}}"))
        #expect(tuned.detectors[0].parameters["z"] == .number(4))
        #expect(tuned.detectors[0].threshold == 2)

        var issue = try onlyIssue(detector.replacingOccurrences(of: "features: [n]}", with: "features: [n], params: {hist: 5}}"))
        #expect(issue.message == "unknown key 'hist'; did you mean 'history'?")
        issue = try onlyIssue(detector.replacingOccurrences(of: "features: [n]}", with: "features: [n], params: {history: 2}}"))
        #expect(issue.message == "must be at least 3, got 2")
        issue = try onlyIssue(detector.replacingOccurrences(of: "features: [n]}", with: "features: [n], params: {history: 5, min_history: 9}}"))
        #expect(issue.path == "detectors[0].params.min_history")
        issue = try onlyIssue(detector.replacingOccurrences(of: "type: zscore", with: "type: isolation"))
        #expect(issue.message.contains("unknown type 'isolation'"))
    }

    @Test("the catalog lists each type's parameters in one place")
    func catalog() {
        let zscore = DetectorCatalog.type(named: "zscore")
        #expect(zscore?.parameters.map(\.name) == ["history", "min_history", "z"])
        #expect(zscore?.parameter(named: "z")?.defaultValue == .number(3.5))
    }
}

@Suite("the shipped pipelines")
struct ShippedPipelineTests {
    static let files = ["pipelines/demo.yaml", "pipelines/examples/replay.yaml", "pipelines/examples/receivers.yaml"]

    @Test("the demo pipeline loads as documented")
    func demo() throws {
        let pipeline = try PipelineLoader.load(path: repositoryRoot.appendingPathComponent("pipelines/demo.yaml").path)
        #expect(pipeline.name == "demo")
        #expect(pipeline.kafka.topics.map(\.name) == ["signals.demo", "anomalies.demo", "deadletter.demo", "alerts.demo"])
        // Alerts from the z-score detector, to Kafka only.
        #expect(pipeline.alerting?.rules.map(\.name) == ["ServiceAnomaly"])
        #expect(pipeline.alerting?.alertmanagers == [])
        guard case .synthetic(let synthetic) = pipeline.collectors.first?.kind else {
            Issue.record("the demo's collector is synthetic")
            return
        }
        #expect(synthetic.services.count == 3 && synthetic.instances == 2)
        #expect(synthetic.groundTruthPath == "data/demo-truth.json")
        // Anomalies within the first ~40 s of wall time.
        for anomaly in synthetic.anomalies {
            let wallSeconds = Double(anomaly.at.components.seconds) / synthetic.speed
            #expect(wallSeconds <= 40)
        }
        let http = try #require(pipeline.stream(named: "http"))
        #expect(http.featureNames == ["requests", "errors", "latency_p99", "latency_avg", "error_ratio"])
        #expect(http.window.kind == .hopping && http.window.hop == .seconds(30) && http.window.latePolicy == .update)
        #expect(http.grouping == .by(["service"]))
        #expect(http.aggregations[1].selector.map(\.description) == ["__name__=\"http_requests_total\"", "code=~\"5..\""])
        #expect(http.aggregations[2].function == .quantile(q: 0.99, relativeError: 0.01))
        #expect(pipeline.detectors.map(\.features) == [["latency_p99", "error_ratio", "requests"]])
    }

    @Test("every shipped pipeline loads and validates against the JSON Schema (python jsonschema)", arguments: files)
    func schema(file: String) async throws {
        _ = try PipelineLoader.load(path: repositoryRoot.appendingPathComponent(file).path)
        let result = try await SchemaCheck.run(repositoryRoot.appendingPathComponent(file).path)
        #expect(result.valid, "\(result.output)")
    }

    @Test("the schema rejects what the loader rejects: an unknown key and a bad enum")
    func schemaRejects() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bad-\(UInt32.random(in: 0...UInt32.max)).yaml")
        try (minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: cnt}") + "\nruntme: {}").write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let result = try await SchemaCheck.run(path.path)
        #expect(!result.valid)
        #expect(result.output.contains("runtme") && result.output.contains("cnt"))
    }
}

import Foundation

/// Runs python3's `jsonschema` (Draft 2020-12) on a YAML file against schemas/pipeline.v1.schema.json.
enum SchemaCheck {
    static func run(_ yamlPath: String) async throws -> (valid: Bool, output: String) {
        // YAML timestamps stay strings, as the loader reads them.
        let script = """
            import json, sys, yaml
            from jsonschema import Draft202012Validator
            class Loader(yaml.SafeLoader): pass
            Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != 'tag:yaml.org,2002:timestamp']
                for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
            schema = json.load(open(sys.argv[1]))
            Draft202012Validator.check_schema(schema)
            validator = Draft202012Validator(schema)
            errors = [e.message for e in validator.iter_errors(yaml.load(open(sys.argv[2]), Loader=Loader))]
            print("\\n".join(errors))
            sys.exit(1 if errors else 0)
            """
        let schema = repositoryRoot.appendingPathComponent("schemas/pipeline.v1.schema.json").path
        let run = try await ProcessRunner.run("/usr/bin/env", ["python3", "-c", script, schema, yamlPath])
        return (run.status == 0, run.stdout + run.stderr)
    }
}

@Suite("trained detector types and the threshold override")
struct TrainedDetectorSpecTests {
    let base = minimalSpec + "\ndetectors: [{name: d, type: TYPE, stream: s, features: [n]}]"

    func spec(_ type: String, _ extra: String = "") -> String {
        base.replacingOccurrences(of: "TYPE", with: type)
            .replacingOccurrences(of: "features: [n]}", with: "features: [n]\(extra)}")
    }

    @Test("isolation_forest, autoencoder and seasonal load with their defaults, including false_positive_rate")
    func defaults() throws {
        let forest = try load(spec("isolation_forest")).detectors[0]
        #expect(forest.parameters["trees"] == .number(100) && forest.parameters["extended"] == .bool(false))
        #expect(forest.parameters["false_positive_rate"] == .number(0.01))
        let autoencoder = try load(spec("autoencoder")).detectors[0]
        #expect(autoencoder.parameters["layers"] == .list([.number(16), .number(4)]))
        #expect(autoencoder.parameters["activation"] == .string("tanh"))
        let seasonal = try load(spec("seasonal", ", params: {periods: [86400, 604800]}")).detectors[0]
        #expect(seasonal.parameters["periods"] == .list([.number(86400), .number(604800)]))
        #expect(DetectorCatalog.trainedTypes == ["isolation_forest", "autoencoder", "seasonal"])
    }

    @Test("threshold overrides the calibrated one on every type; it must be a number > 0", arguments: ["zscore", "isolation_forest", "autoencoder", "seasonal"])
    func threshold(type: String) throws {
        #expect(try load(spec(type, ", threshold: 1.5")).detectors[0].threshold == 1.5)
        var issue = try onlyIssue(spec(type, ", threshold: 0"))
        #expect(issue.path == "detectors[0].threshold")
        #expect(issue.message.contains("must be > 0"))
        issue = try onlyIssue(spec(type, ", threshold: high"))
        #expect(issue.path == "detectors[0].threshold")
    }

    @Test("bad trained-type parameters are errors at their YAML path")
    func badParameters() throws {
        var issue = try onlyIssue(spec("isolation_forest", ", params: {false_positive_rate: 0.9}"))
        #expect(issue.path == "detectors[0].params.false_positive_rate")
        issue = try onlyIssue(spec("autoencoder", ", params: {activation: softmax}"))
        #expect(issue.message.contains("unknown value 'softmax'"))
        issue = try onlyIssue(spec("autoencoder", ", params: {layers: [8, 0.5]}"))
        #expect(issue.path == "detectors[0].params.layers")
        issue = try onlyIssue(spec("seasonal", ", params: {periods: [-5]}"))
        #expect(issue.path == "detectors[0].params.periods")
        issue = try onlyIssue(spec("seasonal", ", params: {trees: 5}"))
        #expect(issue.message.contains("unknown key 'trees'"))
    }

    @Test("the JSON Schema accepts the trained types and their threshold, and rejects a threshold of 0")
    func schema() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("good.yaml")
        try spec("autoencoder", ", threshold: 1.2, params: {layers: [8, 2], activation: relu, false_positive_rate: 0.02}")
            .write(to: good, atomically: true, encoding: .utf8)
        let accepted = try await SchemaCheck.run(good.path)
        #expect(accepted.valid, "\(accepted.output)")
        let bad = directory.appendingPathComponent("bad.yaml")
        try spec("seasonal", ", threshold: 0").write(to: bad, atomically: true, encoding: .utf8)
        let refused = try await SchemaCheck.run(bad.path)
        #expect(!refused.valid && refused.output.contains("0"))
    }
}
