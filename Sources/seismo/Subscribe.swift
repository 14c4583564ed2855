import ArgumentParser
import Foundation
import SeismoAlert
import SeismoCore
import SeismoKafka
import SeismoWire

/// `seismo subscribe`: read a topic and print what is on it.
struct Subscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the signals or anomaly events on a topic.",
        discussion: """
            Records are decoded by their content-type header, or by trying each Seismo \
            encoding when there is none (records written by other clients). A record that \
            does not decode is reported on stderr with its partition and offset, and reading \
            goes on.
            """)

    @OptionGroup var kafka: KafkaOptions

    @Argument(help: "The topic to read.")
    var topic: String

    @Flag(name: .long, help: "Start at the oldest record instead of the newest.")
    var fromBeginning = false

    @Flag(name: .long, help: "Print JSON lines instead of text.")
    var json = false

    @Option(name: .long, help: "Join this consumer group and commit what was printed.")
    var group: String?

    @Flag(name: [.customShort("e"), .long], help: "Exit after the records that were on the topic at start.")
    var exitAtEnd = false

    @Option(name: .long, help: "Exit after this many records.")
    var max: Int?

    @Flag(name: .long, help: "Redraw one row per record key in place (the newest line of each: an alert's current state) instead of printing every record.")
    var live = false

    @OptionGroup(title: "Filters") var filter: SubscribeFilter

    func run() async throws {
        let admin = try await kafka.connectedAdmin()
        let description: TopicDescription
        do {
            guard let found = try await admin.listTopics([topic]).first else { throw CLIError("topic \(topic) not found") }
            description = found
        } catch let error as KafkaError {
            throw CLIError(error.message)
        }
        var end: [TopicPartition: Int64] = [:]
        for p in description.partitions where p.highWatermark > (fromBeginning ? p.lowWatermark : p.highWatermark) {
            end[TopicPartition(topic, p.id)] = p.highWatermark
        }
        if exitAtEnd && end.isEmpty { return }

        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(
                client: try kafka.client(), groupID: group, offsetReset: fromBeginning ? .earliest : .latest),
            logger: kafka.logger)
        if group != nil {
            try consumer.subscribe([topic])
        } else {
            var start: [TopicPartition: StartOffset] = [:]
            for p in description.partitions { start[TopicPartition(topic, p.id)] = fromBeginning ? .beginning : .end }
            try consumer.assign(start)
        }

        var printer = RecordPrinter(json: json, filter: filter)
        var view = live ? LiveView(topic: topic) : nil
        var drawn = ContinuousClock.now - .seconds(1)
        var dirty = false
        var printed = 0
        var undecodable = 0
        reading: while true {
            guard case .records(let records) = try await consumer.poll(timeout: .milliseconds(200)) else { continue }
            var next: [TopicPartition: Int64] = [:]
            for record in records {
                do {
                    for line in try printer.lines(for: record) {
                        if view != nil {
                            view?.update(key: record.key.map { String(decoding: $0, as: UTF8.self) }, line: line)
                            dirty = true
                        } else {
                            print(line)
                        }
                    }
                } catch {
                    undecodable += 1
                    printError("\(record.topic)[\(record.partition)]@\(record.offset): cannot decode: \(error)")
                }
                printed += 1
                next[record.topicPartition] = record.offset + 1
                if let endOffset = end[record.topicPartition], record.offset + 1 >= endOffset {
                    end[record.topicPartition] = nil
                }
                if let max, printed >= max { break }
            }
            // Empty polls come every 200 ms, so the newest state is drawn within that of arriving.
            if let view, dirty, ContinuousClock.now - drawn >= .milliseconds(250) {
                print(view.screen(), terminator: "")
                drawn = ContinuousClock.now
                dirty = false
            }
            fflush(nil)
            if group != nil { try consumer.commitAsync(next) }
            if let max, printed >= max { break reading }
            if exitAtEnd && end.isEmpty { break reading }
        }
        if let view { print(view.screen(), terminator: "") }
        await consumer.close()
        if undecodable > 0 { printError("\(undecodable) record(s) could not be decoded") }
    }
}

/// Renders consumed records as text or JSON lines.
struct RecordPrinter {
    var json: Bool
    var filter: SubscribeFilter?
    /// Keeps label sets across records, as a long-running reader should.
    private var decoder = SignalDecoder()

    init(json: Bool, filter: SubscribeFilter? = nil) {
        self.json = json
        self.filter = filter
    }

    enum Kind { case signals, anomaly, unknown }

    mutating func lines(for record: ConsumerRecord) throws -> [String] {
        let value = record.value ?? []
        switch kind(of: record) {
        case .signals:
            return render(try decoder.decode(value), record)
        case .anomaly:
            if let alert = SubscribeFilter.decodeAlert(value) { return render(alert, raw: value) }
            return render(try AnomalyEventCodec.decode(value), raw: value)
        case .unknown:
            // No header: another client wrote it. Try each encoding, the JSON ones first.
            if let alert = SubscribeFilter.decodeAlert(value) { return render(alert, raw: value) }
            if let event = try? AnomalyEventCodec.decode(value) { return render(event, raw: value) }
            if let batch = try? decoder.decode(value) { return render(batch, record) }
            throw CLIError("not a Seismo signal batch or anomaly event (\(value.count) bytes)")
        }
    }

    private func render(_ alert: Payloads.AlertRecord, raw: [UInt8]) -> [String] {
        guard filter?.accepts(alert: alert) ?? true else { return [] }
        return [json ? String(decoding: raw, as: UTF8.self) : SubscribeFilter.line(alert)]
    }

    private func kind(of record: ConsumerRecord) -> Kind {
        switch record.header(WireHeaders.contentType) {
        case WireHeaders.signalBatchV1?: .signals
        case WireHeaders.anomalyEventJSON?: .anomaly
        default: .unknown
        }
    }

    private func render(_ batch: SignalBatch, _ record: ConsumerRecord) -> [String] {
        var lines: [String] = []
        guard filter?.acceptsSignals ?? true else { return [] }
        for series in batch.series {
            for i in 0..<series.count {
                let ts = Timestamp(milliseconds: series.timestamps[i])
                let value = series.values[i]
                if json {
                    lines.append(
                        jsonObject([
                            ("kind", "\"sample\""), ("partition", "\(record.partition)"), ("offset", "\(record.offset)"),
                            ("labels", jsonLabels(series.labels)), ("timestamp", "\(ts.milliseconds)"),
                            ("value", jsonNumber(value)),
                        ]))
                } else {
                    lines.append("\(ts)  \(series.labels)  \(formatValue(value))")
                }
            }
        }
        for log in batch.logs {
            if json {
                lines.append(
                    jsonObject([
                        ("kind", "\"log\""), ("labels", jsonLabels(log.labels)), ("unix_nanos", "\(log.unixNanos)"),
                        ("severity", JSONQuoting.quote("\(log.severity)")), ("body", JSONQuoting.quote(log.body)),
                    ]))
            } else {
                lines.append("\(log.timestamp)  \(log.labels)  \(log.severity)  \(log.body)")
            }
        }
        for span in batch.spans {
            let start = Timestamp(milliseconds: span.startUnixNanos / 1_000_000)
            if json {
                lines.append(
                    jsonObject([
                        ("kind", "\"span\""), ("trace_id", JSONQuoting.quote(span.traceIDHex)), ("span_id", JSONQuoting.quote(span.spanIDHex)),
                        ("service", JSONQuoting.quote(span.service)), ("name", JSONQuoting.quote(span.name)),
                        ("start_unix_nanos", "\(span.startUnixNanos)"), ("duration_nanos", "\(span.durationNanos)"),
                        ("status", JSONQuoting.quote("\(span.status)")),
                    ]))
            } else {
                lines.append(
                    "\(start)  \(span.service)/\(span.name)  trace=\(span.traceIDHex) span=\(span.spanIDHex) "
                        + "duration=\(Double(span.durationNanos) / 1e6)ms status=\(span.status)")
            }
        }
        return lines
    }

    private func render(_ event: AnomalyEvent, raw: [UInt8]) -> [String] {
        guard filter?.accepts(event) ?? true else { return [] }
        return [line(for: event, raw: raw)]
    }

    private func line(for event: AnomalyEvent, raw: [UInt8]) -> String {
        if json { return String(decoding: raw, as: UTF8.self) }
        let group = event.group.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ", ")
        let observed = event.observed.sorted { $0.key < $1.key }.map { "\($0.key)=\(formatValue($0.value))" }
            .joined(separator: " ")
        var line = "\(event.windowEnd)  ANOMALY \(event.severity.rawValue)  \(event.pipeline)/\(event.detector)  {\(group)}"
        line += "  score=\(formatValue(event.score)) threshold=\(formatValue(event.threshold))  \(observed)"
        if let expected = event.expected { line += "  expected=\(formatValue(expected))" }
        return line
    }
}

func formatValue(_ value: Double) -> String {
    if StaleMarker.isStale(value) { return "stale" }
    if value.isNaN { return "NaN" }
    if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    return String(value)
}

func jsonNumber(_ value: Double) -> String {
    value.isFinite ? formatValue(value) : JSONQuoting.quote(formatValue(value))
}


func jsonLabels(_ labels: Labels) -> String {
    "{" + labels.map { "\(JSONQuoting.quote($0.name)):\(JSONQuoting.quote($0.value))" }.joined(separator: ",") + "}"
}

func jsonObject(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(JSONQuoting.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}"
}
