import SeismoCore
import Yams

/// Compiles the `alerts:` section (see `AlertingSpec`).
extension PipelineCompiler {
    static let alertKeys = [
        "topic", "alertmanagers", "resend_delay", "resolved_retention", "evaluation_interval", "rules", "route", "receivers",
        "inhibit_rules",
    ]
    static let ruleKeys = [
        "name", "detector", "predict", "expr", "for", "keep_firing_for", "windows", "min_duration", "min_severity", "labels",
        "annotations",
    ]
    static let routeKeys = ["receiver", "matchers", "group_by", "group_wait", "group_interval", "repeat_interval", "continue", "routes"]
    static let receiverKeys = ["name", "webhook", "slack", "pagerduty", "timeout", "attempts", "backoff", "max_backoff"]

    func compileAlerts(_ spec: MappingView, pipeline: String, streams: [StreamSpec], detectors: [DetectorSpec], outputs: OutputSpec?)
        -> AlertingSpec?
    {
        guard let m = reader.mapping(spec, "alerts", allowed: Self.alertKeys) else { return nil }
        var alerting = AlertingSpec(topic: "alerts.\(pipeline)")
        if let topic = reader.string(m, "topic") {
            if !NameRules.isTopicName(topic) {
                reader.report(.invalidValue, m.location(of: "topic"), "'\(topic)' is not a valid Kafka topic name; expected letters, digits, '.', '_' and '-'")
            } else if let outputs, [outputs.anomalyTopic, outputs.deadLetterTopic].contains(topic) {
                reader.report(.duplicate, m.location(of: "topic"), "the alert topic must differ from the anomaly and dead-letter topics")
            } else {
                alerting.topic = topic
            }
        }
        for (url, location) in reader.strings(m, "alertmanagers") ?? [] {
            if url.hasPrefix("http://") || url.hasPrefix("https://") { alerting.alertmanagers.append(url) } else {
                reader.report(.invalidValue, location, "expected an http:// or https:// URL, got '\(url)'")
            }
        }
        alerting.resendDelay = reader.duration(m, "resend_delay") ?? alerting.resendDelay
        alerting.resolvedRetention = reader.duration(m, "resolved_retention", .nonNegative) ?? alerting.resolvedRetention
        alerting.evaluationInterval = reader.duration(m, "evaluation_interval") ?? alerting.evaluationInterval

        var seen: Set<String> = []
        for (node, location) in reader.list(m, "rules") ?? [] {
            if case .mapping(let raw) = node, let nameNode = raw["name"], case .scalar(let s) = nameNode, !seen.insert(s.string).inserted {
                reader.report(.duplicate, Location(path: location.path + ".name", node: nameNode), "duplicate alert rule name '\(s.string)'")
            }
            if let rule = compileRule(node, location, streams: streams, detectors: detectors) { alerting.rules.append(rule) }
        }

        var receiverNames: [String] = []
        for (node, location) in reader.list(m, "receivers") ?? [] {
            guard let receiver = compileReceiver(node, location) else { continue }
            if receiverNames.contains(receiver.name) {
                reader.report(.duplicate, location, "duplicate receiver name '\(receiver.name)'")
                continue
            }
            receiverNames.append(receiver.name)
            alerting.receivers.append(receiver)
        }
        if let routeNode = m["route"] {
            alerting.route = compileRoute(routeNode, m.location(of: "route"), receivers: receiverNames, root: true) ?? RouteSpec()
        } else {
            alerting.route = RouteSpec(receiver: receiverNames.first)
        }
        if alerting.route.receiver == nil {
            // Nowhere to send: Alertmanager's null receiver.
            alerting.route.receiver = "default"
            if !receiverNames.contains("default") { alerting.receivers.append(ReceiverSpec(name: "default", kind: nil)) }
        }
        for (node, location) in reader.list(m, "inhibit_rules") ?? [] {
            guard let r = reader.mapping(node, location, allowed: ["source_matchers", "target_matchers", "equal"]) else { continue }
            let source = alertMatchers(r, "source_matchers", required: true)
            let target = alertMatchers(r, "target_matchers", required: true)
            let equal = reader.strings(r, "equal").map(labelList) ?? []
            if let source, let target { alerting.inhibitRules.append(InhibitRuleSpec(sourceMatchers: source, targetMatchers: target, equal: equal)) }
        }
        return alerting
    }

    private func compileRule(_ node: Node, _ location: Location, streams: [StreamSpec], detectors: [DetectorSpec]) -> AlertRuleSpec? {
        guard let m = reader.mapping(node, location, allowed: Self.ruleKeys) else { return nil }
        let name = reader.name(m, valid: NameRules.isComponentName, rule: "letters, digits, _ and -")
        let kinds = ["detector", "predict", "expr"].filter { m.contains($0) }
        var condition: AlertRuleSpec.Condition?
        if kinds.count != 1 {
            reader.report(
                kinds.isEmpty ? .missingKey : .invalidValue, m.location,
                kinds.isEmpty ? "a rule needs one of detector (anomaly rule), predict (predictive rule) or expr (PromQL rule)"
                    : "a rule takes only one of detector, predict and expr; got \(kinds.joined(separator: ", "))")
        } else if let detectorName = reader.string(m, "detector") {
            if let detector = detectors.first(where: { $0.name == detectorName }), let stream = streams.first(where: { $0.name == detector.stream }) {
                var k = 1, n = 1
                if let w = reader.mapping(m, "windows", allowed: ["k", "n"]) {
                    k = reader.int(w, "k", min: 1, required: true) ?? 1
                    n = reader.int(w, "n", min: 1, required: true) ?? 1
                    if k > n { reader.report(.invalidValue, w.location(of: "k"), "k (\(k)) must not exceed n (\(n))") }
                }
                var minSeverity: String?
                if m.contains("min_severity") { minSeverity = reader.choice(m, "min_severity", ["info", "warning", "critical"]) }
                condition = .anomaly(
                    AnomalyCondition(
                        detector: detectorName, stream: stream.name, hop: stream.window.hop, k: k, n: n,
                        minDuration: reader.duration(m, "min_duration", .nonNegative) ?? .zero, minSeverity: minSeverity))
            } else {
                reader.report(
                    .unknownReference, m.location(of: "detector"),
                    "no detector is called '\(detectorName)'\(Suggestions.hint(for: detectorName, in: detectors.map(\.name)))")
            }
        } else if let p = reader.mapping(m, "predict", allowed: ["stream", "feature", "threshold", "within", "history", "below", "detector"]) {
            let streamName = reader.string(p, "stream", required: true)
            let feature = reader.string(p, "feature", required: true)
            let threshold = reader.number(p, "threshold", required: true)
            let within = reader.duration(p, "within", required: true)
            let history = reader.int(p, "history", min: 2) ?? 30
            let below = reader.bool(p, "below") ?? false
            let forecaster = reader.string(p, "detector")
            var stream: StreamSpec?
            if let streamName {
                stream = streams.first { $0.name == streamName }
                if stream == nil {
                    reader.report(
                        .unknownReference, p.location(of: "stream"),
                        "no stream is called '\(streamName)'\(Suggestions.hint(for: streamName, in: streams.map(\.name)))")
                }
            }
            if let stream, let feature, !stream.featureNames.contains(feature) {
                reader.report(
                    .unknownReference, p.location(of: "feature"),
                    "stream '\(stream.name)' has no feature '\(feature)'\(Suggestions.hint(for: feature, in: stream.featureNames))")
            } else if let forecaster, let stream, let feature,
                !detectors.contains(where: { $0.name == forecaster && $0.type == "seasonal" && $0.stream == stream.name && $0.features.contains(feature) })
            {
                let seasonal = detectors.filter { $0.type == "seasonal" && $0.stream == stream.name && $0.features.contains(feature) }.map(\.name)
                reader.report(
                    .unknownReference, p.location(of: "detector"),
                    "no seasonal detector '\(forecaster)' reads feature '\(feature)' of stream '\(stream.name)'"
                        + (seasonal.isEmpty ? "" : Suggestions.hint(for: forecaster, in: seasonal)))
            } else if let stream, let feature, let threshold, let within {
                condition = .predictive(
                    PredictiveCondition(
                        stream: stream.name, feature: feature, threshold: threshold, within: within, history: history, below: below,
                        detector: forecaster))
            }
        } else if let expression = reader.string(m, "expr") {
            if expression.trimmingSpaces.isEmpty {
                reader.report(.invalidValue, m.location(of: "expr"), "must not be empty")
            } else {
                condition = .query(expression: expression)
            }
        }
        let holdFor = reader.duration(m, "for", .nonNegative) ?? .zero
        let keepFiringFor = reader.duration(m, "keep_firing_for", .nonNegative) ?? .zero
        let labels = templates(m, "labels", labelNames: true)
        let annotations = templates(m, "annotations", labelNames: false)
        guard let name, let condition else { return nil }
        return AlertRuleSpec(
            name: name, condition: condition, holdFor: holdFor, keepFiringFor: keepFiringFor, labels: labels, annotations: annotations)
    }

    private func templates(_ m: MappingView, _ key: String, labelNames: Bool) -> [String: AlertTemplate] {
        guard let map = reader.mapping(m, key, allowed: nil) else { return [:] }
        var out: [String: AlertTemplate] = [:]
        for entry in map.entries {
            let location = map.location(of: entry.key)
            if labelNames, !Labels.isValidLabelName(entry.key) {
                reader.report(.invalidValue, map.keyLocation(of: entry.key), "'\(entry.key)' is not a valid label name")
                continue
            }
            if labelNames, ["alertname", "pipeline"].contains(entry.key) {
                reader.report(.invalidValue, map.keyLocation(of: entry.key), "'\(entry.key)' is set by Seismo and cannot be templated")
                continue
            }
            guard case .scalar(let scalar) = entry.value else {
                reader.wrongType(entry.value, location, expected: "a string (a template)")
                continue
            }
            do { out[entry.key] = try AlertTemplate(parsing: scalar.string) } catch {
                reader.report(.invalidValue, location.advanced(by: error.offset, quoted: entry.value.isQuoted), "invalid template: \(error.message)")
            }
        }
        return out
    }

    private func compileReceiver(_ node: Node, _ location: Location) -> ReceiverSpec? {
        guard let m = reader.mapping(node, location, allowed: Self.receiverKeys) else { return nil }
        let name = reader.name(m, valid: NameRules.isComponentName, rule: "letters, digits, _ and -")
        let kinds = ["webhook", "slack", "pagerduty"].filter { m.contains($0) }
        var kind: ReceiverSpec.Kind?
        if kinds.count > 1 {
            reader.report(.invalidValue, m.location, "a receiver takes one of webhook, slack and pagerduty; got \(kinds.joined(separator: ", "))")
        } else if let w = reader.mapping(m, "webhook", allowed: ["url"]) {
            kind = url(w).map { .webhook(url: $0) }
        } else if let s = reader.mapping(m, "slack", allowed: ["url", "channel"]) {
            let channel = reader.string(s, "channel")
            kind = url(s).map { .slack(url: $0, channel: channel) }
        } else if let p = reader.mapping(m, "pagerduty", allowed: ["url", "routing_key"]) {
            let key = reader.string(p, "routing_key", required: true)
            let target = p.contains("url") ? url(p) : "https://events.pagerduty.com/v2/enqueue"
            if let key, let target { kind = .pagerDuty(url: target, routingKey: key) }
        }
        var receiver = ReceiverSpec(name: name ?? "", kind: kind)
        receiver.timeout = reader.duration(m, "timeout") ?? receiver.timeout
        receiver.attempts = reader.int(m, "attempts", min: 1) ?? receiver.attempts
        receiver.backoff = reader.duration(m, "backoff") ?? receiver.backoff
        receiver.maxBackoff = reader.duration(m, "max_backoff") ?? receiver.maxBackoff
        guard name != nil else { return nil }
        return receiver
    }

    private func url(_ m: MappingView) -> String? {
        guard let url = reader.string(m, "url", required: true) else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            reader.report(.invalidValue, m.location(of: "url"), "expected an http:// or https:// URL, got '\(url)'")
            return nil
        }
        return url
    }

    private func compileRoute(_ node: Node, _ location: Location, receivers: [String], root: Bool) -> RouteSpec? {
        guard let m = reader.mapping(node, location, allowed: Self.routeKeys) else { return nil }
        var route = RouteSpec()
        if let receiver = reader.string(m, "receiver") {
            if receivers.contains(receiver) { route.receiver = receiver } else {
                reader.report(
                    .unknownReference, m.location(of: "receiver"),
                    "no receiver is called '\(receiver)'\(Suggestions.hint(for: receiver, in: receivers))")
            }
        } else if root, !receivers.isEmpty {
            reader.report(.missingKey, m.location, "the root route needs a receiver")
        }
        if root, m.contains("matchers") { reader.report(.invalidValue, m.keyLocation(of: "matchers"), "the root route matches every alert; it takes no matchers") }
        route.matchers = alertMatchers(m, "matchers") ?? []
        if let groupBy = reader.strings(m, "group_by") {
            route.groupBy = groupBy.contains { $0.0 == "..." } ? ["..."] : labelList(groupBy)
        }
        route.groupWait = reader.duration(m, "group_wait", .nonNegative)
        route.groupInterval = reader.duration(m, "group_interval")
        route.repeatInterval = reader.duration(m, "repeat_interval")
        route.continue = reader.bool(m, "continue") ?? false
        for (child, childLocation) in reader.list(m, "routes") ?? [] {
            if let compiled = compileRoute(child, childLocation, receivers: receivers, root: false) { route.routes.append(compiled) }
        }
        return route
    }

    private func alertMatchers(_ m: MappingView, _ key: String, required: Bool = false) -> [Matcher]? {
        guard let items = reader.strings(m, key, required: required) else { return nil }
        var out: [Matcher] = []
        for (text, location) in items {
            do { out.append(try Matcher(parsing: text)) } catch {
                reader.report(.invalidValue, location, "invalid matcher '\(text)': \(error.message); expected e.g. severity=\"critical\"")
            }
        }
        return out
    }

    private func labelList(_ items: [(String, Location)]) -> [String] {
        var out: [String] = []
        for (label, location) in items {
            if !Labels.isValidLabelName(label) { reader.report(.invalidValue, location, "'\(label)' is not a valid label name") } else if !out.contains(label) {
                out.append(label)
            }
        }
        return out
    }
}

extension String {
    fileprivate var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
