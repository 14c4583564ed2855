/// One NAB series: `timestamp,value` rows as read from its CSV.
public struct NABSeries: Sendable, Equatable {
    /// Timestamps exactly as written in the file (results repeat them).
    public var timestamps: [String]
    /// Seconds since 1970 (UTC), NaN where a timestamp does not parse.
    public var times: [Double]
    /// NaN where a value is missing or does not parse.
    public var values: [Double]

    public init(timestamps: [String], times: [Double], values: [Double]) {
        self.timestamps = timestamps
        self.times = times
        self.values = values
    }

    /// Parses `timestamp,value` CSV text with a header line. Throws on a missing header.
    public init(csv: String) throws {
        var lines = csv.split(whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next(), header.lowercased().hasPrefix("timestamp") else {
            throw DetectError(.invalidData, "CSV needs a `timestamp,value` header")
        }
        var timestamps: [String] = [], times: [Double] = [], values: [Double] = []
        while let line = lines.next() {
            guard let comma = line.firstIndex(of: ",") else { continue }
            let stamp = String(line[..<comma])
            timestamps.append(stamp)
            times.append(Self.parseTime(stamp) ?? .nan)
            values.append(Double(line[line.index(after: comma)...].trimmingSpaces()) ?? .nan)
        }
        self.init(timestamps: timestamps, times: times, values: values)
    }

    /// `YYYY-MM-DD[ T]HH:MM[:SS[.fff]]` as UTC seconds since 1970; nil if malformed.
    public static func parseTime(_ text: String) -> Double? {
        let parts = text.split(whereSeparator: { $0 == "-" || $0 == " " || $0 == "T" || $0 == ":" })
        guard parts.count >= 5, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
            let hh = Int(parts[3]), let mm = Int(parts[4]), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        let ss = parts.count > 5 ? Double(parts[5]) ?? 0 : 0
        // Days from civil (Howard Hinnant).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Double(days * 86_400 + hh * 3_600 + mm * 60) + ss
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}

/// Scores NAB series as the live pipeline would: fit on the probation period only, then score
/// each later point causally (online updates and refits on past points only).
public struct NABRunner: Sendable {
    public var seasonal: SeasonalConfiguration
    public var transform: NABScoreTransform.Configuration
    /// A level-shift detector run beside the forecast (the `ensemble` detector); its score enters
    /// the transform with weight `transform.levelShiftWeight`.
    public var levelShift: LevelShiftDetector.Configuration?

    public init(seasonal: SeasonalConfiguration = NABRunner.defaultSeasonal,
                transform: NABScoreTransform.Configuration = NABScoreTransform.Configuration(),
                levelShift: LevelShiftDetector.Configuration? = nil) {
        self.seasonal = seasonal
        self.transform = transform
        self.levelShift = levelShift
    }

    /// The `ensemble` settings: the seasonal forecast plus a level-shift detector.
    public static var ensemble: NABRunner {
        var r = NABRunner(levelShift: LevelShiftDetector.Configuration())
        r.transform.levelShiftWeight = 0.8
        return r
    }

    /// The seasonal settings used for NAB: online updates plus periodic refits.
    public static var defaultSeasonal: SeasonalConfiguration {
        var c = SeasonalConfiguration()
        c.refitInterval = 500
        c.refitWindow = 4_000
        c.updateClip = 4
        return c
    }

    /// NAB's probation length: the first 15% of rows, at most 750.
    public static func probationLength(rowCount: Int) -> Int {
        min(rowCount * 15 / 100, 750)
    }

    /// NAB scores in [0, 1], one per row; probation rows score 0. Never throws: a series whose
    /// probation period cannot be fitted scores 0 until a fit on later past data succeeds.
    public func scores(times: [Double], values: [Double]) -> [Double] {
        run(times: times, values: values).scores
    }

    /// `scores(times:values:)` together with each scored row's forecast point (nil during probation).
    public func run(times: [Double], values: [Double]) -> (scores: [Double], points: [SeasonalScoredPoint?]) {
        let n = min(times.count, values.count)
        var points = [SeasonalScoredPoint?](repeating: nil, count: n)
        var out = [Double](repeating: 0, count: n)
        let probation = Self.probationLength(rowCount: n)
        var transform = NABScoreTransform(configuration: self.transform)
        let forecaster = SeasonalForecaster(configuration: seasonal)
        var tracker: SeasonalTracker?
        var shifts: LevelShiftDetector?
        var fitEnd = max(probation, 1)
        func fit(upTo end: Int) -> SeasonalTracker? {
            let t = Array(times[0..<end]), y = Array(values[0..<end])
            guard let model = try? forecaster.fit(times: t, values: y) else { return nil }
            // In-sample scores teach the transform what normal looks like.
            var shadow = SeasonalTracker(model: model)
            shifts = levelShift.map { LevelShiftDetector(configuration: $0) }
            shifts?.setScaleFloor(model.scaleFloor)
            for i in 0..<end {
                transform.observe(shadow.update(time: t[i], value: y[i]).score, levelShift: shifts?.update(y[i]) ?? 0)
            }
            return SeasonalTracker(model: model, history: zip(t, y).map { (time: $0.0, value: $0.1) })
        }
        tracker = fitEnd <= n ? fit(upTo: min(fitEnd, n)) : nil
        for i in probation..<n {
            if tracker == nil, i >= fitEnd + 100 {
                fitEnd = i
                tracker = fit(upTo: i)
            }
            guard let point = tracker?.update(time: times[i], value: values[i]) else { continue }
            points[i] = point
            out[i] = transform.next(point.score, levelShift: shifts?.update(values[i]) ?? 0)
        }
        return (out, points)
    }
}
