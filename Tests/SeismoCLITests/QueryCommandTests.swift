import Foundation
import SeismoCore
import SeismoStore
import SeismoTesting
import Testing

/// `seismo query PROMQL` over a store written here.
@Suite("seismo query")
struct QueryCommandTests {
    /// `x{job}` for jobs a and b, a sample every minute for an hour from t0, value = minute × k.
    static let t0: Int64 = 1_795_300_000_000

    func withStore(_ body: (String) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-query-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteStore(path: dir.appendingPathComponent("demo.sqlite").path)
        var appender = store.appender()
        for (job, k) in [("a", 1.0), ("b", 2.0)] {
            for minute in 0...60 {
                appender.append(["__name__": "x", "job": job], timestamp: Self.t0 + Int64(minute) * 60_000, value: Double(minute) * k)
            }
        }
        try await appender.commit()
        try await body(dir.path)
    }

    @Test("an instant query prints a table of series and values")
    func instant() async throws {
        try await withStore { dir in
            let out = try await ProcessRunner.run(
                Binaries.seismo, ["query", "sum by (job) (x) * 10", "--data-dir", dir, "--time", "\(Self.t0 / 1000 + 1800)"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.contains("{job=\"a\"}") && out.stdout.contains("300"), "\(out.stdout)")
            #expect(out.stdout.contains("{job=\"b\"}") && out.stdout.contains("600"), "\(out.stdout)")
        }
    }

    @Test("--json prints the HTTP API's envelope")
    func json() async throws {
        try await withStore { dir in
            let out = try await ProcessRunner.run(
                Binaries.seismo, ["query", "scalar(sum(x))", "--data-dir", dir, "--time", "\(Self.t0 / 1000 + 60)", "--json"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(
                out.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    == #"{"status":"success","data":{"resultType":"scalar","result":[\#(Self.t0 / 1000 + 60),"3"]}}"#)
        }
    }

    @Test("a range query prints a chart line per series with its minimum, maximum and last value")
    func range() async throws {
        try await withStore { dir in
            let out = try await ProcessRunner.run(
                Binaries.seismo,
                ["query", "rate(x{job=\"b\"}[5m]) * 60", "--data-dir", dir, "--from", "\(Self.t0 / 1000 + 600)", "--to",
                 "\(Self.t0 / 1000 + 1200)", "--step", "1m"])
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.contains("{job=\"b\"}"), "\(out.stdout)")
            #expect(out.stdout.contains("min 2 max 2 last 2"), "\(out.stdout)")
        }
    }

    @Test("a parse error is reported with its position")
    func parseError() async throws {
        try await withStore { dir in
            let out = try await ProcessRunner.run(Binaries.seismo, ["query", "sum(x", "--data-dir", dir])
            #expect(out.status != 0)
            #expect(out.stderr.contains("1:6: parse error: unclosed left parenthesis"), "\(out.stderr)")
        }
    }
}
