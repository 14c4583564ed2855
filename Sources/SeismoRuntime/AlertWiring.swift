import Foundation
import SeismoAlert
import SeismoCore
import SeismoPipeline
import SeismoServer
import SeismoStore
import SeismoStream
import SeismoWire

/// Alert state in the store's `alert_state` table, one document per pipeline.
struct StoreAlertPersistence: AlertStatePersistence {
    let store: SQLiteStore
    let key: String

    func load() async throws -> [UInt8]? { try await store.alertState(key: key) }
    func save(_ state: [UInt8]) async throws { try await store.saveAlertState(key: key, state) }
}

/// A detector's forecast, asked for one group: seconds after `time` until `feature` reaches
/// `threshold` within `horizon` seconds (see `DetectorBank.timeToCross`).
struct ForecastLookup: Sendable {
    let timeToCross:
        @Sendable (
            _ detector: String, _ group: Labels, _ feature: String, _ threshold: Double, _ time: Double, _ horizon: Double,
            _ below: Bool
        ) -> Double?
}

/// Turns a flush's window outputs into what the alert rules read.
struct AlertFeed: Sendable {
    /// Per stream that some rule reads, its feature names.
    let features: [String: [String]]
    /// Per stream, the predictive rules that take a detector's forecast.
    let forecastRules: [String: [(rule: String, condition: PredictiveCondition)]]

    init(pipeline: Pipeline, spec: AlertingSpec) {
        var streams: Set<String> = []
        var forecastRules: [String: [(rule: String, condition: PredictiveCondition)]] = [:]
        for rule in spec.rules {
            switch rule.condition {
            case .anomaly(let c): streams.insert(c.stream)
            case .predictive(let c):
                streams.insert(c.stream)
                if c.detector != nil { forecastRules[c.stream, default: []].append((rule.name, c)) }
            case .query: break
            }
        }
        var features: [String: [String]] = [:]
        for name in streams { features[name] = pipeline.stream(named: name)?.featureNames ?? [] }
        self.features = features
        self.forecastRules = forecastRules
    }

    func input(_ outputs: [WindowOutput], _ events: [AnomalyEvent], forecasts: ForecastLookup) -> AlertInput {
        var windows: [ScoredWindow] = []
        for output in outputs {
            guard let names = features[output.stream] else { continue }
            var values: [String: Double] = [:]
            for (name, value) in zip(names, output.values) where value.isFinite { values[name] = value }
            var crossings: [String: Double] = [:]
            for (rule, c) in forecastRules[output.stream] ?? [] {
                guard let detector = c.detector else { continue }
                crossings[rule] = forecasts.timeToCross(
                    detector, output.group, c.feature, c.threshold, Double(output.windowEnd) / 1000,
                    Double(c.within.milliseconds) / 1000, c.below)
            }
            windows.append(
                ScoredWindow(
                    stream: output.stream,
                    group: Dictionary(output.group.pairs.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                    windowStart: output.windowStart, windowEnd: output.windowEnd, features: values, crossings: crossings))
        }
        return AlertInput(windows: windows, events: events)
    }
}

/// The alerting HTTP API over an `AlertService`.
struct AlertServiceAPI: AlertsAPI {
    let service: AlertService<ContinuousClock>

    struct Listed: Encodable {
        var fingerprint: String
        var status: String
        var labels: [String: String]
        var annotations: [String: String]
        var startsAt: String
        var endsAt: String?
        var silencedBy: [String]
        var inhibited: Bool
        enum CodingKeys: String, CodingKey {
            case fingerprint, status, labels, annotations
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case silencedBy = "silenced_by"
            case inhibited
        }
    }

    struct ListedSilence: Encodable {
        var id: String
        var matchers: [String]
        var startsAt: String
        var endsAt: String
        var state: String
        var createdBy: String
        var comment: String
        enum CodingKeys: String, CodingKey {
            case id, matchers, state, comment
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case createdBy = "created_by"
        }

        init(_ s: Silence, now: Int64) {
            id = s.id
            matchers = s.matchers
            startsAt = TimeParser.formatRFC3339(Timestamp(milliseconds: s.startsAt))
            endsAt = TimeParser.formatRFC3339(Timestamp(milliseconds: s.endsAt))
            state = s.state(at: now).rawValue
            createdBy = s.createdBy
            comment = s.comment
        }
    }

    struct NewSilence: Decodable {
        var matchers: [String]
        var endsAt: String?
        var durationSeconds: Double?
        var createdBy: String?
        var comment: String?
        enum CodingKeys: String, CodingKey {
            case matchers, comment
            case endsAt = "ends_at"
            case durationSeconds = "duration_seconds"
            case createdBy = "created_by"
        }
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    func alertsJSON() async -> [UInt8] {
        let listed = service.listing().map { entry in
            Listed(
                fingerprint: entry.alert.fingerprint, status: entry.alert.status, labels: entry.alert.labels,
                annotations: entry.alert.annotations, startsAt: TimeParser.formatRFC3339(Timestamp(milliseconds: entry.alert.startsAt)),
                endsAt: entry.alert.endsAt.map { TimeParser.formatRFC3339(Timestamp(milliseconds: $0)) },
                silencedBy: entry.silencedBy, inhibited: entry.inhibited)
        }
        return Self.encode(["alerts": listed])
    }

    func silencesJSON() async -> [UInt8] {
        let now = Timestamp.now.milliseconds
        return Self.encode(["silences": service.silences().map { ListedSilence($0, now: now) }])
    }

    func createSilence(_ body: [UInt8]) async -> Result<[UInt8], AlertsAPIError> {
        let request: NewSilence
        do { request = try JSONDecoder().decode(NewSilence.self, from: Data(body)) } catch {
            return .failure(AlertsAPIError("expected {\"matchers\": [...], \"ends_at\" or \"duration_seconds\"}: \(error)"))
        }
        let now = Timestamp.now.milliseconds
        let endsAt: Int64
        if let text = request.endsAt {
            guard let parsed = TimeParser.parseRFC3339(text) else { return .failure(AlertsAPIError("ends_at must be RFC 3339")) }
            endsAt = parsed.milliseconds
        } else if let seconds = request.durationSeconds, seconds > 0 {
            endsAt = now + Int64(seconds * 1000)
        } else {
            return .failure(AlertsAPIError("give ends_at or a positive duration_seconds"))
        }
        do {
            let silence = try await service.addSilence(
                matchers: request.matchers, startsAt: now, endsAt: endsAt, createdBy: request.createdBy ?? "",
                comment: request.comment ?? "")
            return .success(Self.encode(ListedSilence(silence, now: now)))
        } catch {
            return .failure(AlertsAPIError(error.description))
        }
    }

    func expireSilence(id: String) async -> Bool { await service.expireSilence(id: id) }
}
