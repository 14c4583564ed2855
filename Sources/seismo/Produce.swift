import ArgumentParser
import Foundation
import SeismoCore
import SeismoKafka
import SeismoWire

/// `seismo produce`: text signals in, normalized signal batches out.
struct Produce: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish samples from a Prometheus exposition file or a CSV file.",
        discussion: """
            Exposition: Prometheus text format 0.0.4; samples without a timestamp get the \
            current time. CSV: rows `timestamp,value,name=…,label=…` (RFC 3339, Unix seconds \
            or milliseconds, or `YYYY-MM-DD HH:MM:SS` in UTC). Bad lines are reported with \
            their line numbers and the rest is published. Exit status: 0 when every line was \
            published, 2 when some lines were rejected, 1 when nothing could be published.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case auto, prom, csv
    }

    @OptionGroup var kafka: KafkaOptions

    @Option(name: .long, help: "The topic to publish to.")
    var topic: String

    @Option(name: .long, help: "Input format: auto (by extension, or by content for stdin), prom or csv.")
    var format: Format = .auto

    @Option(name: .long, help: "Metric name for CSV rows without name=…")
    var metric = "value"

    @Option(name: .long, help: "Most samples in one Kafka record.")
    var maxSamplesPerRecord = 1000

    @Argument(help: "The file to read, or - for standard input.")
    var input: String

    func run() async throws {
        guard maxSamplesPerRecord > 0 else { throw ValidationError("--max-samples-per-record must be positive") }
        let data: Data
        if input == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: input) else {
                throw CLIError("cannot read \(input)")
            }
            data = contents
        }
        let result: ParseResult
        switch resolvedFormat(data) {
        case .csv: result = CSVSignalParser.parse(Array(data), defaultMetricName: metric)
        default: result = ExpositionParser.parse(Array(data), defaultTimestamp: .now)
        }
        let name = input == "-" ? "<stdin>" : input
        for issue in result.issues {
            printError("\(name):\(issue.line): \(issue.message)")
        }
        guard !result.samples.isEmpty else {
            throw CLIError("no samples to publish (\(result.issues.count) line(s) rejected)")
        }

        let admin = try await kafka.connectedAdmin()
        let partitions = try await admin.partitionCount(of: topic)
        let batcher = SignalBatcher(
            partitionCount: partitions, maxSamplesPerRecord: maxSamplesPerRecord, source: "seismo-produce")
        let encoded = batcher.records(samples: result.samples)
        let header = KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)
        let records = encoded.map {
            ProducerRecord(topic: topic, partition: $0.partition, key: $0.key, value: $0.payload, headers: [header])
        }
        var configuration = KafkaProducerConfiguration(client: try kafka.client())
        configuration.deliveryTimeout = .seconds(max(5, Int64(kafka.connectTimeout * 2)))
        let producer = try KafkaProducer(configuration: configuration, logger: kafka.logger)
        let reports = try await producer.send(records)
        try await producer.shutdown()

        let failed = reports.filter { !$0.isDelivered }
        let delivered = zip(encoded, reports).filter { $0.1.isDelivered }.reduce(0) { $0 + $1.0.sampleCount }
        print(
            "published \(delivered) sample(s) in \(reports.count - failed.count) record(s) to \(topic) "
                + "(\(partitions) partitions); rejected \(result.issues.count) line(s)")
        if let first = failed.first?.error {
            throw CLIError("\(failed.count) record(s) were not delivered: \(first.message)")
        }
        if !result.issues.isEmpty { throw ExitCode(2) }
    }

    private func resolvedFormat(_ data: Data) -> Format {
        if format != .auto { return format }
        if input.hasSuffix(".csv") { return .csv }
        if input.hasSuffix(".prom") || input.hasSuffix(".txt") { return .prom }
        // Sniff: the first line that is not a comment or blank.
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            if trimmed.lowercased().hasPrefix("timestamp,") { return .csv }
            if let first = trimmed.first, first.isNumber, trimmed.contains(",") { return .csv }
            return .prom
        }
        return .prom
    }
}
