import Foundation
import SeismoCore

/// The JSON bodies Seismo sends: Alertmanager's v2 API, its webhook (version 4), Slack
/// incoming webhooks, PagerDuty Events v2, and Seismo's own alert record on Kafka.
public enum Payloads {
    static func time(_ ms: Int64) -> String { TimeParser.formatRFC3339(Timestamp(milliseconds: ms)) }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("null".utf8))
    }

    // MARK: Alertmanager API v2

    /// One element of `POST /api/v2/alerts`.
    public struct PostableAlert: Codable, Sendable, Equatable {
        public var labels: AlertLabels
        public var annotations: AlertLabels
        public var startsAt: String
        public var endsAt: String
        public var generatorURL: String?
    }

    /// The body of `POST /api/v2/alerts`: firing alerts end at `validUntil` (so that
    /// Alertmanager resolves them by itself if Seismo goes away), resolved ones at their end.
    public static func alertmanager(_ alerts: [Alert], validUntil: Int64, generatorURL: String?) -> [UInt8] {
        encode(alerts.map { postable($0, validUntil: validUntil, generatorURL: generatorURL) })
    }

    static func postable(_ alert: Alert, validUntil: Int64, generatorURL: String?) -> PostableAlert {
        PostableAlert(
            labels: alert.labels, annotations: alert.annotations, startsAt: time(alert.startsAt),
            endsAt: time(alert.endsAt ?? validUntil), generatorURL: generatorURL)
    }

    // MARK: Alertmanager webhook, version 4

    public struct WebhookAlert: Codable, Sendable, Equatable {
        public var status: String
        public var labels: AlertLabels
        public var annotations: AlertLabels
        public var startsAt: String
        /// `0001-01-01T00:00:00Z` while firing, as Alertmanager writes it.
        public var endsAt: String
        public var generatorURL: String
        public var fingerprint: String
    }

    public struct WebhookMessage: Codable, Sendable, Equatable {
        public var version: String
        public var groupKey: String
        public var truncatedAlerts: Int
        public var status: String
        public var receiver: String
        public var groupLabels: AlertLabels
        public var commonLabels: AlertLabels
        public var commonAnnotations: AlertLabels
        public var externalURL: String
        public var alerts: [WebhookAlert]
    }

    public static func webhookMessage(_ notification: AlertNotification, externalURL: String) -> WebhookMessage {
        let alerts = notification.alerts
        return WebhookMessage(
            version: "4", groupKey: notification.groupKey, truncatedAlerts: 0,
            status: notification.firing.isEmpty ? "resolved" : "firing", receiver: notification.receiver,
            groupLabels: notification.groupLabels, commonLabels: common(alerts.map(\.labels)),
            commonAnnotations: common(alerts.map(\.annotations)), externalURL: externalURL,
            alerts: alerts.map {
                WebhookAlert(
                    status: $0.status, labels: $0.labels, annotations: $0.annotations, startsAt: time($0.startsAt),
                    endsAt: $0.endsAt.map(time) ?? "0001-01-01T00:00:00Z", generatorURL: externalURL,
                    fingerprint: $0.fingerprint)
            })
    }

    public static func webhook(_ notification: AlertNotification, externalURL: String) -> [UInt8] {
        encode(webhookMessage(notification, externalURL: externalURL))
    }

    /// The pairs every set has with the same value.
    static func common(_ sets: [AlertLabels]) -> AlertLabels {
        guard var out = sets.first else { return [:] }
        for set in sets.dropFirst() { out = out.filter { set[$0.key] == $0.value } }
        return out
    }

    // MARK: Slack

    public struct SlackAttachment: Codable, Sendable, Equatable {
        public var color: String
        public var title: String
        public var text: String
        public var fallback: String
    }

    public struct SlackMessage: Codable, Sendable, Equatable {
        public var channel: String?
        public var username: String
        public var text: String
        public var attachments: [SlackAttachment]
    }

    /// An incoming-webhook message: one attachment per alert, red while firing, green once resolved.
    public static func slack(_ notification: AlertNotification, channel: String?) -> [UInt8] {
        let status = notification.firing.isEmpty ? "RESOLVED" : "FIRING:\(notification.firing.count)"
        let name = notification.groupLabels["alertname"] ?? notification.alerts.first?.labels["alertname"] ?? "alert"
        let attachments = notification.alerts.map { alert in
            let title = "[\(alert.status.uppercased())] \(alert.labels["alertname"] ?? name)"
            let summary = alert.annotations["summary"] ?? alert.annotations["description"] ?? ""
            let labels = alert.labels.keys.sorted().map { "\($0)=\(alert.labels[$0] ?? "")" }.joined(separator: ", ")
            let text = summary.isEmpty ? labels : "\(summary)\n\(labels)"
            return SlackAttachment(
                color: alert.isResolved ? "good" : "danger", title: title, text: text, fallback: "\(title): \(summary)")
        }
        return encode(SlackMessage(channel: channel, username: "seismo", text: "[\(status)] \(name)", attachments: attachments))
    }

    // MARK: PagerDuty Events API v2

    public struct PagerDutyPayload: Codable, Sendable, Equatable {
        public var summary: String
        public var source: String
        public var severity: String
        public var timestamp: String
        public var component: String?
        public var group: String?
        public var customDetails: [String: AlertLabels]

        enum CodingKeys: String, CodingKey {
            case summary, source, severity, timestamp, component, group
            case customDetails = "custom_details"
        }
    }

    public struct PagerDutyEvent: Codable, Sendable, Equatable {
        public var routingKey: String
        public var eventAction: String
        public var dedupKey: String
        public var client: String
        public var payload: PagerDutyPayload?

        enum CodingKeys: String, CodingKey {
            case routingKey = "routing_key"
            case eventAction = "event_action"
            case dedupKey = "dedup_key"
            case client, payload
        }
    }

    /// One event per notification, deduplicated by the group (as Alertmanager does):
    /// `trigger` while something fires, `resolve` once nothing does.
    public static func pagerDutyEvent(_ notification: AlertNotification, routingKey: String) -> PagerDutyEvent {
        let firing = !notification.firing.isEmpty
        let dedupKey = Fingerprint.of(["group": notification.groupKey]) + Fingerprint.of(["receiver": notification.receiver])
        guard firing else {
            return PagerDutyEvent(routingKey: routingKey, eventAction: "resolve", dedupKey: dedupKey, client: "Seismo", payload: nil)
        }
        let first = notification.firing[0]
        let name = first.labels["alertname"] ?? "alert"
        let summary = "[FIRING:\(notification.firing.count)] \(name) " + (first.annotations["summary"] ?? "")
        let severity: String =
            switch first.labels["severity"] {
            case "critical": "critical"
            case "warning": "warning"
            case "info": "info"
            default: "error"
            }
        var details: [String: AlertLabels] = [:]
        for alert in notification.firing { details[alert.fingerprint] = alert.labels.merging(alert.annotations) { l, _ in l } }
        return PagerDutyEvent(
            routingKey: routingKey, eventAction: "trigger", dedupKey: dedupKey, client: "Seismo",
            payload: PagerDutyPayload(
                summary: String(summary.trimmingCharacters(in: .whitespaces).prefix(1024)),
                source: first.labels["pipeline"] ?? "seismo", severity: severity, timestamp: time(first.startsAt),
                component: first.labels["service"], group: first.labels["detector"], customDetails: details))
    }

    public static func pagerDuty(_ notification: AlertNotification, routingKey: String) -> [UInt8] {
        encode(pagerDutyEvent(notification, routingKey: routingKey))
    }

    // MARK: Kafka

    /// `seismo.alert.v1`: a firing or resolved alert on `alerts.<pipeline>`
    /// (schema `schemas/alert.v1.schema.json`).
    public struct AlertRecord: Codable, Sendable, Equatable {
        public static let schemaName = "seismo.alert.v1"
        public var schema: String
        public var status: String
        public var fingerprint: String
        public var pipeline: String
        public var rule: String
        public var labels: AlertLabels
        public var annotations: AlertLabels
        public var value: Double?
        public var startsAt: String
        public var startsAtMilliseconds: Int64
        public var endsAt: String?
        public var endsAtMilliseconds: Int64?
        public var activeAtMilliseconds: Int64

        enum CodingKeys: String, CodingKey {
            case schema, status, fingerprint, pipeline, rule, labels, annotations, value
            case startsAt = "starts_at"
            case startsAtMilliseconds = "starts_at_ms"
            case endsAt = "ends_at"
            case endsAtMilliseconds = "ends_at_ms"
            case activeAtMilliseconds = "active_at_ms"
        }
    }

    public static func record(_ alert: Alert, pipeline: String) -> AlertRecord {
        AlertRecord(
            schema: AlertRecord.schemaName, status: alert.status, fingerprint: alert.fingerprint, pipeline: pipeline,
            rule: alert.rule, labels: alert.labels, annotations: alert.annotations,
            value: alert.value.isFinite ? alert.value : nil, startsAt: time(alert.startsAt),
            startsAtMilliseconds: alert.startsAt, endsAt: alert.endsAt.map(time), endsAtMilliseconds: alert.endsAt,
            activeAtMilliseconds: alert.activeAt)
    }

    public static func kafka(_ alert: Alert, pipeline: String) -> [UInt8] { encode(record(alert, pipeline: pipeline)) }

    /// `seismo.alert-deadletter.v1`: a notification no attempt delivered.
    public struct DeadLetter: Codable, Sendable, Equatable {
        public var schema = "seismo.alert-deadletter.v1"
        public var receiver: String
        public var groupKey: String
        public var attempts: Int
        public var error: String
        public var failedAtMilliseconds: Int64
        public var alerts: [AlertRecord]

        enum CodingKeys: String, CodingKey {
            case schema, receiver, attempts, error, alerts
            case groupKey = "group_key"
            case failedAtMilliseconds = "failed_at_ms"
        }
    }
}
