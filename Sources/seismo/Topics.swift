import ArgumentParser
import SeismoKafka

/// `seismo topics`: topics, partitions and their offsets.
struct Topics: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List topics, partitions, leaders and end offsets.")

    @OptionGroup var kafka: KafkaOptions

    @Argument(help: "Topics to show (default: all).")
    var names: [String] = []

    func run() async throws {
        let admin = try await kafka.connectedAdmin()
        let topics = try await admin.listTopics(names.isEmpty ? nil : names)
        var rows = [["TOPIC", "PARTITION", "LEADER", "START", "END", "RECORDS"]]
        for topic in topics {
            for p in topic.partitions {
                rows.append([
                    topic.name, "\(p.id)", "\(p.leader)", "\(p.lowWatermark)", "\(p.highWatermark)",
                    "\(p.highWatermark - p.lowWatermark)",
                ])
            }
        }
        printTable(rows)
        let total = topics.reduce(0) { $0 + $1.partitions.reduce(0) { $0 + $1.highWatermark - $1.lowWatermark } }
        print("\(topics.count) topic(s), \(topics.reduce(0) { $0 + $1.partitions.count }) partition(s), \(total) record(s)")
    }
}

/// Prints rows as left-aligned columns.
func printTable(_ rows: [[String]]) {
    guard let columns = rows.map(\.count).max() else { return }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    for row in rows {
        let cells = row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
        }
        print(cells.joined(separator: "  "))
    }
}
