import SeismoCore
import Yams

/// Compiles the root node of a spec; every problem goes to `reader`, and the result is
/// nil only when a part could not be built at all (the loader discards it on any issue).
struct PipelineCompiler {
    let reader: SpecReader

    /// A topic declared under `kafka.topics`.
    struct DeclaredTopic {
        var name: String
        var partitions: Int?
        var keyLabels: [String]?
    }

    /// What later sections need to know about a stream, even one with errors.
    struct StreamInfo {
        var name: String
        var features: [String]
    }

    func compile(_ root: Node) -> Pipeline? {
        let top = Location(path: "", node: root)
        guard let spec = reader.mapping(root, top, allowed: PipelineLoader.topLevelKeys, what: "a mapping (a pipeline spec)") else {
            return nil
        }
        let name = reader.name(spec, "pipeline", valid: NameRules.isPipelineName, rule: "lowercase letters, digits, _ and -")
        let pipelineName = name ?? "pipeline"

        // kafka
        let kafkaSpec = reader.mapping(spec, "kafka", allowed: ["brokers", "properties", "consumer_group", "topics"])
        var brokers: [String] = []
        var properties: [String: String] = [:]
        var consumerGroup = "seismo.\(pipelineName)"
        var declared: [DeclaredTopic] = []
        if let kafkaSpec {
            for (broker, location) in reader.strings(kafkaSpec, "brokers") ?? [] {
                if broker.isEmpty || broker.contains(" ") {
                    reader.report(.invalidValue, location, "expected host:port, got '\(broker)'")
                } else {
                    brokers.append(broker)
                }
            }
            if let props = reader.mapping(kafkaSpec, "properties", allowed: nil) {
                for entry in props.entries {
                    let location = props.location(of: entry.key)
                    guard case .scalar(let scalar) = entry.value, !entry.value.isNull else {
                        reader.wrongType(entry.value, location, expected: "a string, number or boolean")
                        continue
                    }
                    properties[entry.key] = scalar.string
                }
            }
            if let group = reader.string(kafkaSpec, "consumer_group") {
                if group.isEmpty {
                    reader.report(.invalidValue, kafkaSpec.location(of: "consumer_group"), "must not be empty")
                } else {
                    consumerGroup = group
                }
            }
            if let topics = reader.mapping(kafkaSpec, "topics", allowed: nil) {
                for entry in topics.entries {
                    let keyLocation = topics.keyLocation(of: entry.key)
                    guard NameRules.isTopicName(entry.key) else {
                        reader.report(
                            .invalidValue, keyLocation,
                            "'\(entry.key)' is not a valid Kafka topic name; expected letters, digits, '.', '_' and '-'")
                        continue
                    }
                    var topic = DeclaredTopic(name: entry.key)
                    if !entry.value.isNull,
                        let body = reader.mapping(entry.value, topics.location(of: entry.key), allowed: ["partitions", "key_by"])
                    {
                        topic.partitions = reader.int(body, "partitions", min: 1)
                        if let labels = reader.strings(body, "key_by") {
                            topic.keyLabels = labelNames(labels)
                        }
                    }
                    declared.append(topic)
                }
            }
        }

        // outputs
        let outputs = compileOutputs(spec, pipelineName)

        // collectors
        var collectors: [CollectorSpec] = []
        var collectorTopics: [String] = []
        var seenCollectors: Set<String> = []
        for (node, location) in reader.list(spec, "collectors") ?? [] {
            checkUnique(node, location, what: "collector", seen: &seenCollectors)
            guard let item = compileCollector(node, location, declared: declared, outputs: outputs) else { continue }
            collectors.append(item)
            if !collectorTopics.contains(item.topic) { collectorTopics.append(item.topic) }
        }

        // streams
        var signalKeys: [String: [String]?] = [:]
        for topic in declared { signalKeys[topic.name] = .some(topic.keyLabels) }
        for topic in collectorTopics where signalKeys[topic] == nil { signalKeys[topic] = .some(nil) }
        var streams: [StreamSpec] = []
        var infos: [String: StreamInfo] = [:]
        var seenStreams: Set<String> = []
        for (node, location) in reader.list(spec, "streams") ?? [] {
            checkUnique(node, location, what: "stream", seen: &seenStreams)
            let (stream, info) = compileStream(node, location, signalTopics: signalKeys, outputs: outputs)
            if let info, infos[info.name] == nil { infos[info.name] = info }
            if let stream { streams.append(stream) }
        }

        // detectors
        var detectors: [DetectorSpec] = []
        var seenDetectors: Set<String> = []
        for (node, location) in reader.list(spec, "detectors") ?? [] {
            checkUnique(node, location, what: "detector", seen: &seenDetectors)
            guard let detector = compileDetector(node, location, streams: infos) else { continue }
            detectors.append(detector)
        }

        let alerting = compileAlerts(spec, pipeline: pipelineName, streams: streams, detectors: detectors, outputs: outputs)
        let runtime = compileRuntime(spec)

        guard let name, let outputs else { return nil }
        // Topics: signal topics (declared, then used), then anomalies, then dead letter.
        var topics: [TopicSpec] = []
        let special = [outputs.anomalyTopic, outputs.deadLetterTopic] + (alerting.map { [$0.topic] } ?? [])
        for topic in declared where !special.contains(topic.name) {
            topics.append(
                TopicSpec(name: topic.name, partitions: topic.partitions ?? PipelineLoader.defaultSignalPartitions, keyLabels: topic.keyLabels))
        }
        for topic in collectorTopics where !declared.contains(where: { $0.name == topic }) {
            topics.append(TopicSpec(name: topic, partitions: PipelineLoader.defaultSignalPartitions))
        }
        for topic in special {
            topics.append(TopicSpec(name: topic, partitions: declared.first { $0.name == topic }?.partitions ?? 1))
        }
        var pipeline = Pipeline(
            name: name,
            kafka: KafkaSettings(brokers: brokers, properties: properties, topics: topics, consumerGroup: consumerGroup),
            collectors: collectors, streams: streams, outputs: outputs, detectors: detectors, runtime: runtime)
        pipeline.alerting = alerting
        return pipeline
    }

    /// Reports a list item whose `name` was already used by an earlier item.
    private func checkUnique(_ node: Node, _ location: Location, what: String, seen: inout Set<String>) {
        guard case .mapping(let mapping) = node, let nameNode = mapping["name"], case .scalar(let scalar) = nameNode,
            !nameNode.isNull
        else { return }
        if !seen.insert(scalar.string).inserted {
            reader.report(
                .duplicate, Location(path: location.path + ".name", node: nameNode), "duplicate \(what) name '\(scalar.string)'")
        }
    }

    /// Label names, each checked; duplicates reported.
    private func labelNames(_ labels: [(String, Location)]) -> [String] {
        var out: [String] = []
        for (label, location) in labels {
            if !Labels.isValidLabelName(label) {
                reader.report(.invalidValue, location, "'\(label)' is not a valid label name")
            } else if out.contains(label) {
                reader.report(.duplicate, location, "label '\(label)' is listed twice")
            } else {
                out.append(label)
            }
        }
        return out
    }

    // MARK: Outputs

    private func compileOutputs(_ spec: MappingView, _ pipeline: String) -> OutputSpec? {
        var outputs = OutputSpec(
            featureTable: "\(pipeline.replacingHyphens)_features", anomalyTopic: "anomalies.\(pipeline)",
            deadLetterTopic: "deadletter.\(pipeline)")
        guard let out = reader.mapping(spec, "outputs", allowed: ["raw", "aggregates", "anomalies", "dead_letter", "feature_table"])
        else { return spec.contains("outputs") ? nil : outputs }
        if let raw = reader.mapping(out, "raw", allowed: ["store", "retention"]) {
            outputs.storeRaw = reader.bool(raw, "store") ?? outputs.storeRaw
            outputs.rawRetention = reader.duration(raw, "retention") ?? outputs.rawRetention
        }
        if let aggregates = reader.mapping(out, "aggregates", allowed: ["store", "retention"]) {
            outputs.storeAggregates = reader.bool(aggregates, "store") ?? outputs.storeAggregates
            outputs.aggregateRetention = reader.duration(aggregates, "retention") ?? outputs.aggregateRetention
        }
        if let anomalies = reader.mapping(out, "anomalies", allowed: ["topic", "retention"]) {
            if let topic = topicName(anomalies, "topic") { outputs.anomalyTopic = topic }
            outputs.anomalyRetention = reader.duration(anomalies, "retention") ?? outputs.anomalyRetention
        }
        if let deadLetter = reader.mapping(out, "dead_letter", allowed: ["topic"]) {
            if let topic = topicName(deadLetter, "topic") {
                if topic == outputs.anomalyTopic {
                    reader.report(.duplicate, deadLetter.location(of: "topic"), "the dead-letter topic must differ from the anomaly topic '\(topic)'")
                } else {
                    outputs.deadLetterTopic = topic
                }
            }
        }
        if let table = reader.string(out, "feature_table") {
            if Location.isIdentifier(table) {
                outputs.featureTable = table
            } else {
                reader.report(.invalidValue, out.location(of: "feature_table"), "'\(table)' is not a SQL identifier; expected \(NameRules.identifierRule)")
            }
        }
        return outputs
    }

    private func topicName(_ parent: MappingView, _ key: String) -> String? {
        guard let topic = reader.string(parent, key) else { return nil }
        guard NameRules.isTopicName(topic) else {
            reader.report(.invalidValue, parent.location(of: key), "'\(topic)' is not a valid Kafka topic name; expected letters, digits, '.', '_' and '-'")
            return nil
        }
        return topic
    }

    // MARK: Collectors

    private static let collectorCommonKeys = ["name", "type", "topic"]
    private static let syntheticKeys = [
        "seed", "start", "step", "speed", "duration", "services", "instances", "daily_amplitude", "weekly_amplitude",
        "noise", "restart_every", "anomalies", "random_anomalies", "ground_truth",
    ]
    private static let fileKeys = ["path", "format", "speed", "loop"]

    private func compileCollector(_ node: Node, _ location: Location, declared: [DeclaredTopic], outputs: OutputSpec?) -> CollectorSpec? {
        // The type decides which keys are allowed, so read it first.
        var type: String?
        if case .mapping(let raw) = node, let typeNode = raw["type"], case .scalar(let s) = typeNode {
            type = s.string
        }
        let allowed: [String]? =
            switch type {
            case "synthetic": Self.collectorCommonKeys + Self.syntheticKeys
            case "file": Self.collectorCommonKeys + Self.fileKeys
            case "prometheus_scrape", "host", "probe": Self.collectorCommonKeys + Self.scrapeFamilyKeys[type!]!
            default: Self.receiverCollectorKeys(type).map { Self.collectorCommonKeys + $0 }
            }
        guard let m = reader.mapping(node, location, allowed: allowed) else { return nil }
        let name = reader.name(m, valid: NameRules.isComponentName, rule: "letters, digits, _ and -")
        let kindName = reader.choice(
            m, "type", ["synthetic", "file"] + Self.scrapeFamilyTypes + Self.receiverCollectorTypes, required: true)
        var topic = reader.string(m, "topic", required: true)
        if let t = topic {
            if let outputs, t == outputs.anomalyTopic || t == outputs.deadLetterTopic {
                reader.report(.invalidValue, m.location(of: "topic"), "'\(t)' is an output topic (anomalies or dead letter), not a signal topic")
                topic = nil
            } else if !declared.isEmpty, !declared.contains(where: { $0.name == t }) {
                reader.report(
                    .unknownReference, m.location(of: "topic"),
                    "topic '\(t)' is not declared under kafka.topics\(Suggestions.hint(for: t, in: declared.map(\.name)))")
                topic = nil
            } else if !NameRules.isTopicName(t) {
                reader.report(.invalidValue, m.location(of: "topic"), "'\(t)' is not a valid Kafka topic name")
                topic = nil
            }
        }
        let kind: CollectorSpec.Kind?
        switch kindName {
        case "synthetic": kind = synthetic(m).map { .synthetic($0) }
        case "file": kind = file(m).map { .file($0) }
        case "prometheus_scrape", "host", "probe": kind = scrapeFamily(kindName!, m, name: name)
        case let other?: kind = receiverCollector(other, m)
        default: kind = nil
        }
        guard let name, let topic, let kind else { return nil }
        return CollectorSpec(name: name, topic: topic, kind: kind)
    }

    private func synthetic(_ m: MappingView) -> SyntheticSpec? {
        var spec = SyntheticSpec()
        var ok = true
        if let node = m["seed"] {
            if let text = node.plainScalar, let seed = UInt64(text) { spec.seed = seed } else {
                reader.wrongType(node, m.location(of: "seed"), expected: "a non-negative integer")
                ok = false
            }
        }
        if let text = reader.string(m, "start") {
            do { spec.start = try TimeParser.parse(text) } catch {
                reader.report(.invalidValue, m.location(of: "start"), error.message)
                ok = false
            }
        }
        spec.step = reader.duration(m, "step") ?? spec.step
        spec.speed = reader.number(m, "speed") { $0 < 0 ? "must be ≥ 0" : nil } ?? spec.speed
        spec.duration = reader.duration(m, "duration")
        if let services = reader.strings(m, "services") {
            if services.isEmpty {
                reader.report(.invalidValue, m.location(of: "services"), "must list at least one service")
                ok = false
            }
            var names: [String] = []
            for (service, location) in services {
                if service.isEmpty { reader.report(.invalidValue, location, "must not be empty") } else if names.contains(service) {
                    reader.report(.duplicate, location, "service '\(service)' is listed twice")
                } else { names.append(service) }
            }
            if !names.isEmpty { spec.services = names }
        }
        spec.instances = reader.int(m, "instances", min: 1) ?? spec.instances
        let fraction: (Double) -> String? = { (0...1).contains($0) ? nil : "must be between 0 and 1" }
        spec.dailyAmplitude = reader.number(m, "daily_amplitude", fraction) ?? spec.dailyAmplitude
        spec.weeklyAmplitude = reader.number(m, "weekly_amplitude", fraction) ?? spec.weeklyAmplitude
        spec.noise = reader.number(m, "noise") { $0 < 0 ? "must be ≥ 0" : nil } ?? spec.noise
        spec.restartEvery = reader.duration(m, "restart_every")
        spec.groundTruthPath = reader.string(m, "ground_truth")
        for (node, location) in reader.list(m, "anomalies") ?? [] {
            if let injection = anomaly(node, location, spec) { spec.anomalies.append(injection) }
        }
        if let random = reader.mapping(m, "random_anomalies", allowed: ["per_day", "kinds", "duration", "magnitude"]) {
            let perDay = reader.number(random, "per_day", required: true) { $0 > 0 ? nil : "must be > 0" }
            var kinds = AnomalyKind.allCases
            if let listed = reader.strings(random, "kinds") {
                kinds = listed.compactMap { anomalyKind($0.0, $0.1) }
                if listed.isEmpty { reader.report(.invalidValue, random.location(of: "kinds"), "must list at least one kind") }
            }
            let duration = reader.duration(random, "duration") ?? .seconds(600)
            let magnitude = reader.number(random, "magnitude") ?? 3
            if let perDay { spec.randomAnomalies = RandomAnomalies(perDay: perDay, kinds: kinds, duration: duration, magnitude: magnitude) }
        }
        return ok ? spec : nil
    }

    private func anomalyKind(_ text: String, _ location: Location) -> AnomalyKind? {
        guard let kind = AnomalyKind(rawValue: text) else {
            let names = AnomalyKind.allCases.map(\.rawValue)
            reader.report(.invalidValue, location, "unknown anomaly kind '\(text)'\(Suggestions.hint(for: text, in: names))")
            return nil
        }
        return kind
    }

    private func anomaly(_ node: Node, _ location: Location, _ spec: SyntheticSpec) -> AnomalyInjection? {
        guard
            let m = reader.mapping(
                node, location, allowed: ["kind", "at", "duration", "magnitude", "service", "instance", "metric"])
        else { return nil }
        let kind = reader.string(m, "kind", required: true).flatMap { anomalyKind($0, m.location(of: "kind")) }
        let at = reader.duration(m, "at", .nonNegative, required: true)
        let duration = reader.duration(m, "duration") ?? .seconds(600)
        let magnitude = reader.number(m, "magnitude") ?? 3
        let service = reader.string(m, "service")
        if let service, !spec.services.contains(service) {
            reader.report(
                .unknownReference, m.location(of: "service"),
                "service '\(service)' is not among the collector's services\(Suggestions.hint(for: service, in: spec.services))")
        }
        let instance = reader.int(m, "instance", min: 0)
        if let instance, instance >= spec.instances {
            reader.report(.invalidValue, m.location(of: "instance"), "instance \(instance) does not exist; instances are 0…\(spec.instances - 1)")
        }
        let metric = reader.string(m, "metric")
        if let metric, !PipelineLoader.syntheticMetrics.contains(metric) {
            reader.report(
                .unknownReference, m.location(of: "metric"),
                "the synthetic collector has no metric '\(metric)'\(Suggestions.hint(for: metric, in: PipelineLoader.syntheticMetrics))")
        }
        if let at, let total = spec.duration, at >= total {
            reader.report(.invalidValue, m.location(of: "at"), "at \(format(at)) is not before the end of the run (duration \(format(total)))")
        }
        guard let kind, let at else { return nil }
        return AnomalyInjection(
            kind: kind, at: at, duration: duration, magnitude: magnitude, service: service, instance: instance, metric: metric)
    }

    private func file(_ m: MappingView) -> FileReplaySpec? {
        let path = reader.string(m, "path", required: true)
        var format = reader.choice(m, "format", FileReplaySpec.Format.allCases.map(\.rawValue)).flatMap(FileReplaySpec.Format.init)
        if format == nil, !m.contains("format"), let path {
            let lower = path.lowercased()
            if lower.hasSuffix(".csv") {
                format = .csv
            } else if lower.hasSuffix(".prom") || lower.hasSuffix(".txt") {
                format = .exposition
            } else {
                reader.report(.missingKey, m.location, "cannot tell the format of '\(path)' from its extension (.csv, .prom, .txt); set format: csv or exposition")
            }
        }
        let speed = reader.number(m, "speed") { $0 < 0 ? "must be ≥ 0" : nil } ?? 0
        let loop = reader.bool(m, "loop") ?? false
        guard let path, let format else { return nil }
        return FileReplaySpec(path: path, format: format, speed: speed, loop: loop)
    }

    // MARK: Streams

    private func compileStream(
        _ node: Node, _ location: Location, signalTopics: [String: [String]?], outputs: OutputSpec?
    ) -> (StreamSpec?, StreamInfo?) {
        guard
            let m = reader.mapping(
                node, location, allowed: ["name", "topic", "selector", "window", "by", "without", "aggregations", "features"])
        else { return (nil, nil) }
        let name = reader.name(m, valid: Location.isIdentifier, rule: NameRules.identifierRule)
        var ok = name != nil

        // Topic, and its key labels for the grouping rule.
        let topic = reader.string(m, "topic", required: true)
        var keyLabels: [String]??
        if let topic {
            if let keys = signalTopics[topic] {
                keyLabels = .some(keys)
            } else {
                let known = signalTopics.keys.sorted()
                reader.report(
                    .unknownReference, m.location(of: "topic"),
                    "topic '\(topic)' is not declared under kafka.topics and no collector publishes to it\(Suggestions.hint(for: topic, in: known, listing: !known.isEmpty))")
                ok = false
            }
        }

        var selector: [Matcher] = []
        if let node = m["selector"] {
            if let parsed = reader.selector(node, m.location(of: "selector")) { selector = parsed } else { ok = false }
        }

        let window = reader.mapping(
            m, "window", allowed: ["type", "size", "hop", "allowed_lateness", "idle_timeout", "late", "late_retention"], required: true
        ).flatMap(compileWindow)
        if window == nil { ok = false }

        // Grouping and the key-label rule.
        var grouping = Grouping.by([])
        var groupingLocation = m.location
        if m.contains("by"), m.contains("without") {
            reader.report(.invalidValue, m.keyLocation(of: "without"), "use either by or without, not both")
            ok = false
        } else if let by = reader.strings(m, "by") {
            grouping = .by(labelNames(by))
            groupingLocation = m.location(of: "by")
        } else if let without = reader.strings(m, "without") {
            grouping = .without(labelNames(without))
            groupingLocation = m.location(of: "without")
        }
        if !(m.contains("by") && m.contains("without")), let topic, case .some(let keys) = keyLabels {
            if let complaint = keyLabelComplaint(grouping, topic: topic, keys: keys) {
                reader.report(.keyLabels, groupingLocation, complaint)
                ok = false
            }
        }

        // Aggregations, then derived features.
        var aggregations: [AggregationSpec] = []
        var featureNames: [String] = []
        if let aggs = reader.mapping(m, "aggregations", allowed: nil, required: true) {
            if aggs.entries.isEmpty {
                reader.report(.invalidValue, aggs.location, "a stream needs at least one aggregation")
                ok = false
            }
            for entry in aggs.entries {
                featureNames.append(entry.key)
                guard let aggregation = compileAggregation(entry, aggs) else {
                    ok = false
                    continue
                }
                aggregations.append(aggregation)
            }
        } else {
            ok = false
        }
        var derived: [(DerivedFeatureSpec, Location)] = []
        if let features = reader.mapping(m, "features", allowed: nil) {
            for entry in features.entries {
                let location = features.location(of: entry.key)
                if featureNames.contains(entry.key) {
                    reader.report(.duplicate, features.keyLocation(of: entry.key), "feature '\(entry.key)' is already an aggregation of this stream")
                    ok = false
                    continue
                }
                featureNames.append(entry.key)
                guard checkFeatureName(entry.key, features.keyLocation(of: entry.key)) else {
                    ok = false
                    continue
                }
                guard case .scalar(let scalar) = entry.value, !entry.value.isNull else {
                    reader.wrongType(entry.value, location, expected: "an expression such as errors / requests")
                    ok = false
                    continue
                }
                do {
                    let expression = try ExpressionParser.parse(scalar.string)
                    derived.append((DerivedFeatureSpec(name: entry.key, expression: expression, source: scalar.string), location))
                } catch {
                    reader.report(.invalidValue, location.advanced(by: error.offset, quoted: entry.value.isQuoted), "invalid expression: \(error.message)")
                    ok = false
                }
            }
        }
        let ordered = orderDerived(derived, allFeatures: featureNames)
        if ordered == nil { ok = false }

        let info = name.map { StreamInfo(name: $0, features: featureNames) }
        guard ok, let name, let topic, let window, let ordered else { return (nil, info) }
        return (
            StreamSpec(
                name: name, topic: topic, selector: selector, window: window, grouping: grouping, aggregations: aggregations,
                derived: ordered),
            info
        )
    }

    /// Why `grouping` breaks the key-label rule of `topic`, or nil when it keeps it.
    private func keyLabelComplaint(_ grouping: Grouping, topic: String, keys: [String]?) -> String? {
        guard let keys else {
            if case .without(let dropped) = grouping, dropped.allSatisfy({ $0 == Labels.metricName }) { return nil }
            return "topic '\(topic)' is keyed by the whole series (it declares no key_by), so only per-series grouping "
                + "(without: []) keeps each window group on one partition; declare key_by labels for the topic under "
                + "kafka.topics and keep them in the grouping"
        }
        let keyList = keys.joined(separator: ", ")
        switch grouping {
        case .by(let kept):
            let missing = keys.filter { !kept.contains($0) }
            guard !missing.isEmpty else { return nil }
            return "grouping must keep every key label of topic '\(topic)' (key_by: [\(keyList)]), so that one window "
                + "group never spans partitions; add \(missing.joined(separator: ", ")) to by"
        case .without(let dropped):
            let removed = keys.filter { dropped.contains($0) }
            guard !removed.isEmpty else { return nil }
            return "grouping must keep every key label of topic '\(topic)' (key_by: [\(keyList)]), so that one window "
                + "group never spans partitions; remove \(removed.joined(separator: ", ")) from without"
        }
    }

    private func checkFeatureName(_ name: String, _ location: Location) -> Bool {
        guard Location.isIdentifier(name) else {
            reader.report(.invalidValue, location, "'\(name)' is not a valid feature name; expected \(NameRules.identifierRule)")
            return false
        }
        return true
    }

    private func compileWindow(_ w: MappingView) -> WindowSpec? {
        let kindName = reader.choice(w, "type", WindowSpec.Kind.allCases.map(\.rawValue)) ?? (w.contains("type") ? nil : "tumbling")
        let size = reader.duration(w, "size", required: true)
        var hop: Duration?
        var ok = kindName != nil && size != nil
        if kindName == "tumbling", w.contains("hop") {
            reader.report(.unknownKey, w.keyLocation(of: "hop"), "hop applies only to hopping windows (a tumbling window hops by its size)")
            ok = false
        } else if kindName == "hopping" {
            hop = reader.duration(w, "hop", required: true)
            if let hop, let size {
                if hop > size {
                    reader.report(.invalidValue, w.location(of: "hop"), "hop (\(format(hop))) must not exceed size (\(format(size)))")
                    ok = false
                } else if size.milliseconds % hop.milliseconds != 0 {
                    reader.report(.invalidValue, w.location(of: "hop"), "hop (\(format(hop))) must divide size (\(format(size))) evenly")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        let lateness = reader.duration(w, "allowed_lateness", .nonNegative)
        let idle = reader.duration(w, "idle_timeout")
        let late = reader.choice(w, "late", WindowSpec.LatePolicy.allCases.map(\.rawValue)).flatMap(WindowSpec.LatePolicy.init)
        let retention = reader.duration(w, "late_retention", .nonNegative)
        if w.contains("late_retention"), late != .update {
            reader.report(.unknownKey, w.keyLocation(of: "late_retention"), "late_retention applies only with late: update")
            ok = false
        }
        if (w.contains("allowed_lateness") && lateness == nil) || (w.contains("idle_timeout") && idle == nil)
            || (w.contains("late") && late == nil) || (w.contains("late_retention") && retention == nil)
        {
            ok = false
        }
        guard ok, let kindName, let kind = WindowSpec.Kind(rawValue: kindName), let size else { return nil }
        return WindowSpec(
            kind: kind, size: size, hop: hop, allowedLateness: lateness ?? .zero, idleTimeout: idle ?? .seconds(30),
            latePolicy: late ?? .drop, lateRetention: retention)
    }

    private func compileAggregation(_ entry: MappingView.Entry, _ parent: MappingView) -> AggregationSpec? {
        let location = parent.location(of: entry.key)
        let nameOK = checkFeatureName(entry.key, parent.keyLocation(of: entry.key))
        guard let m = reader.mapping(entry.value, location, allowed: ["fn", "selector", "q", "relative_error"]) else { return nil }
        let fn = reader.choice(m, "fn", PipelineLoader.aggregationFunctions, required: true)
        var selector: [Matcher]? = []
        if let node = m["selector"] { selector = reader.selector(node, m.location(of: "selector")) }
        var function: AggregationFunction?
        switch fn {
        case "quantile":
            let q = reader.number(m, "q", required: true) { (0...1).contains($0) ? nil : "q must be between 0 and 1" }
            let relativeError = m.contains("relative_error")
                ? reader.number(m, "relative_error") { $0 > 0 && $0 < 1 ? nil : "relative_error must be > 0 and < 1" } : 0.01
            if let q, let relativeError { function = .quantile(q: q, relativeError: relativeError) }
        case .some(let other):
            for key in ["q", "relative_error"] where m.contains(key) {
                reader.report(.unknownKey, m.keyLocation(of: key), "\(key) applies only to fn: quantile")
            }
            if !m.contains("q"), !m.contains("relative_error") {
                function = [
                    "count": .count, "sum": .sum, "min": .min, "max": .max, "avg": .avg, "last": .last, "stddev": .stddev,
                    "rate": .rate, "increase": .increase,
                ][other]
            }
        case .none:
            break
        }
        guard nameOK, let function, let selector else { return nil }
        return AggregationSpec(name: entry.key, function: function, selector: selector)
    }

    /// Derived features in an order where each comes after those it reads (declaration
    /// order where free); reports unknown references and cycles. Nil on any problem.
    private func orderDerived(_ derived: [(DerivedFeatureSpec, Location)], allFeatures: [String]) -> [DerivedFeatureSpec]? {
        var ok = true
        let derivedNames = Set(derived.map(\.0.name))
        for (feature, location) in derived {
            for reference in feature.expression.references.sorted() where !allFeatures.contains(reference) {
                reader.report(
                    .unknownReference, location,
                    "feature '\(feature.name)' reads '\(reference)', which is not a feature of this stream\(Suggestions.hint(for: reference, in: allFeatures, listing: false))")
                ok = false
            }
        }
        var placed: [DerivedFeatureSpec] = []
        var placedNames: Set<String> = []
        var remaining = derived
        while !remaining.isEmpty {
            guard
                let next = remaining.firstIndex(where: { item in
                    item.0.expression.references.allSatisfy { !derivedNames.contains($0) || placedNames.contains($0) }
                })
            else { break }
            placed.append(remaining[next].0)
            placedNames.insert(remaining[next].0.name)
            remaining.remove(at: next)
        }
        // What is left is in a cycle or reads one; report each cycle once.
        var reported: Set<String> = []
        let byName = Dictionary(remaining.map { ($0.0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (feature, _) in remaining where !reported.contains(feature.name) {
            var path = [feature.name]
            var current = feature.name
            while let item = byName[current],
                let next = item.0.expression.references.sorted().first(where: { byName[$0] != nil })
            {
                if let start = path.firstIndex(of: next) {
                    let cycle = Array(path[start...])
                    if cycle.allSatisfy({ !reported.contains($0) }), let first = byName[cycle[0]] {
                        reported.formUnion(cycle)
                        reader.report(.cycle, first.1, "features depend on each other in a cycle: \((cycle + [cycle[0]]).joined(separator: " → "))")
                    }
                    break
                }
                path.append(next)
                current = next
            }
            ok = false
        }
        return ok ? placed : nil
    }

    // MARK: Detectors

    private func compileDetector(_ node: Node, _ location: Location, streams: [String: StreamInfo]) -> DetectorSpec? {
        guard let m = reader.mapping(node, location, allowed: ["name", "type", "stream", "features", "threshold", "params"]) else {
            return nil
        }
        let name = reader.name(m, valid: NameRules.isComponentName, rule: "letters, digits, _ and -")
        let typeName = reader.choice(m, "type", DetectorCatalog.types.map(\.name), required: true)
        let type = typeName.flatMap(DetectorCatalog.type(named:))
        var ok = name != nil && type != nil
        let streamName = reader.string(m, "stream", required: true)
        var stream: StreamInfo?
        if let streamName {
            stream = streams[streamName]
            if stream == nil {
                reader.report(
                    .unknownReference, m.location(of: "stream"),
                    "no stream is called '\(streamName)'\(Suggestions.hint(for: streamName, in: streams.keys.sorted()))")
                ok = false
            }
        }
        var features: [String] = []
        if let listed = reader.strings(m, "features", required: true) {
            if listed.isEmpty {
                reader.report(.invalidValue, m.location(of: "features"), "a detector needs at least one feature")
                ok = false
            }
            for (feature, featureLocation) in listed {
                if features.contains(feature) {
                    reader.report(.duplicate, featureLocation, "feature '\(feature)' is listed twice")
                    ok = false
                } else if let stream, !stream.features.contains(feature) {
                    reader.report(
                        .unknownReference, featureLocation,
                        "stream '\(stream.name)' has no feature '\(feature)'\(Suggestions.hint(for: feature, in: stream.features))")
                    ok = false
                }
                features.append(feature)
            }
        } else {
            ok = false
        }
        let threshold = reader.number(m, "threshold") { $0 > 0 ? nil : "must be > 0" }
        if m.contains("threshold"), threshold == nil { ok = false }
        var parameters: [String: ParameterValue] = [:]
        if let type {
            let params = reader.mapping(m, "params", allowed: type.parameters.map(\.name))
            if m.contains("params"), params == nil { ok = false }
            for parameter in type.parameters {
                if let params, let node = params[parameter.name] {
                    if let value = parameterValue(node, params.location(of: parameter.name), parameter.constraint) {
                        parameters[parameter.name] = value
                    } else {
                        ok = false
                    }
                } else if let value = parameter.defaultValue {
                    parameters[parameter.name] = value
                } else {
                    reader.report(.missingKey, params?.location ?? m.location, "missing required parameter '\(parameter.name)' of \(type.name)")
                    ok = false
                }
            }
            if ok {
                for (key, complaint) in type.check(parameters) {
                    reader.report(.invalidValue, params?.location(of: key) ?? m.location, complaint)
                    ok = false
                }
            }
        }
        guard ok, let name, let type, let streamName else { return nil }
        return DetectorSpec(
            name: name, type: type.name, stream: streamName, features: features, threshold: threshold, parameters: parameters)
    }

    private func parameterValue(_ node: Node, _ location: Location, _ constraint: DetectorParameter.Constraint) -> ParameterValue? {
        switch constraint {
        case .integer(let minimum):
            return reader.int(node, location, min: minimum).map { .number(Double($0)) }
        case .number(let bound):
            guard let x = reader.number(node, location) else { return nil }
            guard x > bound else {
                reader.report(.invalidValue, location, "must be > \(SpecReader.format(bound)), got \(SpecReader.format(x))")
                return nil
            }
            return .number(x)
        case .numberIn(let range):
            guard let x = reader.number(node, location) else { return nil }
            guard range.contains(x) else {
                reader.report(
                    .invalidValue, location,
                    "must be between \(SpecReader.format(range.lowerBound)) and \(SpecReader.format(range.upperBound)), got \(SpecReader.format(x))")
                return nil
            }
            return .number(x)
        case .bool:
            switch node.plainScalar {
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default:
                reader.wrongType(node, location, expected: "true or false")
                return nil
            }
        case .oneOf(let choices):
            guard let text = reader.string(node, location) else { return nil }
            guard choices.contains(text) else {
                reader.report(.invalidValue, location, "unknown value '\(text)'\(Suggestions.hint(for: text, in: choices))")
                return nil
            }
            return .string(text)
        case .numbers:
            guard let items = reader.list(node, location) else { return nil }
            let values = items.compactMap { reader.number($0.0, $0.1) }
            return values.count == items.count ? .list(values.map { .number($0) }) : nil
        }
    }

    // MARK: Runtime

    private func compileRuntime(_ spec: MappingView) -> RuntimeSettings {
        var runtime = RuntimeSettings()
        guard let m = reader.mapping(spec, "runtime", allowed: ["workers", "listen", "retention_interval"]) else { return runtime }
        runtime.workers = reader.int(m, "workers", min: 1)
        if let listen = reader.string(m, "listen") {
            if let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]),
                port > 0 || listen.hasSuffix(":0")
            {
                runtime.listen = listen
            } else {
                reader.report(.invalidValue, m.location(of: "listen"), "expected host:port (e.g. 127.0.0.1:9464), got '\(listen)'")
            }
        }
        runtime.retentionInterval = reader.duration(m, "retention_interval") ?? runtime.retentionInterval
        return runtime
    }

    private func format(_ duration: Duration) -> String { DurationParser.format(milliseconds: duration.milliseconds) }
}

extension String {
    /// `my-pipe` → `my_pipe`, so the name can be part of a SQL identifier.
    var replacingHyphens: String { String(unicodeScalars.map { $0 == "-" ? "_" : Character($0) }) }
}
