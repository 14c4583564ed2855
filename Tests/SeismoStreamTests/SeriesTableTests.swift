import SeismoCore
import Testing
@testable import SeismoStream

@Suite struct SeriesTableTests {
    func labels(_ index: Int) -> Labels { ["__name__": "m", "instance": "host-\(index)", "path": "/api/v1/\(index)"] }

    @Test func findsInsertsForgetsAndReusesIds() {
        var table = SeriesTable()
        var ids: [Int] = []
        for index in 0..<1_000 {
            let hash = SeriesTable.hash(labels(index))
            #expect(table.find(labels(index), hash: hash) == nil)
            var state = SeriesState()
            state.lastSeen = Int64(index)
            ids.append(table.insert(labels(index), hash: hash, state: state))
        }
        #expect(table.count == 1_000)
        #expect(Set(ids).count == 1_000)
        // Separate string storage, same bytes: found.
        let copy: Labels = ["__name__": String(decoding: Array("m".utf8), as: UTF8.self), "instance": "host-7",
            "path": String(decoding: Array("/api/v1/7".utf8), as: UTF8.self)]
        #expect(table.find(copy, hash: SeriesTable.hash(copy)) == ids[7])
        table.removeAll { $0.lastSeen < 500 }
        #expect(table.count == 500)
        #expect(table.find(labels(7), hash: SeriesTable.hash(labels(7))) == nil)
        #expect(table.find(labels(700), hash: SeriesTable.hash(labels(700))) == ids[700])
        let reused = table.insert(labels(5_000), hash: SeriesTable.hash(labels(5_000)), state: SeriesState())
        #expect(reused < 500)
        #expect(table.find(labels(5_000), hash: SeriesTable.hash(labels(5_000))) == reused)
    }

    @Test func labelsThatDifferOnlyInNamesAreDistinct() {
        let a: Labels = ["a": "x", "b": "y"]
        let b: Labels = ["a": "x", "c": "y"]
        #expect(SeriesTable.hash(a) == SeriesTable.hash(b))  // names only count by length
        #expect(!SeriesTable.equal(a, b))
        var table = SeriesTable()
        let first = table.insert(a, hash: SeriesTable.hash(a), state: SeriesState())
        #expect(table.find(b, hash: SeriesTable.hash(b)) == nil)
        let second = table.insert(b, hash: SeriesTable.hash(b), state: SeriesState())
        #expect(first != second)
        #expect(table.find(a, hash: SeriesTable.hash(a)) == first)
        #expect(table.find(b, hash: SeriesTable.hash(b)) == second)
    }
}
