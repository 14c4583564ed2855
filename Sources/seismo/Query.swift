import ArgumentParser
import Foundation
import SeismoCore
import SeismoPipeline
import SeismoStore

/// `seismo query`: stored series from the SQLite store, as a table.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print stored series matching a selector.",
        discussion: """
            SELECTOR is PromQL selector syntax: metric{label="value",other=~"re.*"}. Window \
            outputs are stored as series named <stream>:<feature> (e.g. http:latency_p99), with \
            the window's group labels, at the window's end. Times: RFC 3339, Unix seconds, or \
            now-1h. Without --step every sample is printed; with it, the latest sample at or \
            before each step (looking back 5 minutes), as Prometheus evaluates a range query.
            """)

    @Argument(help: "A series selector, e.g. 'http:latency_p99{service=\"checkout\"}'.")
    var selector: String

    @Option(name: .long, help: "Start time.")
    var from = "now-1h"

    @Option(name: .long, help: "End time.")
    var to = "now"

    @Option(name: .long, help: "Resolution step, e.g. 1m.")
    var step: String?

    @Option(name: .long, help: "Directory of the SQLite store.")
    var dataDir = "./data"

    @Option(name: .long, help: "Pipeline whose store to read (default: the only store in --data-dir).")
    var pipeline: String?

    @Option(name: .long, help: "Output: table or csv.")
    var format = "table"

    func run() async throws {
        let matchers: [Matcher]
        do {
            matchers = try PipelineLoader.parseSelector(selector)
        } catch {
            throw ValidationError("bad selector: \(error)")
        }
        let now = Timestamp.now
        let start = try TimeParser.parse(from, now: now).milliseconds
        let end = try TimeParser.parse(to, now: now).milliseconds
        guard start <= end else { throw ValidationError("--from is after --to") }
        let stepMs = try step.map { try DurationParser.parseMilliseconds($0) }
        if let stepMs, stepMs <= 0 { throw ValidationError("--step must be positive") }

        let store = try SQLiteStore(path: try storePath())
        let lookback: Int64 = 5 * 60_000
        let series = try await store.select(matchers, from: stepMs == nil ? start : start - lookback, to: end)
        if series.isEmpty {
            print("no series match \(selector) between \(Timestamp(milliseconds: start)) and \(Timestamp(milliseconds: end))")
            return
        }
        var rows: [[String]] = []
        for s in series {
            let labels = s.labels.description
            if let stepMs {
                var t = start
                var i = 0
                while t <= end {
                    while i + 1 < s.timestamps.count && s.timestamps[i + 1] <= t { i += 1 }
                    if s.timestamps[i] <= t && t - s.timestamps[i] <= lookback {
                        rows.append([labels, Timestamp(milliseconds: t).description, Self.format(s.values[i])])
                    }
                    t += stepMs
                }
            } else {
                for (t, v) in zip(s.timestamps, s.values) where t >= start {
                    rows.append([labels, Timestamp(milliseconds: t).description, Self.format(v)])
                }
            }
        }
        if format == "csv" {
            print("series,time,value")
            for row in rows { print(row.map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" }.joined(separator: ",")) }
        } else {
            printTable([["SERIES", "TIME", "VALUE"]] + rows)
            print("\(series.count) series, \(rows.count) points")
        }
    }

    private func storePath() throws -> String {
        if let pipeline { return (dataDir as NSString).appendingPathComponent("\(pipeline).sqlite") }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dataDir)) ?? []
        let stores = files.filter { $0.hasSuffix(".sqlite") }.sorted()
        guard stores.count == 1 else {
            throw ValidationError(
                stores.isEmpty
                    ? "no store in \(dataDir) (run a pipeline first, or pass --data-dir)"
                    : "several stores in \(dataDir) (\(stores.joined(separator: ", "))): pass --pipeline NAME")
        }
        return (dataDir as NSString).appendingPathComponent(stores[0])
    }

    static func format(_ x: Double) -> String {
        if StaleMarker.isStale(x) { return "stale" }
        if x == x.rounded() && abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }
}
