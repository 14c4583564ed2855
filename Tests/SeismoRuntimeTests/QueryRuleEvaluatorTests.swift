import Foundation
import Logging
import SeismoAlert
import SeismoCore
import SeismoPipeline
import SeismoQuery
import SeismoRuntime
import SeismoStore
import ServiceLifecycle
import Synchronization
import Testing

/// PromQL alerting rules (`expr:`) evaluated by the engine over stored series.
@Suite("Query rules on the PromQL engine")
struct QueryRuleEvaluatorTests {
    static let t: Int64 = 1_800_000_000_000

    /// `up` for three instances (one down) and `errors` for one, 15 s apart over 5 minutes.
    static let evaluator: QueryRuleEvaluator = {
        func series(_ labels: [String: String], _ value: Double) -> StoredSeries {
            let steps = Array(0..<20).map { t - 300_000 + Int64($0) * 15_000 }
            return StoredSeries(
                labels: try! Labels(validating: labels), timestamps: steps, values: Array(repeating: value, count: steps.count))
        }
        let stored = [
            series(["__name__": "up", "instance": "a:9100", "job": "node"], 1),
            series(["__name__": "up", "instance": "b:9100", "job": "node"], 0),
            series(["__name__": "up", "instance": "c:9100", "job": "node"], 1),
            series(["__name__": "errors", "job": "api"], 7),
        ]
        return QueryRuleEvaluator(engine: Engine(querier: InMemoryQuerier(stored)))
    }()

    @Test("each series of the result is a candidate, labelled without __name__")
    func vectorResult() async throws {
        let down = try await Self.evaluator.evaluate("up == 0", at: Self.t)
        #expect(down.map(\.labels) == [["instance": "b:9100", "job": "node"]])
        #expect(down.map(\.value) == [0])
        let none = try await Self.evaluator.evaluate("up > 1", at: Self.t)
        #expect(none.isEmpty)
    }

    @Test("a scalar result is one candidate without labels; a range vector is an error")
    func otherResults() async throws {
        let scalar = try await Self.evaluator.evaluate("scalar(errors)", at: Self.t)
        #expect(scalar.count == 1 && scalar[0].labels.isEmpty && scalar[0].value == 7)
        await #expect(throws: QueryError.self) { _ = try await Self.evaluator.evaluate("up[5m]", at: Self.t) }
    }

    @Test("an expr that does not parse, or is a range vector, is a problem named by its rule")
    func problems() {
        let spec = AlertingSpec(
            rules: [
                AlertRuleSpec(name: "Good", condition: .query(expression: "up == 0")),
                AlertRuleSpec(name: "Broken", condition: .query(expression: "sum by (job (up)")),
                AlertRuleSpec(name: "Range", condition: .query(expression: "up[5m]")),
            ], topic: "alerts.demo")
        let problems = QueryRuleEvaluator.problems(in: spec)
        #expect(problems.count == 2)
        #expect(problems.first?.hasPrefix("rule Broken: expr: ") == true)
        #expect(problems.last?.hasPrefix("rule Range: expr: range vector") == true)
    }

    /// Records the status and labels of what the service publishes.
    final class Recorder: AlertPublisher, Sendable {
        let records = Mutex<[(status: String, labels: [String: String])]>([])
        func publish(_ batch: [(topic: String, key: String, value: [UInt8])]) async throws {
            for record in batch {
                let object = try JSONSerialization.jsonObject(with: Data(record.value)) as? [String: Any]
                let entry = (status: object?["status"] as? String ?? "", labels: object?["labels"] as? [String: String] ?? [:])
                records.withLock { $0.append(entry) }
            }
        }
        var statuses: [String] { records.withLock { $0.map(\.status) } }
    }

    @Test("the alert service runs the rule at its interval: the instance that is down fires after `for`")
    func serviceFires() async throws {
        let rule = AlertRuleSpec(
            name: "InstanceDown", condition: .query(expression: "up == 0"), holdFor: .milliseconds(200),
            labels: ["severity": try AlertTemplate(parsing: "page")])
        let spec = AlertingSpec(rules: [rule], topic: "alerts.demo", evaluationInterval: .milliseconds(50))
        let recorder = Recorder()
        let started = ContinuousClock.now
        // Wall time runs from the data's last sample, so the instant queries see it.
        let service = AlertService(
            configuration: .init(pipeline: "demo", spec: spec, deadLetterTopic: "deadletter.demo", tick: .milliseconds(20)),
            clock: ContinuousClock(),
            wallTime: { Self.t + (ContinuousClock.now - started).components.seconds * 1000 },
            persistence: nil, publisher: recorder, evaluator: Self.evaluator, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [.init(service: service)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<200 where recorder.statuses.isEmpty { try await Task.sleep(for: .milliseconds(25)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(recorder.statuses == ["firing"])
        let labels = recorder.records.withLock { $0.first?.labels }
        #expect(labels?["alertname"] == "InstanceDown")
        #expect(labels?["pipeline"] == "demo")
        #expect(labels?["instance"] == "b:9100")
        #expect(labels?["severity"] == "page")
        #expect(labels?["__name__"] == nil)
    }
}
