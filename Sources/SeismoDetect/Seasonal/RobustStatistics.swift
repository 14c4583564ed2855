/// Order statistics that ignore NaN and never trap on empty input.
enum Robust {
    /// The median of the finite values, or nil when there are none.
    static func median(_ values: [Double]) -> Double? {
        var v = values.filter(\.isFinite)
        guard !v.isEmpty else { return nil }
        v.sort()
        let mid = v.count / 2
        return v.count % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2
    }

    /// Quantile `q` in [0, 1] of the finite values (linear interpolation), or nil.
    static func quantile(_ values: [Double], _ q: Double) -> Double? {
        var v = values.filter(\.isFinite)
        guard !v.isEmpty else { return nil }
        v.sort()
        let pos = min(max(q, 0), 1) * Double(v.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, v.count - 1)
        return v[lo] + (v[hi] - v[lo]) * (pos - Double(lo))
    }

    /// Normal-consistent median absolute deviation around the median (1.4826 · MAD), or nil.
    /// When more than half the values are equal (MAD 0), the mean absolute deviation stands in.
    static func scale(_ values: [Double]) -> Double? {
        guard let m = median(values) else { return nil }
        let deviations = values.filter(\.isFinite).map { abs($0 - m) }
        guard let mad = median(deviations) else { return nil }
        if mad > 0 { return 1.4826 * mad }
        return 1.2533 * deviations.reduce(0, +) / Double(deviations.count)
    }
}
