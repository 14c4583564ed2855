import Testing
@testable import SeismoDetect

@Suite("zscore: rolling median/MAD")
struct RollingZScoreTests {
    private func trained(_ values: [Double], history: Int = 60, minHistory: Int = 10) -> RollingZScore {
        var detector = RollingZScore(
            featureNames: ["latency"], parameters: .init(history: history, minHistory: minHistory, z: 3.5))
        for v in values { detector.learn([v]) }
        return detector
    }

    @Test func staysSilentUntilMinHistory() {
        let detector = trained(Array(repeating: 1, count: 9))
        #expect(detector.score([100]) == nil)
        #expect(trained(Array(repeating: 1, count: 10)).score([100]) != nil)
    }

    @Test func normalValuesScoreBelowOneAndOutliersAbove() {
        let history = (0..<60).map { 100 + Double($0 % 7) - 3 }  // 97…103
        let detector = trained(history)
        #expect(detector.score([101])!.score < 1)
        let spike = detector.score([160])!
        #expect(spike.isAnomalous)
        #expect(spike.expected == 100)
        #expect(spike.lower! < 100 && spike.upper! > 100 && spike.upper! < 160)
    }

    @Test func anIncidentInTheHistoryDoesNotBecomeTheBaseline() {
        var history = (0..<60).map { 100 + Double($0 % 5) - 2 }
        for i in 40..<50 { history[i] = 500 }  // a past incident
        let detector = trained(history)
        #expect(detector.score([500])!.isAnomalous)
        #expect(detector.score([101])!.score < 1)
    }

    @Test func historyIsBoundedToTheNewestValues() {
        let detector = trained(Array(repeating: 1000, count: 60) + Array(repeating: 10, count: 60))
        #expect(detector.score([10])!.score < 1)
        #expect(detector.historyCount(feature: 0) == 60)
    }

    @Test func aChangeOffAFlatLineIsFiniteAndAnomalous() {
        let verdict = trained(Array(repeating: 0, count: 20)).score([0.05])!
        #expect(verdict.score.isFinite)
        #expect(verdict.isAnomalous)
    }

    @Test func theStrongestFeatureExplainsTheScore() {
        var detector = RollingZScore(featureNames: ["a", "b"], parameters: .init(minHistory: 5))
        for i in 0..<30 { detector.learn([10 + Double(i % 3), 50 + Double(i % 4)]) }
        let verdict = detector.score([11, 90])!
        #expect(verdict.contributions.map(\.feature) == ["b", "a"])
        #expect(verdict.isAnomalous)
    }

    @Test func missingValuesAreIgnored() {
        var detector = trained((0..<20).map { Double($0 % 3) })
        detector.learn([.nan])
        #expect(detector.historyCount(feature: 0) == 20)
        #expect(detector.score([.nan]) == nil)
    }

    @Test func thresholdOverrideChangesTheVerdictNotTheScore() {
        var detector = RollingZScore(featureNames: ["x"], parameters: .init(z: 3.5, threshold: 5))
        for i in 0..<30 { detector.learn([Double(i % 5)]) }
        let verdict = detector.score([12])!
        #expect(verdict.score > 1 && verdict.score < 5)
        #expect(!verdict.isAnomalous)
    }
}
