import SeismoCore
import SeismoPipeline
import Testing

@testable import SeismoCollect

@Suite("FileReplaySource")
struct FileReplaySourceTests {
    static func drain(_ source: inout FileReplaySource, limit: Int = 100) -> [SourceBatch] {
        var out: [SourceBatch] = []
        while out.count < limit, let batch = source.next() { out.append(batch) }
        return out
    }

    @Test("CSV rows come out in time order, one timestamp per batch; bad rows are issues with line numbers")
    func csv() throws {
        let text = """
            timestamp,value,name=cpu,host=a
            3000,3,name=cpu,host=a
            1000,1,name=cpu,host=a
            not-a-time,5
            2000,2,name=cpu,host=b
            1000,1.5,name=cpu,host=b
            2000,x
            """
        var source = try FileReplaySource(
            spec: FileReplaySpec(path: "test.csv", format: .csv), contents: Array(text.utf8))
        #expect(source.issues.map(\.line) == [4, 7])
        #expect(source.sampleCount == 4)
        let batches = Self.drain(&source)
        #expect(batches.map(\.time.milliseconds) == [1_000_000, 2_000_000, 3_000_000])
        #expect(batches.map { $0.samples.count } == [2, 1, 1])
        #expect(batches[0].samples.map(\.value) == [1, 1.5])  // file order among equal times
        #expect(batches.allSatisfy { batch in batch.samples.allSatisfy { $0.timestamp == batch.time } })
    }

    @Test("loop replays the file again, shifted by its span plus its smallest gap")
    func loop() throws {
        let text = "1000,1,name=a\n1010,2,name=a\n1030,3,name=a\n"
        var source = try FileReplaySource(
            spec: FileReplaySpec(path: "l.csv", format: .csv, loop: true), contents: Array(text.utf8))
        #expect(source.period == 40_000)
        let times = Self.drain(&source, limit: 7).map(\.time.milliseconds)
        #expect(times == [1_000_000, 1_010_000, 1_030_000, 1_040_000, 1_050_000, 1_070_000, 1_080_000])
        var once = try FileReplaySource(spec: FileReplaySpec(path: "l.csv", format: .csv), contents: Array(text.utf8))
        #expect(Self.drain(&once).count == 3)
    }

    @Test("exposition samples without a timestamp get the replay's current time")
    func exposition() throws {
        let text = """
            # TYPE up gauge
            up{job="a"} 1
            up{job="b"} 1 5000
            up{job="c"} 0
            up{job="d" 1
            """
        let now = Timestamp(milliseconds: 4000)
        var source = try FileReplaySource(
            spec: FileReplaySpec(path: "x.prom", format: .exposition), contents: Array(text.utf8), now: now)
        #expect(source.issues.map(\.line) == [5])
        let batches = Self.drain(&source)
        #expect(batches.map(\.time.milliseconds) == [4000, 5000])
        #expect(batches[0].samples.map { $0.labels["job"] } == ["a"])
        #expect(batches[1].samples.map { $0.labels["job"] } == ["b", "c"])
    }

    @Test("a missing file or one without samples is an error")
    func errors() {
        #expect(throws: CollectError(.unreadableFile, "cannot read the replay file", context: "/nonexistent/x.csv")) {
            try FileReplaySource(spec: FileReplaySpec(path: "/nonexistent/x.csv", format: .csv))
        }
        #expect(throws: CollectError.self) {
            try FileReplaySource(spec: FileReplaySpec(path: "e.csv", format: .csv), contents: Array("bad\n".utf8))
        }
    }
}
