import Foundation
import SeismoDetect
import Testing

@Suite("NAB harness")
struct NABRunnerTests {
    /// Five-minute samples over five days with a daily cycle and a spike on day four.
    private var csv: String {
        var text = "timestamp,value\n"
        for i in 0..<(288 * 5) {
            let minutes = i * 5
            let day = 1 + minutes / 1_440, hour = (minutes / 60) % 24, minute = minutes % 60
            let value = 50 + 20 * sin(2 * Double.pi * Double(i) / 288) + (i == 1_100 ? 80 : 0)
                + sin(Double(i) * 7.31)
            text += String(format: "2014-03-%02d %02d:%02d:00,%.3f\n", day, hour, minute, value)
        }
        return text
    }

    @Test("parses NAB timestamps as UTC seconds")
    func timestamps() {
        #expect(NABSeries.parseTime("1970-01-02 00:00:00") == 86_400)
        #expect(NABSeries.parseTime("2014-07-01 00:30:00") == 1_404_174_600)
        #expect(NABSeries.parseTime("garbage") == nil)
    }

    @Test("scores every row in [0, 1], probation rows 0, and flags the spike")
    func endToEnd() throws {
        let series = try NABSeries(csv: csv)
        let scores = NABRunner().scores(times: series.times, values: series.values)
        let probation = NABRunner.probationLength(rowCount: series.values.count)
        #expect(scores.count == series.values.count)
        #expect(scores.allSatisfy { (0...1).contains($0) })
        #expect(scores[..<probation].allSatisfy { $0 == 0 })
        let top = try #require(scores.indices.max { scores[$0] < scores[$1] })
        #expect(top == 1_100)
    }

    @Test("scores are causal: altering later points leaves earlier scores unchanged", arguments: ["seasonal", "ensemble"])
    func causality(detector: String) throws {
        let series = try NABSeries(csv: csv)
        let runner = detector == "ensemble" ? NABRunner.ensemble : NABRunner()
        let original = runner.scores(times: series.times, values: series.values)
        for cut in [probe(series.values.count, 0.3), probe(series.values.count, 0.7)] {
            var altered = series.values
            for i in cut..<altered.count { altered[i] = i % 3 == 0 ? .nan : altered[i] * 3 + 100 }
            let scores = runner.scores(times: series.times, values: altered)
            // Equal up to rounding: OpenBLAS may sum in another order when another test
            // changes its thread count, which moves results by an ulp or two.
            let drift = zip(scores[..<cut], original[..<cut]).map { abs($0 - $1) }.max() ?? 0
            #expect(drift < 1e-9, "earlier scores moved when later points changed")
            #expect(scores[cut...] != original[cut...])
        }
    }

    @Test("the ensemble raises an alarm within 60 rows of a lasting level shift")
    func ensembleLevelShift() throws {
        // Daily cycle; from row 1,000 on the level is 15 higher for good.
        let n = 288 * 5
        let times = (0..<n).map { Double($0) * 300 }
        let values = (0..<n).map { (i: Int) -> Double in
            let cycle: Double = 20 * sin(2 * Double.pi * Double(i) / 288)
            let noise: Double = sin(Double(i) * 7.31)
            let shift: Double = i >= 1_000 ? 15 : 0
            return 50 + cycle + noise + shift
        }
        let ensemble = NABRunner.ensemble.scores(times: times, values: values)
        #expect(ensemble.allSatisfy { (0...1).contains($0) })
        #expect(ensemble[1_000..<1_060].contains { $0 >= 0.5 })
    }

    private func probe(_ n: Int, _ fraction: Double) -> Int { Int(Double(n) * fraction) }

    @Test("empty and all-NaN series score zeros without trapping")
    func degenerate() {
        #expect(NABRunner().scores(times: [], values: []).isEmpty)
        let nan = NABRunner().scores(times: (0..<50).map(Double.init), values: Array(repeating: .nan, count: 50))
        #expect(nan == Array(repeating: 0, count: 50))
    }
}
