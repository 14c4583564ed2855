import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import SeismoKafka
import SeismoPipeline

/// Options every command that talks to Kafka shares.
struct KafkaOptions: ParsableArguments {
    @Option(name: .long, help: "Kafka bootstrap servers, host:port[,…]. Default: $SEISMO_BROKERS.")
    var brokers: String?

    @Option(name: .customLong("kafka-property"), help: "A librdkafka setting, key=value (repeatable), e.g. security.protocol=SASL_SSL.")
    var properties: [String] = []

    @Option(name: .long, help: "Seconds to wait for a broker before giving up.")
    var connectTimeout: Double = 5

    @Flag(name: .long, help: "Show librdkafka's own log lines.")
    var verbose = false

    /// The client settings, or a usage error that says how to name a cluster.
    func client() throws -> KafkaClientConfiguration {
        guard let servers = brokers ?? ProcessInfo.processInfo.environment["SEISMO_BROKERS"], !servers.isEmpty else {
            throw ValidationError(
                "no Kafka brokers: pass --brokers host:port or set SEISMO_BROKERS (`seismo broker` starts one and prints its address)"
            )
        }
        var extra: [String: String] = [:]
        for property in properties {
            guard let eq = property.firstIndex(of: "="), eq != property.startIndex else {
                throw ValidationError("--kafka-property takes key=value, got \(property.debugDescription)")
            }
            extra[String(property[..<eq])] = String(property[property.index(after: eq)...])
        }
        return KafkaClientConfiguration(
            bootstrapServers: servers, clientID: "seismo-cli", socketTimeout: .milliseconds(Int64(connectTimeout * 1000)),
            properties: extra)
    }

    var logger: Logger {
        var logger = Logger(label: "seismo")
        logger.logLevel = verbose ? .debug : .critical
        return logger
    }

    /// An admin client that has reached a broker, or a clear error within the timeout.
    func connectedAdmin() async throws -> KafkaAdmin {
        let client = try client()
        let admin = try KafkaAdmin(configuration: client, logger: logger)
        do {
            try await admin.checkConnectivity(timeout: .milliseconds(Int64(connectTimeout * 1000)))
        } catch {
            throw CLIError("cannot reach Kafka at \(client.bootstrapServers): \(error.message)")
        }
        return admin
    }
}

/// A failure reported to the user as one line on stderr, with a non-zero exit.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// What a long-running command (`run`, `collect`) sets up first: the pipeline, or its
/// errors on stderr and exit status 2; the logger; `/metrics`' registry as the metrics backend.
struct ServiceCommandSetup {
    let pipeline: Pipeline
    let logger: Logger
    let registry: PrometheusCollectorRegistry

    init(pipeline path: String, logLevel: String) throws {
        do {
            pipeline = try PipelineLoader.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        var logger = Logger(label: "seismo")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .notice
        self.logger = logger
        registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
