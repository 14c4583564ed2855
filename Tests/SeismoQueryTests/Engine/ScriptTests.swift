import Foundation
import Testing

@testable import SeismoQuery

/// Every `Scripts/*.test` file, in Prometheus's promql test-script format.
@Suite("Test scripts")
struct ScriptTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")

    static var scripts: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".test") }
            .sorted()
    }

    @Test("script passes", arguments: scripts)
    func script(name: String) async throws {
        let text = try String(contentsOf: Self.directory.appendingPathComponent(name), encoding: .utf8)
        var runner = ScriptRunner()
        let failures = await runner.run(text)
        for failure in failures { Issue.record("\(name): \(failure)") }
        #expect(runner.evaluated > 0)
    }

    @Test("the runner itself catches a wrong expectation")
    func runnerFails() async {
        var runner = ScriptRunner()
        let failures = await runner.run("load 1m\n  x 1+1x3\n\neval instant at 2m x\n  x 4\n")
        #expect(failures.count == 1)
    }
}
