/// Finds seasonal periods by autocorrelation of a robustly detrended, regularly gridded series.
enum PeriodDetection {
    /// Largest grid the detector looks at; longer histories use their most recent part.
    static let maxGrid = 20_000

    /// Periods in seconds, shortest first. `candidates` (seconds) are checked first; if none
    /// qualifies, the strongest autocorrelation peak is taken when it is clear enough.
    static func detect(
        times: [Double], values: [Double], step: Double, candidates: [Double], threshold: Double, maxSearchLag: Int
    ) -> [Double] {
        guard let first = times.first, let last = times.last, step > 0, last > first else { return [] }
        let span = Int(((last - first) / step).rounded())
        let length = min(span + 1, maxGrid)
        let origin = last - Double(length - 1) * step
        var grid = [Double](repeating: .nan, count: length)
        for (t, y) in zip(times, values) where y.isFinite && t >= origin - step / 2 {
            let i = Int(((t - origin) / step).rounded())
            if i >= 0, i < length { grid[i] = y }
        }
        // Robust detrend (Tukey's resistant line): slope between the medians of the outer thirds.
        let third = length / 3
        var slope = 0.0
        if third >= 1 {
            let early = Array(grid[..<third]), late = Array(grid[(length - third)...])
            if let a = Robust.median(early), let b = Robust.median(late) {
                slope = (b - a) / Double(length - third)
            }
        }
        for i in 0..<length where grid[i].isFinite { grid[i] -= slope * Double(i) }
        guard let centre = Robust.median(grid), let spread = Robust.scale(grid), spread > 0 else { return [] }
        let clip = 4 * spread
        for i in 0..<length where grid[i].isFinite { grid[i] = min(max(grid[i] - centre, -clip), clip) }

        func acf(_ lag: Int) -> Double {
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            var i = 0
            while i + lag < length {
                let a = grid[i], b = grid[i + lag]
                if a.isFinite && b.isFinite {
                    sxy += a * b
                    sxx += a * a
                    syy += b * b
                }
                i += 1
            }
            let d = (sxx * syy).squareRoot()
            return d > 0 ? sxy / d : 0
        }

        var found: [Double] = []
        var strength: [Double] = []
        for candidate in candidates.sorted() {
            let lag = candidate / step
            guard lag >= 4, 2 * lag <= Double(length) else { continue }
            let tolerance = max(1, Int((lag * 0.01).rounded()))
            let centreLag = Int(lag.rounded())
            var best = -1.0
            for l in max(2, centreLag - tolerance)...(centreLag + tolerance) where 2 * l <= length {
                best = max(best, acf(l))
            }
            // A multiple of a kept period must correlate clearly better to add structure of its own.
            let base = zip(found, strength).filter { (candidate / $0.0 - (candidate / $0.0).rounded()).magnitude < 0.01 }
                .map(\.1).max() ?? -1
            // A true period peaks: the series half a period on correlates clearly less.
            let half = acf(max(1, Int((lag / 2).rounded())))
            if best >= threshold && best >= base + 0.1 && best >= half + 0.2 {
                found.append(candidate)
                strength.append(best)
            }
        }
        if !found.isEmpty { return found }

        // No calendar period: the highest peak after the autocorrelation first turns negative.
        let maxLag = min(length / 2, maxSearchLag)
        guard maxLag > 4 else { return [] }
        var values = [Double](repeating: 0, count: maxLag + 1)
        for l in 1...maxLag { values[l] = acf(l) }
        guard let firstNegative = (1...maxLag).first(where: { values[$0] < 0 }) else { return [] }
        var bestLag = 0, best = 0.0
        for l in max(firstNegative, 4)..<maxLag where values[l] > best && values[l] >= values[l - 1] && values[l] >= values[l + 1] {
            best = values[l]
            bestLag = l
        }
        return best >= max(threshold, 0.5) ? [Double(bestLag) * step] : []
    }
}
