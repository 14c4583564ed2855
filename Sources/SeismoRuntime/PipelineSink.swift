import Logging
import Metrics
import SeismoCore
import SeismoDetect
import SeismoKafka
import SeismoPipeline
import SeismoStore
import SeismoStream
import SeismoWire
import Synchronization

/// Where the workers' flushes go: rows into the store, window outputs through the
/// detectors, anomalies into the store and onto the anomaly topic.
///
/// A flush is stored in one transaction, then its anomaly events are produced and
/// acknowledged; only then does `write` return and the worker commit its offsets.
final class PipelineSink: WindowSink {
    private let pipeline: Pipeline
    private let store: SQLiteStore
    private let producer: KafkaProducer
    private let detectors: Mutex<DetectorBank>
    private let logger: Logger
    private let storeWrite = Metrics.Timer(label: "seismo_store_write_duration_seconds", preferredDisplayUnit: .seconds)
    private let anomalyCounter = Counter(label: "seismo_anomalies_total")
    private let storedSamples = Counter(label: "seismo_store_samples_total")
    private let storedRows = Counter(label: "seismo_store_window_rows_total")
    private let onAnomaly: @Sendable (AnomalyEvent) -> Void
    /// Sees every flush's scored windows and their anomalies (alerting), once acknowledged.
    private let onScored: (@Sendable ([WindowOutput], [AnomalyEvent], ForecastLookup) -> Void)?
    private let newest = Atomic<Int64>(0)
    /// Per stream and group, the end of the newest window stored.
    private let storedUntil = Mutex<[String: [Labels: Int64]]>([:])

    /// The newest event time stored so far (milliseconds; 0 before the first flush).
    var newestEventTime: Int64 { newest.load(ordering: .relaxed) }

    private let models: ModelRepository?

    init(
        pipeline: Pipeline, store: SQLiteStore, producer: KafkaProducer, logger: Logger, models: ModelRepository? = nil,
        onAnomaly: @escaping @Sendable (AnomalyEvent) -> Void = { _ in },
        onScored: (@Sendable ([WindowOutput], [AnomalyEvent], ForecastLookup) -> Void)? = nil
    ) throws(RuntimeError) {
        self.onScored = onScored
        self.pipeline = pipeline
        self.store = store
        self.producer = producer
        self.logger = logger
        self.onAnomaly = onAnomaly
        self.models = models
        detectors = Mutex(try DetectorBank(pipeline: pipeline))
        reloadModels()
    }

    /// Whether any detector scores with a trained model.
    var hasTrainedDetectors: Bool { pipeline.detectors.contains { TrainedDetectors.kind(of: $0) != nil } }

    /// Installs newly promoted models (see `DetectorBank.reloadModels(from:)`).
    func reloadModels() {
        guard let models else { return }
        let changes = detectors.withLock { $0.reloadModels(from: models) }
        for change in changes { change.log(logger, pipeline: pipeline.name) }
    }

    func write(_ flush: WorkerFlush, worker: Int) async throws {
        let outputs = try await skipStored(
            flush.outputs.sorted { ($0.windowEnd, $0.windowStart) < ($1.windowEnd, $1.windowStart) })
        let (events, scored) = detectors.withLock { bank in (bank.score(outputs, detectedAt: .now), bank.scored) }

        var appender = store.appender()
        if pipeline.outputs.storeRaw {
            for series in flush.raw {
                for i in 0..<series.count {
                    appender.append(series.labels, timestamp: series.timestamps[i], value: series.values[i])
                }
            }
        }
        if pipeline.outputs.storeAggregates {
            for output in outputs { appender.append(row(for: output), asSeries: true) }
        }
        for event in events { appender.append(record(for: event)) }
        for window in scored { appendDetectorSeries(window, to: &appender) }
        var latest = outputs.last?.windowEnd ?? 0
        for series in flush.raw { latest = max(latest, series.timestamps.last ?? 0) }
        let started = ContinuousClock.now
        try await appender.commit()
        newest.max(latest, ordering: .relaxed)
        storeWrite.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        storedSamples.increment(by: Int64(pipeline.outputs.storeRaw ? flush.rawSampleCount : 0))
        storedRows.increment(by: Int64(outputs.count))

        guard !events.isEmpty else {
            if !outputs.isEmpty { onScored?(outputs, [], forecasts) }
            return
        }
        let records = events.map { event in
            ProducerRecord(
                topic: pipeline.outputs.anomalyTopic, key: Array(event.id.utf8), value: AnomalyEventCodec.encode(event),
                headers: [KafkaHeader(WireHeaders.contentType, WireHeaders.anomalyEventJSON)])
        }
        let reports = try await producer.send(records)
        if let failed = reports.first(where: { !$0.isDelivered }) {
            throw failed.error ?? KafkaError(.other, "anomaly event not delivered")
        }
        anomalyCounter.increment(by: Int64(events.count))
        for event in events { onAnomaly(event) }
        onScored?(outputs, events, forecasts)
    }

    /// The detectors' forecasts, as they stand after the windows just scored.
    private var forecasts: ForecastLookup {
        ForecastLookup { [self] detector, group, feature, threshold, time, horizon, below in
            self.detectors.withLock {
                $0.timeToCross(
                    detector: detector, group: group, feature: feature, threshold: threshold, after: time, horizon: horizon,
                    below: below)
            }
        }
    }

    /// Drops on-time outputs that are already stored, after learning the stored history of
    /// groups this process has not seen yet.
    ///
    /// A worker that starts (after a crash, or when a partition moves to it) replays from
    /// the committed offset, which lies before every window that was still open — and
    /// before the previous sample of every counter those windows need. Windows it then
    /// recomputes that were already stored closed earlier, from records partly before that
    /// offset, so the stored row is the complete one: it is kept, and the recomputed one is
    /// dropped. Late updates always pass.
    private func skipStored(_ outputs: [WindowOutput]) async throws -> [WindowOutput] {
        let unseen = storedUntil.withLock { known in
            var unseen: [String: (groups: Set<Labels>, earliest: Int64)] = [:]
            for output in outputs where known[output.stream]?[output.group] == nil {
                var entry = unseen[output.stream] ?? ([], .max)
                entry.groups.insert(output.group)
                entry.earliest = min(entry.earliest, output.windowEnd)
                unseen[output.stream] = entry
            }
            return unseen
        }
        for (stream, entry) in unseen {
            let span = detectors.withLock { $0.warmUpSpan(stream: stream) }
            let rows = try await store.featureRows(
                table: pipeline.outputs.featureTable, from: entry.earliest - span, to: .max
            ).filter { $0.stream == stream && entry.groups.contains($0.group) }
            detectors.withLock { $0.warmUp(stream: stream, groups: entry.groups, rows: rows) }
            storedUntil.withLock { known in
                var table = known[stream] ?? [:]
                for group in entry.groups where table[group] == nil { table[group] = .min }
                for row in rows { table[row.group] = max(table[row.group] ?? .min, row.windowEnd) }
                known[stream] = table
            }
        }
        return storedUntil.withLock { known in
            outputs.filter { output in
                let until = known[output.stream]?[output.group] ?? .min
                guard output.emission == .update || output.windowEnd > until else { return false }
                known[output.stream, default: [:]][output.group] = max(until, output.windowEnd)
                return true
            }
        }
    }

    /// Stores a verdict as samples at the window's end, so dashboards can draw it beside the
    /// data: `seismo_anomaly_score`, `seismo_anomaly_threshold` and, when the detector gives
    /// them, `seismo_expected_value`, `seismo_expected_lower` and `seismo_expected_upper`, each
    /// with the group's labels plus `detector` and `pipeline`.
    private func appendDetectorSeries(_ window: DetectorVerdictRecord, to appender: inout some Appender) {
        let base = window.group.removing([Labels.metricName, "detector", "pipeline"])
        let values: [(String, Double?)] = [
            ("seismo_anomaly_score", window.verdict.score), ("seismo_anomaly_threshold", window.verdict.threshold),
            ("seismo_expected_value", window.verdict.expected), ("seismo_expected_lower", window.verdict.lower),
            ("seismo_expected_upper", window.verdict.upper),
        ]
        for (name, value) in values {
            guard let value,
                let labels = try? Labels(
                    validating: base.pairs + [
                        Label(Labels.metricName, name), Label("detector", window.detector), Label("pipeline", pipeline.name),
                    ])
            else { continue }
            appender.append(labels, timestamp: window.windowEnd, value: value)
        }
    }

    private func row(for output: WindowOutput) -> WindowRow {
        let names = pipeline.stream(named: output.stream)?.featureNames ?? []
        return WindowRow(
            table: pipeline.outputs.featureTable, stream: output.stream, windowStart: output.windowStart,
            windowEnd: output.windowEnd, group: output.group,
            features: zip(names, output.values).map { (name: $0, value: $1) }, sampleCount: output.sampleCount)
    }

    private func record(for event: AnomalyEvent) -> AnomalyRecord {
        let group = (try? Labels(validating: event.group)) ?? Labels()
        return AnomalyRecord(
            id: event.id, pipeline: event.pipeline, detector: event.detector, group: group,
            windowStart: event.windowStart.milliseconds, windowEnd: event.windowEnd.milliseconds, score: event.score,
            threshold: event.threshold, severity: event.severity.rawValue,
            json: String(decoding: AnomalyEventCodec.encode(event), as: UTF8.self))
    }
}
