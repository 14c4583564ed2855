import Foundation
import SeismoDetect
import SeismoTesting

/// Release-build isolation-forest scoring throughput against scikit-learn, one core each.
enum DetectBenchmarks {
    static let trainRows = 10_000
    static let scoreRows = 100_000
    static let features = 8

    static func run() async throws {
        print(
            "SeismoDetect isolation forest scoring (rows/s of CPU time, one core; 100 trees, psi 256, \(features) features)")
        try BLAS.setThreadCount(BLAS.scoringThreadCount)
        guard let python = ProcessRunner.which("python3") else {
            print("  skipped: python3 not on PATH")
            return
        }
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/iforest_bench.py").path
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-iforest-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = try await ProcessRunner.run(
            python, [script, dir.path, "\(trainRows)", "\(scoreRows)", "\(features)"],
            environment: ["OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"],
            timeout: .seconds(600))
        guard out.status == 0,
            let line = out.stdout.split(separator: "\n").first(where: { $0.hasPrefix("sklearn_rows_per_second") }),
            let sklearn = Double(line.split(separator: " ")[1])
        else {
            print("  skipped: scripts/iforest_bench.py failed (pip install scikit-learn numpy): \(out.stderr.suffix(300))")
            return
        }
        let names = (0..<features).map { "f\($0)" }
        let train = FeatureTable(
            featureNames: names, rowCount: trainRows, values: try readDoubles(dir.appendingPathComponent("train.f64")))
        let score = FeatureTable(
            featureNames: names, rowCount: scoreRows, values: try readDoubles(dir.appendingPathComponent("score.f64")))

        let forest = try IsolationForest(treeCount: 100, subsampleSize: 256).fit(train, seed: 0)
        let ours = try bestRate(rows: scoreRows) { _ = try forest.rawScores(score) }
        print("  scikit-learn score_samples (n_jobs=1, OMP_NUM_THREADS=1): \(WireBenchmarks.formatted(sklearn))/s")
        let ratio = ours / sklearn
        print(
            "  isolation forest rawScores: \(WireBenchmarks.formatted(ours))/s, \(Double(Int(ratio * 10)) / 10)x sklearn"
                + "  (target >= 5x: \(ratio >= 5 ? "met" : "MISSED"))")

        let explained = try bestRate(rows: scoreRows / 10) {
            _ = try forest.score(FeatureTable(
                featureNames: names, rowCount: scoreRows / 10, values: Array(score.values[..<(scoreRows / 10 * features)])))
        }
        print("  isolation forest score with explanations: \(WireBenchmarks.formatted(explained))/s")
        let extended = try ExtendedIsolationForest(treeCount: 100, subsampleSize: 256).fit(train, seed: 0)
        let batched = try bestRate(rows: scoreRows) { _ = try extended.rawScores(score) }
        print("  extended isolation forest rawScores (gemm batches of 256): \(WireBenchmarks.formatted(batched))/s")
    }

    /// Rows per second of `body` in thread CPU time (a per-core figure that other load on a shared
    /// machine distorts less than wall time): the best of five runs after a warm-up.
    static func bestRate(rows: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var best = Double.infinity
        for _ in 0..<5 {
            let start = threadCPUSeconds()
            try body()
            best = min(best, threadCPUSeconds() - start)
        }
        return Double(rows) / best
    }

    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) * 1e-9
    }

    static func readDoubles(_ url: URL) throws -> [Double] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
    }
}
