import Foundation
import SeismoCore
@testable import SeismoDetect
import SeismoTesting
import Testing

@Suite("NAB scoring of binary detections")
struct NABScoringTests {
    @Test("no detections scores 0 and one earliest detection in every window scores close to 100")
    func bounds() {
        let windows = [300...340, 700...760]
        var series = NABScoring.Series(detections: [Bool](repeating: false, count: 1_000), windows: windows)
        #expect(NABScoring.score([series]).normalised == 0)
        series.detections[300] = true
        series.detections[700] = true
        let result = NABScoring.score([series])
        #expect(result.normalised > 99 && result.normalised <= 100)
        #expect(result.perfect == 2)
    }

    @Test("a false positive just after a window costs less than one far from it; one before any window costs fp")
    func falsePositives() {
        let base = [Bool](repeating: false, count: 1_000)
        func raw(_ i: Int) -> Double {
            var d = base
            d[i] = true
            return NABScoring.score([.init(detections: d, windows: [400...440])]).raw
        }
        let nothing = NABScoring.score([.init(detections: base, windows: [400...440])]).raw
        #expect(abs(raw(200) - nothing + 0.11) < 1e-12)
        #expect(raw(442) - nothing > raw(900) - nothing)
        // Rows in the probation period (first 150 of 1,000) do not count.
        #expect(raw(100) == nothing)
    }

    @Test("matches /work/shared/eval/nab_score.py at a fixed threshold on random series, all three profiles")
    func parityWithReferenceScorer() async throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/eval/nab_score.py").path
        try #require(FileManager.default.fileExists(atPath: script), "the NAB scorer is expected at \(script)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-nab-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: root.appendingPathComponent("data/cat"), withIntermediateDirectories: true)
        try fm.createDirectory(at: root.appendingPathComponent("results/d/cat"), withIntermediateDirectories: true)
        var rng = SplitMix64(seed: 42)
        var ours: [NABScoring.Series] = []
        var labels: [String: [[String]]] = [:]
        for s in 0..<6 {
            let n = 400 + rng.next(below: 1_600)
            let start = Timestamp(seconds: 1_400_000_000)
            func stamp(_ i: Int) -> String {
                String(TimeParser.formatRFC3339(Timestamp(milliseconds: start.milliseconds + Int64(i) * 300_000)).prefix(19))
                    .replacingOccurrences(of: "T", with: " ")
            }
            var windows: [ClosedRange<Int>] = []
            var cursor = rng.next(below: n / 3)
            while windows.count < 3 {
                let width = 1 + rng.next(below: 60)
                guard cursor + width < n else { break }
                windows.append(cursor...(cursor + width - 1))
                cursor += width + 1 + rng.next(below: n / 3)
            }
            let detections = (0..<n).map { _ in rng.next(below: 100) < 3 }
            ours.append(NABScoring.Series(detections: detections, windows: windows))
            labels["cat/s\(s).csv"] = windows.map { [stamp($0.lowerBound), stamp($0.upperBound)] }
            let data = "timestamp,value\n" + (0..<n).map { "\(stamp($0)),\($0)\n" }.joined()
            try data.write(to: root.appendingPathComponent("data/cat/s\(s).csv"), atomically: true, encoding: .utf8)
            let results = "timestamp,anomaly_score\n" + (0..<n).map { "\(stamp($0)),\(detections[$0] ? 1 : 0)\n" }.joined()
            try results.write(to: root.appendingPathComponent("results/d/cat/s\(s).csv"), atomically: true, encoding: .utf8)
        }
        try JSONSerialization.data(withJSONObject: labels).write(to: root.appendingPathComponent("labels.json"))
        let run = try await ProcessRunner.run(
            "/usr/bin/env",
            [
                "python3", script, "--data", root.appendingPathComponent("data").path, "--labels",
                root.appendingPathComponent("labels.json").path, "--results", root.appendingPathComponent("results").path,
                "--detector", "d", "--threshold", "0.5", "--quiet", "--json", root.appendingPathComponent("out.json").path,
            ], timeout: .seconds(600))
        try #require(run.status == 0, "\(run.stderr)")
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("out.json"))) as? [String: Any])
        let profiles = try #require(report["profiles"] as? [String: [String: Any]])
        for profile in NABScoring.Profile.all {
            let reference = try #require(profiles[profile.name])
            let mine = NABScoring.score(ours, profile: profile)
            #expect(abs(mine.raw - (number(reference["raw"]) ?? .nan)) < 1e-9, "\(profile.name) raw")
            #expect(abs(mine.null - (number(reference["null"]) ?? .nan)) < 1e-9, "\(profile.name) null")
            #expect(abs(mine.normalised - (number(reference["normalized"]) ?? .nan)) < 1e-9, "\(profile.name) score")
        }
    }
}
