import Foundation
import SeismoCore
import SeismoDetect
import SeismoPipeline
import SeismoStore
import SeismoStream

/// Window outputs of one stream from the past: read from the store's feature table or from a CSV,
/// for training (`seismo train`) and backtests (`seismo backtest`).
///
/// CSV format: a header row; a `timestamp` column (RFC 3339, `YYYY-MM-DD HH:MM:SS` as UTC, Unix
/// seconds or milliseconds) holding the window end; one column per stream feature that is present
/// (numbers; empty or `NaN` is missing); every other column is a group label (e.g. `service`).
/// Rows are sorted by time. A line that cannot be read is reported with its number and skipped.
public struct History: Sendable {
    public var stream: StreamSpec
    /// In time order (then group).
    public var outputs: [WindowOutput]
    /// `file:line: message` for every line skipped.
    public var problems: [String]
    /// Where the rows came from (`csv:PATH` or `store:PATH#TABLE`).
    public var source: String

    public init(stream: StreamSpec, outputs: [WindowOutput], problems: [String] = [], source: String) {
        self.stream = stream
        self.outputs = outputs.sorted { ($0.windowEnd, $0.group.description) < ($1.windowEnd, $1.group.description) }
        self.problems = problems
        self.source = source
    }

    /// Reads `path` as CSV for `stream`. Features absent from the header are missing (NaN) in every row;
    /// it is an error when none of `required` is present.
    public static func csv(path: String, stream: StreamSpec, required: [String]) throws(RuntimeError) -> History {
        guard let data = FileManager.default.contents(atPath: path) else { throw RuntimeError("cannot read \(path)") }
        let text = String(decoding: data, as: UTF8.self)
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw RuntimeError("\(path): empty file") }
        let header = fields(headerLine)
        guard let timeColumn = header.firstIndex(where: { $0 == "timestamp" || $0 == "time" }) else {
            throw RuntimeError("\(path):1: no `timestamp` column (columns: \(header.joined(separator: ", ")))")
        }
        let features = stream.featureNames
        let featureColumns = features.map { header.firstIndex(of: $0) }
        let present = required.filter { header.contains($0) }
        guard !present.isEmpty || required.isEmpty else {
            throw RuntimeError(
                "\(path):1: no column for any of \(required.joined(separator: ", ")) (columns: \(header.joined(separator: ", ")))")
        }
        let featureSet = Set(features)
        let labelColumns = header.indices.filter { $0 != timeColumn && !featureSet.contains(header[$0]) }
        let step = stream.window.size.milliseconds
        var outputs: [WindowOutput] = []
        var problems: [String] = []
        for (number, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let cells = fields(line)
            guard cells.count == header.count else {
                problems.append("\(path):\(number + 1): \(cells.count) fields, header has \(header.count)")
                continue
            }
            guard let end = parseTime(cells[timeColumn]) else {
                problems.append("\(path):\(number + 1): bad timestamp \(cells[timeColumn].debugDescription)")
                continue
            }
            var values: [Double] = []
            var bad: String?
            for column in featureColumns {
                guard let column else {
                    values.append(.nan)
                    continue
                }
                let cell = cells[column]
                if cell.isEmpty || cell.lowercased() == "nan" {
                    values.append(.nan)
                } else if let x = Double(cell) {
                    values.append(x)
                } else {
                    bad = "\(header[column]) is not a number: \(cell.debugDescription)"
                    values.append(.nan)
                }
            }
            if let bad {
                problems.append("\(path):\(number + 1): \(bad)")
                continue
            }
            let group: Labels
            do {
                group = try Labels(validating: labelColumns.filter { !cells[$0].isEmpty }.map { Label(header[$0], cells[$0]) })
            } catch {
                problems.append("\(path):\(number + 1): \(error)")
                continue
            }
            outputs.append(
                WindowOutput(
                    stream: stream.name, windowStart: end.milliseconds - step, windowEnd: end.milliseconds, group: group,
                    values: values, sampleCount: 1))
        }
        return History(stream: stream, outputs: outputs, problems: problems, source: "csv:\(path)")
    }

    /// Reads the rows of `stream` in `table` whose window ends in `[from, to]` (milliseconds).
    public static func store(
        _ querier: some Querier, path: String, table: String, stream: StreamSpec, from: Int64, to: Int64
    ) async throws -> History {
        let rows = try await querier.featureRows(table: table, from: from, to: to).filter { $0.stream == stream.name }
        let outputs = rows.map { row in
            WindowOutput(
                stream: stream.name, windowStart: row.windowStart, windowEnd: row.windowEnd, group: row.group,
                values: stream.featureNames.map { row[feature: $0] ?? .nan }, sampleCount: row.sampleCount)
        }
        return History(stream: stream, outputs: outputs, source: "store:\(path)#\(table)")
    }

    /// Rows whose window ends in `[from, to]` (milliseconds).
    public func between(_ from: Int64, _ to: Int64) -> History {
        History(stream: stream, outputs: outputs.filter { $0.windowEnd >= from && $0.windowEnd <= to }, problems: problems, source: source)
    }

    /// The training rows of `features` (window end in seconds, group in Prometheus notation).
    public func trainingSet(features: [String]) -> TrainingSet {
        let indices = features.map { stream.featureNames.firstIndex(of: $0) }
        var set = TrainingSet(featureNames: features)
        for output in outputs {
            set.append(
                time: Double(output.windowEnd) / 1000, group: output.group.description,
                values: indices.map { $0.map { output.values[$0] } ?? .nan })
        }
        return set
    }

    /// Groups in first-seen order.
    public var groups: [Labels] {
        var seen = Set<Labels>()
        return outputs.compactMap { seen.insert($0.group).inserted ? $0.group : nil }
    }

    static func fields(_ line: String) -> [String] {
        line.split(separator: ",", omittingEmptySubsequences: false).map { field in
            var f = field.trimmingCharacters(in: .whitespaces)
            if f.count >= 2, f.hasPrefix("\""), f.hasSuffix("\"") { f = String(f.dropFirst().dropLast()) }
            return f
        }
    }

    /// RFC 3339, `YYYY-MM-DD HH:MM:SS[.ffffff]` without a zone (UTC, as NAB writes them), Unix
    /// seconds or milliseconds.
    static func parseTime(_ text: String) -> Timestamp? {
        let b = Array(text.utf8)
        let zoneMarks: Set<UInt8> = [UInt8(ascii: "Z"), UInt8(ascii: "z"), UInt8(ascii: "+"), UInt8(ascii: "-")]
        if b.count >= 19, b[4] == UInt8(ascii: "-"), !b[19...].contains(where: zoneMarks.contains),
            let t = TimeParser.parseRFC3339(text + "Z")
        {
            return t
        }
        return try? TimeParser.parse(text)
    }
}
