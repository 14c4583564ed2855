import Foundation
import SeismoCore
import Testing

@testable import SeismoStore

@Suite("Store benchmark and large batches")
struct BenchmarkTests {
    @Test func aBatchLargerThanOneStatementKeepsEveryValue() async throws {
        let store = try SQLiteStore.inMemory()
        var appender = store.appender()
        let labels: Labels = ["__name__": "big"]
        for t in 0..<600 {
            appender.append(labels, timestamp: Int64(t), value: t == 300 ? StaleMarker.value : t == 301 ? .nan : Double(t))
        }
        try await appender.commit()
        let values = try await everything(store)[0].values
        #expect(values.count == 600)
        #expect(values[299] == 299 && values[599] == 599)
        #expect(StaleMarker.isStale(values[300]) && values[301].isNaN && !StaleMarker.isStale(values[301]))
    }

    @Test func theBenchmarkRunsOnASmallStore() async throws {
        let path = NSTemporaryDirectory() + "seismo-store-bench-\(UInt64.random(in: 0...UInt64.max)).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let figures = try await StoreBenchmark.run(path: path, series: 50, samplesPerSeries: 3)
        #expect(figures.samples == 150 && figures.batchSize == 50)
        #expect(figures.samplesPerSecond > 0 && figures.medianWindowFlushMs > 0)
    }
}

@Suite("Storage benchmark data")
struct StorageBenchmarkTests {
    @Test func nodeExporterDataIngestsCompletelyAndWritesOpenMetrics() async throws {
        let data = NodeExporterData(hosts: 2, hours: 0.5)
        #expect(data.labels.count == 2 * NodeExporterData.seriesPerHost && data.scrapes == 120)
        #expect(Set(data.labels).count == data.labels.count)
        let path = NSTemporaryDirectory() + "seismo-storage-bench-\(UInt64.random(in: 0...UInt64.max))"
        defer { for suffix in ["", "-wal", "-shm", ".om"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let figures = try await StoreBenchmark.ingest(data, path: path)
        #expect(figures.samples == data.sampleCount && figures.fileBytes > 0 && figures.chunkBytes > 0)
        let store = try SQLiteStore(path: path)
        let stored = try await everything(store)
        #expect(stored.map(\.timestamps.count).reduce(0, +) == data.sampleCount)
        let index = data.labels.count - 5
        let series = try #require(stored.first { $0.labels == data.labels[index] })
        #expect(series.values == (0..<data.scrapes).map { data.values[$0 * data.labels.count + index] })
        try data.writeOpenMetrics(to: path + ".om")
        let text = try String(contentsOfFile: path + ".om", encoding: .utf8)
        #expect(text.hasSuffix("# EOF\n"))
        #expect(text.split(separator: "\n").count == data.sampleCount + 1)
    }
}
