import Foundation
import SeismoCore
import SeismoTesting
import Testing

@testable import SeismoWire

@Suite("AnomalyEvent")
struct AnomalyEventTests {
    static let schemaURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schemas/anomaly-event.v1.schema.json")

    static func event(optionals: Bool = true, score: Double = 4.2) -> AnomalyEvent {
        AnomalyEvent(
            pipeline: "checkout", detector: "latency", detectorType: "seasonal",
            group: ["service": "api", "region": "eu-west-1"],
            windowStart: Timestamp(milliseconds: 1_795_300_000_000),
            windowEnd: Timestamp(milliseconds: 1_795_300_060_000),
            observed: ["p99": 1.25, "rate": 310], expected: optionals ? 0.4 : nil,
            band: optionals ? AnomalyEvent.Band(lower: 0.2, upper: 0.6) : nil, score: score, threshold: 3,
            severity: .warning,
            contributions: [
                AnomalyEvent.Contribution(feature: "rate", weight: 0.1),
                AnomalyEvent.Contribution(feature: "p99", weight: 0.9),
            ],
            detectedAt: Timestamp(milliseconds: 1_795_300_065_123))
    }

    static func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func schema() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: schemaURL)) as? [String: Any])
    }

    @Test("an event round-trips through JSON")
    func roundTrip() throws {
        for event in [Self.event(), Self.event(optionals: false)] {
            #expect(try AnomalyEventCodec.decode(AnomalyEventCodec.encode(event)) == event)
        }
    }

    @Test("JSON uses snake_case keys in sorted order, RFC 3339 times and milliseconds")
    func jsonShape() throws {
        let text = String(decoding: AnomalyEventCodec.encode(Self.event()), as: UTF8.self)
        #expect(text.hasPrefix(#"{"band":{"lower":0.2,"upper":0.6},"contributions":[{"feature":"p99""#))
        #expect(text.contains(#""window_start":"2026-11-21T22:26:40.000Z","window_start_ms":1795300000000"#))
        #expect(text.contains(#""detector_type":"seasonal""#))
        #expect(text.contains(#""schema":"seismo.anomaly.v1""#))
        #expect(text.contains(#""severity":"warning""#))
    }

    @Test("the id is stable and depends only on pipeline, detector, group and window")
    func stableID() {
        let a = Self.event()
        var b = Self.event(optionals: false, score: 9)
        b.detectedAt = Timestamp(milliseconds: 0)
        #expect(a.id == b.id)
        #expect(a.id.count == 32)
        #expect(a.id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        let otherWindow = AnomalyEvent.id(
            pipeline: "checkout", detector: "latency", group: a.group, windowStart: a.windowEnd,
            windowEnd: Timestamp(milliseconds: a.windowEnd.milliseconds + 60_000))
        #expect(otherWindow != a.id)
        let otherGroup = AnomalyEvent.id(
            pipeline: "checkout", detector: "latency", group: ["service": "api"], windowStart: a.windowStart,
            windowEnd: a.windowEnd)
        #expect(otherGroup != a.id)
    }

    @Test("contributions are sorted by weight, largest first")
    func contributionsSorted() {
        #expect(Self.event().contributions.map(\.feature) == ["p99", "rate"])
    }

    @Test("non-finite numbers are written as NaN, +Inf and -Inf strings and read back")
    func nonFinite() throws {
        var event = Self.event(score: .infinity)
        event.observed = ["gap": .nan, "low": -.infinity]
        let bytes = AnomalyEventCodec.encode(event)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""score":"+Inf""#))
        #expect(text.contains(#""gap":"NaN""#))
        let decoded = try AnomalyEventCodec.decode(bytes)
        #expect(decoded.score == .infinity)
        #expect(decoded.observed["gap"]?.isNaN == true)
        #expect(decoded.observed["low"] == -.infinity)
    }

    @Test("another schema version is rejected as unsupported")
    func otherSchema() throws {
        var object = try Self.jsonObject(AnomalyEventCodec.encode(Self.event()))
        object["schema"] = "seismo.anomaly.v2"
        let bytes = try JSONSerialization.data(withJSONObject: object)
        let error = #expect(throws: WireError.self) { try AnomalyEventCodec.decode(bytes) }
        #expect(error?.code == .unsupportedVersion)
    }

    @Test("invalid events are rejected with the field named")
    func invalidEvents() throws {
        let valid = try Self.jsonObject(AnomalyEventCodec.encode(Self.event()))
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("score", { $0.removeValue(forKey: "score") }),
            ("severity", { $0["severity"] = "catastrophic" }),
            ("window_start", { $0["window_start_ms"] = 1 }),
            ("detected_at", { $0["detected_at"] = "yesterday" }),
        ]
        for (field, mutate) in cases {
            var object = valid
            mutate(&object)
            let bytes = try JSONSerialization.data(withJSONObject: object)
            let error = #expect(throws: WireError.self) { try AnomalyEventCodec.decode(bytes) }
            #expect(error?.code == .invalidJSON)
            #expect(error?.message.contains(field) == true, "\(error?.message ?? "")")
        }
        #expect(throws: WireError.self) { try AnomalyEventCodec.decode(Array("not json".utf8)) }
    }

    // MARK: The published JSON Schema

    @Test("every key the codec writes is a documented property of the schema, and `required` is exactly the keys always written")
    func schemaCoversCodingKeys() throws {
        let schema = try Self.schema()
        let properties = try #require(schema["properties"] as? [String: [String: Any]])
        let required = Set(try #require(schema["required"] as? [String]))
        let allKeys = Set(AnomalyEvent.CodingKeys.allCases.map(\.rawValue))
        #expect(Set(properties.keys) == allKeys)
        for (name, property) in properties {
            let description = property["description"] as? String ?? ""
            #expect(description.count > 10, "property \(name) needs a description")
        }
        #expect(required == allKeys.subtracting(AnomalyEvent.optionalKeys.map(\.rawValue)))
        #expect(required.isSubset(of: Set(properties.keys)))
        // The keys really written agree: all of them with optionals, `required` without.
        #expect(Set(try Self.jsonObject(AnomalyEventCodec.encode(Self.event())).keys) == allKeys)
        #expect(Set(try Self.jsonObject(AnomalyEventCodec.encode(Self.event(optionals: false))).keys) == required)
    }

    @Test("encoded events validate against the JSON Schema with python jsonschema; broken ones do not")
    func validatesWithJSONSchema() async throws {
        var nonFinite = Self.event(score: .infinity)
        nonFinite.observed["gap"] = .nan
        for event in [Self.event(), Self.event(optionals: false), nonFinite] {
            let result = try await Self.validate(AnomalyEventCodec.encode(event))
            #expect(result.valid, "\(result.output)")
        }
        var broken = try Self.jsonObject(AnomalyEventCodec.encode(Self.event()))
        broken["severity"] = "catastrophic"
        let result = try await Self.validate(Array(JSONSerialization.data(withJSONObject: broken)))
        #expect(!result.valid)
        #expect(result.output.contains("catastrophic"))
    }

    static func validate(_ json: [UInt8]) async throws -> (valid: Bool, output: String) {
        try await JSONSchemaCheck.validate(json, schema: schemaURL.path)
    }
}
