import Foundation
import SeismoCore
import SeismoDetect
import SeismoPipeline
@testable import SeismoRuntime
import SeismoStream
import Synchronization
import Testing

/// A pipeline with one stream of two features grouped by service, and the detector given.
func modelPipeline(_ detector: String) throws -> Pipeline {
    try PipelineLoader.load(
        yaml: """
            pipeline: m
            kafka:
              topics:
                signals.m: {key_by: [service]}
            streams:
              - name: s
                topic: signals.m
                window: {size: 1m}
                by: [service]
                aggregations:
                  cpu: {fn: avg, selector: cpu}
                  latency: {fn: avg, selector: latency}
            detectors:
              - \(detector)
            """, file: "m.yaml")
}

/// Minute windows of `cpu` and `latency` for `services`, Gaussian around per-service levels.
func windows(_ count: Int, services: [String] = ["a", "b"], start: Int64 = 1_800_000_000_000, seed: UInt64 = 3) -> [WindowOutput] {
    var rng = SplitMix64(seed: seed)
    var out: [WindowOutput] = []
    for k in 0..<count {
        for (i, service) in services.enumerated() {
            let end = start + Int64(k + 1) * 60_000
            out.append(
                WindowOutput(
                    stream: "s", windowStart: end - 60_000, windowEnd: end, group: ["service": service],
                    values: [10 * Double(i + 1) + 10 * sin(Double(k) / 20) + rng.nextGaussian(), 1 + 0.1 * rng.nextGaussian()],
                    sampleCount: 6))
        }
    }
    return out
}

func trainAndWrite(
    _ repo: ModelRepository, _ pipeline: Pipeline, detector: String, outputs: [WindowOutput], fpr: Double = 0.01
) throws -> String {
    let spec = try #require(pipeline.detectors.first { $0.name == detector })
    let history = History(stream: try #require(pipeline.stream(named: spec.stream)), outputs: outputs, source: "test")
    var parameters = TrainedDetectors.parameters(of: spec)
    parameters["false_positive_rate"] = .number(fpr)
    let data = history.trainingSet(features: spec.features)
    let result = try ModelTrainer.train(kind: try #require(TrainedDetectors.kind(of: spec)), parameters: parameters, data: data, seed: 1)
    let window = ModelMetadata.TrainingWindow(from: nil, to: nil, rows: data.rowCount, skippedRows: 0, groups: 2, source: "test")
    return try repo.write(result, pipeline: pipeline.name, detector: detector, seed: 1, window: window, data: data).version
}

func modelRoot() throws -> ModelRepository {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-wiring-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return ModelRepository(root: path)
}

@Suite("Trained detectors in the running pipeline")
struct ModelWiringTests {
    @Test("before a model is promoted a trained detector scores nothing; after, it scores every window")
    func promotion() throws {
        let pipeline = try modelPipeline("{name: f, type: isolation_forest, stream: s, features: [cpu, latency], params: {trees: 30}}")
        let repo = try modelRoot()
        var bank = try DetectorBank(pipeline: pipeline, models: repo)
        let history = windows(300)
        #expect(bank.verdicts(Array(history.prefix(4))).allSatisfy { $0.verdict == nil })
        let version = try trainAndWrite(repo, pipeline, detector: "f", outputs: history)
        #expect(bank.reloadModels(from: repo) == [])
        try repo.promote(pipeline: "m", detector: "f", version: version)
        #expect(bank.reloadModels(from: repo) == [.installed(detector: "f", version: "v1")])
        #expect(bank.reloadModels(from: repo) == [])
        var outlier = windows(1, start: 1_800_100_000_000)[0]
        outlier.values = [10, 9]
        let scored = bank.verdicts(windows(5, start: 1_800_050_000_000) + [outlier])
        #expect(scored.allSatisfy { $0.verdict != nil })
        #expect(try #require(scored.last?.verdict).isAnomalous)
        let events = bank.score([outlier], detectedAt: .now)
        #expect(events.count == 1 && events[0].detectorType == "isolation_forest")
        #expect(Set(events[0].contributions.map(\.feature)).isSubset(of: ["cpu", "latency"]) && !events[0].contributions.isEmpty)
    }

    @Test("a newly promoted version replaces the old one; a damaged one is reported once and the old one keeps scoring")
    func replacement() throws {
        let pipeline = try modelPipeline("{name: f, type: isolation_forest, stream: s, features: [cpu, latency], params: {trees: 30}}")
        let repo = try modelRoot()
        let history = windows(300)
        _ = try trainAndWrite(repo, pipeline, detector: "f", outputs: history, fpr: 0.01)
        _ = try trainAndWrite(repo, pipeline, detector: "f", outputs: history, fpr: 0.2)
        try repo.promote(pipeline: "m", detector: "f", version: "v1")
        var bank = try DetectorBank(pipeline: pipeline, models: repo)
        let probe = windows(3, start: 1_800_090_000_000)
        let first = bank.verdicts(probe).map { $0.verdict!.score }
        try repo.promote(pipeline: "m", detector: "f", version: "v2")
        #expect(bank.reloadModels(from: repo) == [.installed(detector: "f", version: "v2")])
        let second = bank.verdicts(probe).map { $0.verdict!.score }
        // v2 has the same trees and a lower threshold (20% FPR): every score is higher.
        #expect(zip(first, second).allSatisfy { $1 > $0 })

        _ = try trainAndWrite(repo, pipeline, detector: "f", outputs: history)
        try repo.promote(pipeline: "m", detector: "f", version: "v3")
        let weights = repo.directory(pipeline: "m", detector: "f", version: "v3") + "/weights.bin"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: weights)))
        bytes[30] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: weights))
        let changes = bank.reloadModels(from: repo)
        guard case .failed(detector: "f", version: "v3", _) = changes.first else {
            Issue.record("expected a failed reload, got \(changes)")
            return
        }
        #expect(bank.reloadModels(from: repo) == [])
        #expect(bank.verdicts(probe).map { $0.verdict!.score } == second)
    }

    @Test("the pipeline's threshold overrides the calibrated one on the shared scale")
    func thresholdOverride() throws {
        let pipeline = try modelPipeline(
            "{name: f, type: autoencoder, stream: s, features: [cpu, latency], threshold: 4, params: {layers: [2], epochs: 5}}")
        let repo = try modelRoot()
        try repo.promote(pipeline: "m", detector: "f", version: try trainAndWrite(repo, pipeline, detector: "f", outputs: windows(200)))
        var bank = try DetectorBank(pipeline: pipeline, models: repo)
        let verdicts = bank.verdicts(windows(10, start: 1_800_090_000_000)).compactMap(\.verdict)
        #expect(verdicts.count == 20 && verdicts.allSatisfy { $0.threshold == 4 })
        #expect(verdicts.allSatisfy { $0.isAnomalous == ($0.score > 4) })
    }

    @Test("seasonal: one tracker per group from its own model; a group without a model is not scored")
    func seasonal() throws {
        let pipeline = try modelPipeline("{name: season, type: seasonal, stream: s, features: [cpu], params: {periods: [7540]}}")
        let repo = try modelRoot()
        let all = windows(620)
        let history = Array(all.prefix(1_200))
        try repo.promote(pipeline: "m", detector: "season", version: try trainAndWrite(repo, pipeline, detector: "season", outputs: history))
        var bank = try DetectorBank(pipeline: pipeline, models: repo)
        let next = Array(all.suffix(40)) + windows(20, services: ["c"], start: history.last!.windowEnd, seed: 9)
        let scored = bank.verdicts(next)
        #expect(scored.filter { $0.output.group == ["service": "c"] }.allSatisfy { $0.verdict == nil })
        let known = scored.filter { $0.output.group != ["service": "c"] }
        #expect(known.allSatisfy { $0.verdict != nil })
        // Each group is forecast around its own level (10 for a, 20 for b).
        for s in known {
            let expected = try #require(s.verdict?.expected)
            #expect(abs(expected - s.values[0]) < 6, "\(s.output.group): \(expected) vs \(s.values[0])")
        }
    }

    @Test("the reload service polls on its clock: each tick re-reads the pointer, no tick no reload")
    func reloadService() async throws {
        let clock = ManualClock()
        let (ticks, continuation) = AsyncStream.makeStream(of: Int.self)
        let count = Mutex(0)
        let service = ModelReloadService(interval: .seconds(2), clock: clock) {
            let n = count.withLock { c in
                c += 1
                return c
            }
            continuation.yield(n)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            var iterator = ticks.makeAsyncIterator()
            await clock.waitForSleepers(1)
            #expect(count.withLock { $0 } == 0)
            clock.advance(by: .seconds(2))
            #expect(await iterator.next() == 1)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            #expect(count.withLock { $0 } == 1)
            clock.advance(by: .seconds(1))
            #expect(await iterator.next() == 2)
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// A clock that moves only when told to; `sleep` suspends until `advance` passes its deadline.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    private let state = Mutex(State())
    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let due = state.withLock { s -> Bool in
                    if deadline <= s.now || Task.isCancelled { return true }
                    s.sleepers.append((id, deadline, continuation))
                    return false
                }
                if due { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i).continuation
            }
            waiting?.resume(throwing: CancellationError())
        }
        try Task.checkCancellation()
    }

    func advance(by duration: Duration) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now = s.now.advanced(by: duration)
            let ready = s.sleepers.filter { $0.deadline <= s.now }
            s.sleepers.removeAll { $0.deadline <= s.now }
            return ready.map(\.continuation)
        }
        for c in due { c.resume() }
    }

    /// Waits (yielding, not sleeping) until `count` tasks sleep on this clock.
    func waitForSleepers(_ count: Int) async {
        while state.withLock({ $0.sleepers.count }) < count { await Task.yield() }
    }
}
