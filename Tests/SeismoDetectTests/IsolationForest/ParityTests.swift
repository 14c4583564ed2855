import Foundation
import SeismoDetect
import SeismoTesting
import Testing

/// Runs scripts/iforest_parity.py (numpy + scikit-learn) and holds our forest to sklearn's ROC-AUC.
@Suite("Isolation forest parity with scikit-learn")
struct ParityTests {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("ROC-AUC within 0.02 of sklearn IsolationForest(n_estimators=100, max_samples=256) on five data sets")
    func parity() async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("iforest-parity-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try await ProcessRunner.run(
            "/usr/bin/env", ["python3", Self.repoRoot.appendingPathComponent("scripts/iforest_parity.py").path, out.path],
            environment: ["OMP_NUM_THREADS": "1"], timeout: .seconds(600))
        let output = run.stdout
        try #require(
            run.status == 0,
            "iforest_parity.py failed (needs `python3 -m pip install scikit-learn numpy`): \(run.stderr)")

        let results = output.split(separator: "\n").map { $0.split(separator: " ") }
        #expect(results.count >= 5)
        for line in results {
            let name = String(line[0])
            let sklearn = try #require(Double(line[1]))
            let (table, labels) = try Self.readCSV(out.appendingPathComponent("\(name).csv"))
            let model = try IsolationForest(treeCount: 100, subsampleSize: 256).fit(table, seed: 0)
            let ours = try RankingMetrics.rocAUC(scores: try model.rawScores(table), labels: labels)
            print("parity \(name): ours \(ours), sklearn \(sklearn)")
            #expect(abs(ours - sklearn) <= 0.02, "\(name): ours \(ours), sklearn \(sklearn)")
        }
    }

    /// Reads `f0,…,label` CSV with a header into a table and labels.
    static func readCSV(_ url: URL) throws -> (FeatureTable, [Bool]) {
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        let featureNames = Array(header.dropLast())
        var values: [Double] = []
        var labels: [Bool] = []
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",").compactMap { Double($0) }
            try #require(fields.count == header.count, "bad row in \(url.lastPathComponent): \(line)")
            values += fields.dropLast()
            labels.append(fields.last! == 1)
        }
        return (FeatureTable(featureNames: featureNames, rowCount: labels.count, values: values), labels)
    }
}
