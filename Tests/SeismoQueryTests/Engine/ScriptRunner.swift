import Foundation
import SeismoCore
import SeismoQuery
import SeismoStore

/// Runs test scripts in Prometheus's promql test format:
///
/// ```
/// load 5m
///     http_requests{job="api", instance="0"} 0+10x10 _ stale 1 2
/// eval instant at 50m sum by (job) (http_requests)
///     {job="api"} 100
/// eval_ordered instant at 50m sort(x)
/// eval_fail instant at 0m foo[5m] + 1
/// eval range from 0 to 10m step 5m x      (an extension: values per step, `_` for none)
///     x{a="b"} 1 2 _
/// clear
/// ```
///
/// Every `eval instant` is also checked as a range query of one step: both must agree.
struct ScriptRunner {
    struct Failure: Error, CustomStringConvertible {
        var line: Int
        var message: String
        var description: String { "line \(line): \(message)" }
    }

    var options = EngineOptions()
    private var series: [Labels: [(Int64, Double)]] = [:]
    private(set) var evaluated = 0

    /// Runs every command; returns the failures (an empty array when the script passes).
    mutating func run(_ text: String) async -> [Failure] {
        var failures: [Failure] = []
        let lines = text.components(separatedBy: "\n")
        var i = 0
        func body(from start: Int) -> (lines: [(Int, String)], next: Int) {
            var out: [(Int, String)] = []
            var j = start
            while j < lines.count {
                let line = lines[j]
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") {
                    j += 1
                    if trimmed.isEmpty { break }
                    continue
                }
                guard line.first == " " || line.first == "\t" else { break }
                out.append((j + 1, trimmed))
                j += 1
            }
            return (out, j)
        }
        while i < lines.count {
            let line = lines[i].trimmingCharacters(in: .whitespaces)
            let number = i + 1
            i += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                if line == "clear" {
                    series = [:]
                } else if line.hasPrefix("load ") {
                    let step = try Self.duration(String(line.dropFirst(5)), line: number)
                    let (rows, next) = body(from: i)
                    i = next
                    for (n, row) in rows { try load(row, step: step, line: n) }
                } else if line.hasPrefix("eval") {
                    let (rows, next) = body(from: i)
                    i = next
                    evaluated += 1
                    try await eval(line, expected: rows, line: number)
                } else {
                    throw Failure(line: number, message: "unknown command: \(line)")
                }
            } catch let failure as Failure {
                failures.append(failure)
            } catch {
                failures.append(Failure(line: number, message: "\(error)"))
            }
        }
        return failures
    }

    private static func duration(_ text: String, line: Int) throws -> Int64 {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let v = Int64(t) { return v * 1000 }
        do {
            return try DurationParser.parseMilliseconds(t)
        } catch {
            throw Failure(line: line, message: "bad duration \(t)")
        }
    }

    /// Splits `metric{labels} rest` into labels and the rest.
    private static func splitMetric(_ row: String, line: Int) throws -> (Labels, String) {
        var cut = row.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? row.endIndex
        if let brace = row.firstIndex(of: "{"), brace < cut, let close = row.lastIndex(of: "}") {
            cut = row.index(after: close)
        }
        let metric = String(row[..<cut])
        let rest = String(row[cut...]).trimmingCharacters(in: .whitespaces)
        if metric == "{}" { return (Labels(), rest) }
        do {
            let matchers = try Parser.parseSelector(metric)
            return (try Labels(validating: matchers.map { Label($0.name, $0.value) }), rest)
        } catch {
            throw Failure(line: line, message: "bad metric \(metric): \(error)")
        }
    }

    /// Expands `1 2 _ stale 0+10x3 5-1x2 _x3` into values (nil: no sample).
    static func expand(_ text: String, line: Int) throws -> [Double?] {
        var out: [Double?] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
            if word == "_" {
                out.append(nil)
            } else if word == "stale" {
                out.append(StaleMarker.value)
            } else if word.hasPrefix("_x"), let n = Int(word.dropFirst(2)) {
                out += Array(repeating: nil, count: n)
            } else if let x = word.lastIndex(of: "x"), let n = Int(word[word.index(after: x)...]) {
                let head = String(word[..<x])
                // a+b or a-b, where a may itself be negative.
                let signIndex = head.indices.dropFirst().last { (head[$0] == "+" || head[$0] == "-") && head[head.index(before: $0)] != "e" }
                guard let signIndex, let a = Self.number(String(head[..<signIndex])),
                    let b = Self.number(String(head[head.index(after: signIndex)...]))
                else { throw Failure(line: line, message: "bad expansion \(word)") }
                let delta = head[signIndex] == "+" ? b : -b
                for k in 0...n { out.append(a + Double(k) * delta) }
            } else if let v = Self.number(word) {
                out.append(v)
            } else {
                throw Failure(line: line, message: "bad value \(word)")
            }
        }
        return out
    }

    private static func number(_ text: String) -> Double? {
        switch text.lowercased() {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan": return .nan
        default: return Double(text)
        }
    }

    private mutating func load(_ row: String, step: Int64, line: Int) throws {
        let (labels, rest) = try Self.splitMetric(row, line: line)
        for (k, value) in try Self.expand(rest, line: line).enumerated() {
            if let value { series[labels, default: []].append((Int64(k) * step, value)) }
        }
    }

    private var querier: InMemoryQuerier {
        InMemoryQuerier(series.map { StoredSeries(labels: $0.key, timestamps: $0.value.map(\.0), values: $0.value.map(\.1)) })
    }

    private func eval(_ command: String, expected rows: [(Int, String)], line: Int) async throws {
        let words = command.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let fail = words[0] == "eval_fail"
        let ordered = words[0] == "eval_ordered"
        let engine = Engine(querier: querier, options: options)
        if words.count > 3, words[1] == "instant", words[2] == "at" {
            let t = try Self.duration(words[3], line: line)
            let query = words.dropFirst(4).joined(separator: " ")
            let result: QueryValue
            do {
                result = try await engine.instantQuery(query, at: t)
            } catch {
                if fail { return }
                throw Failure(line: line, message: "\(query): unexpected error: \(error)")
            }
            if fail { throw Failure(line: line, message: "\(query): expected an error, got \(result)") }
            try check(result, rows, ordered: ordered, query: query, line: line)
            // The same query as a one-step range query must agree.
            if case .vector = result {} else if case .scalar = result {} else { return }
            do {
                let range = try await engine.rangeQuery(query, start: t, end: t, step: 60_000)
                guard case .matrix(let m) = range else { return }
                let asVector: QueryValue
                if case .scalar = result {
                    asVector = .scalar(timestamp: t, value: m.first?.values.first ?? .nan)
                } else {
                    asVector = .vector(m.map { InstantSample(labels: $0.labels, timestamp: t, value: $0.values[0]) })
                }
                try check(asVector, rows, ordered: false, query: query + " (as range query)", line: line)
            } catch let f as Failure {
                throw f
            } catch {
                throw Failure(line: line, message: "\(query) as range query: unexpected error: \(error)")
            }
        } else if words.count > 7, words[1] == "range", words[2] == "from", words[4] == "to", words[6] == "step" {
            let start = try Self.duration(words[3], line: line)
            let end = try Self.duration(words[5], line: line)
            let step = try Self.duration(words[7], line: line)
            let query = words.dropFirst(8).joined(separator: " ")
            let result: QueryValue
            do {
                result = try await engine.rangeQuery(query, start: start, end: end, step: step)
            } catch {
                if fail { return }
                throw Failure(line: line, message: "\(query): unexpected error: \(error)")
            }
            if fail { throw Failure(line: line, message: "\(query): expected an error") }
            guard case .matrix(let got) = result else { throw Failure(line: line, message: "range query gave \(result)") }
            var want: [Labels: [Double?]] = [:]
            for (n, row) in rows {
                let (labels, rest) = try Self.splitMetric(row, line: n)
                want[labels] = try Self.expand(rest, line: n)
            }
            guard got.count == want.count else {
                throw Failure(line: line, message: "\(query): expected \(want.count) series, got \(got.count): \(got.map(\.labels))")
            }
            for s in got {
                guard let values = want[s.labels] else {
                    throw Failure(line: line, message: "\(query): unexpected series \(s.labels)")
                }
                var k = 0
                var t = start
                var j = 0
                while t <= end {
                    let expected = k < values.count ? values[k] : nil
                    let actual: Double? = j < s.timestamps.count && s.timestamps[j] == t ? s.values[j] : nil
                    if actual != nil { j += 1 }
                    switch (expected, actual) {
                    case (nil, nil): break
                    case (let e?, let a?) where Self.almostEqual(e, a): break
                    default:
                        throw Failure(
                            line: line,
                            message: "\(query): \(s.labels) at \(t)ms: expected \(expected.map { "\($0)" } ?? "_"), got \(actual.map { "\($0)" } ?? "_")")
                    }
                    k += 1
                    t += step
                }
            }
        } else {
            throw Failure(line: line, message: "bad eval command: \(command)")
        }
    }

    private func check(_ result: QueryValue, _ rows: [(Int, String)], ordered: Bool, query: String, line: Int) throws {
        switch result {
        case .scalar(_, let v):
            guard rows.count == 1, let e = Self.number(rows[0].1), Self.almostEqual(e, v) else {
                throw Failure(line: line, message: "\(query): expected scalar \(rows.map(\.1)), got \(v)")
            }
        case .string(_, let s):
            guard rows.count == 1, rows[0].1 == s || Parser.parseStringLiteral(rows[0].1) == s else {
                throw Failure(line: line, message: "\(query): expected string \(rows.map(\.1)), got \(s)")
            }
        case .vector(let samples):
            var want: [(Labels, Double)] = []
            for (n, row) in rows {
                let (labels, rest) = try Self.splitMetric(row, line: n)
                guard let v = Self.number(rest) else { throw Failure(line: n, message: "bad value \(rest)") }
                want.append((labels, v))
            }
            guard samples.count == want.count else {
                throw Failure(
                    line: line,
                    message: "\(query): expected \(want.count) samples, got \(samples.count): \(samples.map { "\($0.labels) \($0.value)" })")
            }
            for (i, s) in samples.enumerated() {
                guard let j = want.firstIndex(where: { $0.0 == s.labels }) else {
                    throw Failure(line: line, message: "\(query): unexpected sample \(s.labels) \(s.value)")
                }
                if ordered && j != i {
                    throw Failure(line: line, message: "\(query): \(s.labels) at position \(i), expected \(j)")
                }
                guard Self.almostEqual(want[j].1, s.value) else {
                    throw Failure(line: line, message: "\(query): \(s.labels): expected \(want[j].1), got \(s.value)")
                }
            }
        case .matrix(let series):
            // Expected rows: `metric{…} v1 v2 …` (the raw points in the range).
            guard series.count == rows.count else {
                throw Failure(line: line, message: "\(query): expected \(rows.count) series, got \(series.count)")
            }
            for (n, row) in rows {
                let (labels, rest) = try Self.splitMetric(row, line: n)
                let values = try Self.expand(rest, line: n).compactMap { $0 }
                guard let s = series.first(where: { $0.labels == labels }), s.values.count == values.count,
                    zip(s.values, values).allSatisfy({ Self.almostEqual($0, $1) })
                else {
                    throw Failure(line: n, message: "\(query): \(labels): expected \(values), got \(series.map { "\($0.labels) \($0.values)" })")
                }
            }
        }
    }

    /// Prometheus's test tolerance: relative 1e-6, NaN equal to NaN.
    static func almostEqual(_ a: Double, _ b: Double) -> Bool {
        if a.isNaN && b.isNaN { return true }
        if a == b { return true }
        let diff = abs(a - b)
        let minNormal = Double.leastNormalMagnitude
        if a == 0 || b == 0 || diff < minNormal { return diff < 1e-6 * minNormal }
        return diff / (abs(a) + abs(b)) < 1e-6
    }
}
