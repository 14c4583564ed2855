import Foundation
import SeismoCore
import SeismoDetect
import Testing

@Suite("Level-shift detector")
struct LevelShiftDetectorTests {
    private func configuration(recent: Int, reference: Int) -> LevelShiftDetector.Configuration {
        var c = LevelShiftDetector.Configuration()
        c.recent = recent
        c.reference = reference
        return c
    }

    @Test("scores 0 until both windows are full, then the shift of the recent median in robust deviations")
    func step() {
        var detector = LevelShiftDetector(configuration: configuration(recent: 5, reference: 50))
        var rng = SplitMix64(seed: 3)
        var scores: [Double] = []
        for i in 0..<200 { scores.append(detector.update((i >= 100 ? 10 : 0) + rng.nextGaussian())) }
        #expect(scores[..<54].allSatisfy { $0 == 0 })
        #expect(scores[54..<100].allSatisfy { $0 < 3 })
        // Once most of the recent window is past the step, the score is near the 10σ shift.
        #expect(scores[103..<110].allSatisfy { $0 > 6 })
    }

    @Test("a single spike does not move the medians; NaN is skipped")
    func spikeAndNaN() {
        var detector = LevelShiftDetector(configuration: configuration(recent: 5, reference: 50))
        var rng = SplitMix64(seed: 4)
        for _ in 0..<100 { _ = detector.update(rng.nextGaussian()) }
        #expect(detector.update(100) < 3)
        #expect(detector.update(.nan) == 0)
        #expect(detector.update(rng.nextGaussian()) < 3)
    }

    @Test("a flat reference uses the scale floor instead of dividing by zero")
    func flatReference() {
        var detector = LevelShiftDetector(configuration: configuration(recent: 3, reference: 10))
        detector.setScaleFloor(0.5)
        for _ in 0..<13 { _ = detector.update(7) }
        #expect(detector.update(7) == 0)
        for _ in 0..<2 { _ = detector.update(8) }
        #expect(detector.update(8) == 2)
    }
}
