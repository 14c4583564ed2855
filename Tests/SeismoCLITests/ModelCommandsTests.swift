import Foundation
import SeismoTesting
import Testing

/// `seismo train`, `models list|show|promote` and `backtest`, run as the built binary.
@Suite("CLI: train, models, backtest")
struct ModelCommandsTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-cli-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func seismo(_ arguments: [String]) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(Binaries.seismo, arguments, timeout: .seconds(300))
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Two services, a window a minute for 10 hours; `cpu` follows a 2-hour cycle; service a spikes at minute 500.
    func writeInputs() throws {
        try """
            pipeline: cli
            kafka:
              topics:
                signals.cli: {key_by: [service]}
            streams:
              - name: s
                topic: signals.cli
                window: {size: 1m}
                by: [service]
                aggregations:
                  cpu: {fn: avg, selector: cpu}
            detectors:
              - {name: season, type: seasonal, stream: s, features: [cpu], params: {periods: [7200]}}
            """.write(toFile: path("cli.yaml"), atomically: true, encoding: .utf8)
        var csv = "timestamp,service,cpu\n"
        let start = 1_800_000_000
        for k in 0..<600 {
            for (i, service) in ["a", "b"].enumerated() {
                var value = 10 * Double(i + 1) + 3 * sin(2 * Double.pi * Double(k) / 120) + 0.2 * sin(Double(k * 7 + i))
                if service == "a" && (500...502).contains(k) { value += 30 }
                csv += "\(start + k * 60),\(service),\(value)\n"
            }
        }
        try csv.write(toFile: path("history.csv"), atomically: true, encoding: .utf8)
        try #"{"{service=\"a\"}": [["\#(start + 498 * 60)", "\#(start + 505 * 60)"]]}"#
            .write(toFile: path("labels.json"), atomically: true, encoding: .utf8)
    }

    @Test("train from a CSV writes v1; list shows it; promote marks it; backtest writes one <svg> per series")
    func trainListPromoteBacktest() async throws {
        try writeInputs()
        let models = path("models")
        let train = try await seismo(["train", path("cli.yaml"), "--input", path("history.csv"), "--to", "1800024000", "--models", models])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stdout.contains("train season (seasonal) on 802 rows (2 groups)"), "\(train.stdout)")
        #expect(train.stdout.contains("training_exceedance"))
        #expect(train.stdout.contains("models/cli/season/v1 written"))
        // Not a terminal: plain progress lines on stderr.
        #expect(train.stderr.contains("season: 100% done"), "\(train.stderr)")
        #expect(!train.stderr.contains("\u{1B}["))

        var list = try await seismo(["models", "list", "--models", models])
        #expect(list.status == 0)
        let row = try #require(list.stdout.split(separator: "\n").first { $0.contains("season") })
        #expect(row.contains("cli") && row.contains("v1") && row.contains("seasonal") && !row.hasPrefix("*"))

        let promote = try await seismo(["models", "promote", "cli", "season", "v1", "--models", models])
        #expect(promote.status == 0 && promote.stdout.contains("promoted cli/season v1"), "\(promote.stderr)")
        let pointer = try String(contentsOfFile: models + "/cli/season/CURRENT", encoding: .utf8)
        #expect(pointer == "v1\n")
        list = try await seismo(["models", "list", path("cli.yaml"), "--models", models])
        #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix("*") && $0.contains("v1") })

        let show = try await seismo(["models", "show", "cli", "season", "--models", models])
        #expect(show.status == 0 && show.stdout.contains("(promoted)") && show.stdout.contains("\"data_fingerprint\""))

        let missing = try await seismo(["models", "promote", "cli", "season", "v7", "--models", models])
        #expect(missing.status != 0 && missing.stderr.contains("v7"))

        let report = path("report.html")
        let backtest = try await seismo([
            "backtest", path("cli.yaml"), "--input", path("history.csv"), "--labels", path("labels.json"), "--report", report,
            "--models", models,
        ])
        #expect(backtest.status == 0, "\(backtest.stderr)")
        #expect(backtest.stdout.contains("v1 (promoted)"))
        #expect(backtest.stdout.contains("1/1"), "\(backtest.stdout)")  // the labelled window is found
        let html = try String(contentsOfFile: report, encoding: .utf8)
        #expect(html.components(separatedBy: "<svg ").count - 1 == 2)
        #expect(html.contains("{service=&quot;a&quot;}"))
    }

    @Test("train refuses a detector that learns online, and a pipeline without trained detectors, with a clear message")
    func refusals() async throws {
        try writeInputs()
        let online = try String(contentsOfFile: path("cli.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "type: seasonal, stream: s, features: [cpu], params: {periods: [7200]}", with: "type: zscore, stream: s, features: [cpu]")
        try online.write(toFile: path("z.yaml"), atomically: true, encoding: .utf8)
        let none = try await seismo(["train", path("z.yaml"), "--input", path("history.csv"), "--models", path("m")])
        #expect(none.status != 0 && none.stderr.contains("no trained detectors"), "\(none.stderr)")
        let named = try await seismo(["train", path("z.yaml"), "--detector", "season", "--input", path("history.csv")])
        #expect(named.status != 0 && named.stderr.contains("learns online"), "\(named.stderr)")
    }
}
