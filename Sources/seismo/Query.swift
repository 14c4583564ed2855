import ArgumentParser
import Foundation
import SeismoCore
import SeismoQuery
import SeismoServer
import SeismoStore

/// `seismo query`: a PromQL query over the SQLite store, as a table or a text chart.
struct Query: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a PromQL query over the stored series.",
        discussion: """
            PROMQL is any PromQL expression, evaluated as Prometheus 2.42 would. Window outputs are \
            stored as series named <stream>:<feature> (e.g. http:latency_p99) with the window's group \
            labels, at the window's end; detector verdicts as seismo_anomaly_score, \
            seismo_anomaly_threshold, seismo_expected_value, seismo_expected_lower and \
            seismo_expected_upper with labels detector and pipeline. Without --from/--to/--step the \
            query is evaluated at --time (default now) and printed as a table; with them, as a range \
            query printed as one small chart per series. Times: RFC 3339, Unix seconds, or now-1h.
            """)

    @Argument(help: "A PromQL expression, e.g. 'sum by (service) (rate(http:requests[5m]))'.")
    var query: String

    @Option(name: .long, help: "Evaluation time of an instant query.")
    var time: String?

    @Option(name: .long, help: "Start of a range query.")
    var from: String?

    @Option(name: .long, help: "End of a range query (default now).")
    var to: String?

    @Option(name: .long, help: "Resolution of a range query, e.g. 1m (default: 60 points).")
    var step: String?

    @Flag(name: .long, help: "Print the result as the HTTP API's JSON.")
    var json = false

    @Option(name: .long, help: "Directory of the SQLite store.")
    var dataDir = "./data"

    @Option(name: .long, help: "Pipeline whose store to read (default: the only store in --data-dir).")
    var pipeline: String?

    func run() async throws {
        let now = Timestamp.now
        let store = try SQLiteStore(path: try storePath())
        let engine = Engine(querier: store)
        let isRange = from != nil || to != nil || step != nil
        if isRange && time != nil { throw ValidationError("--time is for instant queries; use --from/--to/--step or --time") }
        let value: QueryValue
        do {
            if isRange {
                let start = try TimeParser.parse(from ?? "now-1h", now: now).milliseconds
                let end = try TimeParser.parse(to ?? "now", now: now).milliseconds
                guard start <= end else { throw ValidationError("--from is after --to") }
                let stepMs = try step.map { try DurationParser.parseMilliseconds($0) } ?? max(1000, (end - start) / 60)
                guard stepMs > 0 else { throw ValidationError("--step must be positive") }
                value = try await engine.rangeQuery(query, start: start, end: end, step: stepMs)
            } else {
                value = try await engine.instantQuery(query, at: try TimeParser.parse(time ?? "now", now: now).milliseconds)
            }
        } catch let error as QueryError {
            throw ValidationError(error.message)
        }
        if json {
            print(PrometheusAPI.encode(value))
            return
        }
        switch value {
        case .scalar(let t, let v): print("scalar \(Self.format(v)) @ \(Timestamp(milliseconds: t))")
        case .string(_, let s): print(s)
        case .vector(let samples):
            if samples.isEmpty {
                print("empty result")
                return
            }
            printTable([["SERIES", "VALUE"]] + samples.map { [$0.labels.description.isEmpty ? "{}" : $0.labels.description, Self.format($0.value)] })
            print("\(samples.count) series at \(Timestamp(milliseconds: samples[0].timestamp))")
        case .matrix(let series):
            if series.isEmpty {
                print("empty result")
                return
            }
            for s in series { print(Self.chart(s)) }
            print("\(series.count) series")
        }
    }

    /// One series as a line of block characters between its minimum and maximum.
    static func chart(_ s: RangeSeries, width: Int = 60) -> String {
        let blocks = Array("▁▂▃▄▅▆▇█")
        let finite = s.values.filter(\.isFinite)
        let lo = finite.min() ?? 0
        let hi = finite.max() ?? 0
        guard let first = s.timestamps.first, let last = s.timestamps.last else { return s.labels.description }
        let span = max(1, last - first)
        var cells = [Character](repeating: " ", count: min(width, max(1, s.timestamps.count)))
        for (t, v) in zip(s.timestamps, s.values) where v.isFinite {
            let x = Int(Double(t - first) / Double(span) * Double(cells.count - 1))
            let level = hi > lo ? Int((v - lo) / (hi - lo) * Double(blocks.count - 1)) : 0
            cells[x] = blocks[level]
        }
        let name = s.labels.description.isEmpty ? "{}" : s.labels.description
        return "\(name)\n  \(String(cells))  min \(format(lo)) max \(format(hi)) last \(format(s.values.last ?? .nan))"
            + "  (\(Timestamp(milliseconds: first)) – \(Timestamp(milliseconds: last)))"
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

    static func format(_ x: Double) -> String { formatPromFloat(x) }
}
