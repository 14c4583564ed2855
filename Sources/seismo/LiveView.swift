import Foundation

/// `seismo subscribe --live`: one row per record key, the newest line of each, redrawn in
/// place (alerts are keyed by fingerprint, so a resolved alert replaces its firing line).
struct LiveView {
    let topic: String
    /// Most rows drawn; the rest are counted.
    var maxRows = 40
    private(set) var records = 0
    private var rows: [String: (line: String, seen: Int)] = [:]

    init(topic: String, maxRows: Int = 40) {
        self.topic = topic
        self.maxRows = max(1, maxRows)
    }

    /// Records `line` as the newest for `key` (the record's key; the line itself when it has none).
    mutating func update(key: String?, line: String) {
        records += 1
        rows[key ?? line] = (line, records)
    }

    /// The frame: a header, then the rows, newest first.
    func frame(at time: Date = Date()) -> [String] {
        let newest = rows.values.sorted { $0.seen > $1.seen }
        let clock = ISO8601DateFormatter.string(from: time, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withInternetDateTime])
        var out = ["\(topic): \(rows.count) key(s), \(records) record(s), \(clock)  (Ctrl-C to stop)", ""]
        out += newest.prefix(maxRows).map(\.line)
        if newest.count > maxRows { out.append("… and \(newest.count - maxRows) older key(s)") }
        return out
    }

    /// `frame` for a terminal: the screen cleared, the cursor home.
    func screen(at time: Date = Date()) -> String {
        "\u{1B}[H\u{1B}[2J" + frame(at: time).joined(separator: "\n") + "\n"
    }
}
