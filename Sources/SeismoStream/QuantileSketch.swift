#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mergeable quantile sketch with relative-error guarantees (DDSketch): a value `x` is
/// counted in the logarithmic bucket `ceil(log_γ |x|)` with `γ = (1 + α) / (1 − α)`, in a
/// store for positive values, one for negative values, or the zero count.
///
/// `quantile(q)` answers within `α · |x|` of the exact `⌊q·(n−1)⌋`-th smallest value `x`, as
/// long as the magnitudes of each sign span at most a factor of `10^18` (`bucketLimit`
/// buckets: about 2,100 for α = 1 %, 21,000 for α = 0.1 %). Beyond that the buckets of the
/// smallest magnitudes are collapsed into one, so memory stays bounded and only those
/// quantiles lose accuracy. Magnitudes below `Double.leastNormalMagnitude` count as zero.
public struct QuantileSketch: Sendable {
    /// At most this many buckets per sign: enough for magnitudes spanning `10^18`.
    public var bucketLimit: Int { positive.limit }

    /// The relative error `α` of every answer.
    public let relativeError: Double
    /// The number of values added (NaN and infinities are ignored).
    public private(set) var count: Int = 0
    private let gamma: Double
    private let inverseLogGamma: Double
    private var positive: BucketStore
    private var negative: BucketStore
    private var zeroCount: Int = 0

    /// An empty sketch whose answers are within `relativeError` (0 < α < 1) of the truth.
    public init(relativeError: Double) {
        precondition(relativeError > 0 && relativeError < 1, "relativeError must be in (0, 1)")
        self.relativeError = relativeError
        gamma = (1 + relativeError) / (1 - relativeError)
        inverseLogGamma = 1 / log(gamma)
        let limit = Swift.min(Swift.max(Int((log(1e18) * inverseLogGamma).rounded(.up)), 64), 1 << 16)
        positive = BucketStore(limit: limit)
        negative = BucketStore(limit: limit)
    }

    /// True when no value was added.
    public var isEmpty: Bool { count == 0 }

    /// Adds one value; NaN and infinities are ignored.
    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        count += 1
        if value > Double.leastNormalMagnitude {
            positive.add(index(value))
        } else if value < -Double.leastNormalMagnitude {
            negative.add(index(-value))
        } else {
            zeroCount += 1
        }
    }

    /// Adds every value counted in `other`, which must have the same relative error.
    public mutating func merge(_ other: QuantileSketch) {
        precondition(other.gamma == gamma, "merging sketches of different relative errors")
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        count += other.count
        zeroCount += other.zeroCount
        positive.merge(other.positive)
        negative.merge(other.negative)
    }

    /// The `q`-quantile (0 ≤ q ≤ 1, clamped) of the values added; NaN when empty.
    public func quantile(_ q: Double) -> Double {
        guard count > 0, !q.isNaN else { return .nan }
        let clamped = Swift.min(Swift.max(q, 0), 1)
        // The 0-based rank of the answer; the first bucket whose cumulative count passes it.
        let rank = Int((clamped * Double(count - 1)).rounded(.down))
        var seen = 0
        // Negative values, most negative (largest magnitude) first.
        if negative.total > 0 {
            for position in stride(from: negative.counts.count - 1, through: 0, by: -1) {
                seen += negative.counts[position]
                if seen > rank { return -value(ofBucket: negative.offset + position) }
            }
        }
        seen += zeroCount
        if seen > rank { return 0 }
        for position in positive.counts.indices {
            seen += positive.counts[position]
            if seen > rank { return value(ofBucket: positive.offset + position) }
        }
        // Unreachable when counts agree; the largest bucket is the safe answer.
        return positive.counts.isEmpty ? 0 : value(ofBucket: positive.offset + positive.counts.count - 1)
    }

    @inline(__always)
    private func index(_ magnitude: Double) -> Int {
        Int((log(magnitude) * inverseLogGamma).rounded(.up))
    }

    /// The representative of bucket `i` (values in (γ^(i−1), γ^i]): within α of each of them.
    private func value(ofBucket i: Int) -> Double {
        2 * pow(gamma, Double(i)) / (gamma + 1)
    }
}

/// Counts per bucket index over a contiguous range `offset ..< offset + counts.count`.
private struct BucketStore: Sendable {
    let limit: Int
    var offset = 0
    var counts: [Int] = []
    var total = 0

    @inline(__always)
    mutating func add(_ index: Int, count: Int = 1) {
        total += count
        if counts.isEmpty {
            counts = [Int](repeating: 0, count: 8)
            offset = index - 4
        }
        var position = index - offset
        if position < 0 || position >= counts.count {
            position = grow(toInclude: index)
        }
        counts[position] += count
    }

    mutating func merge(_ other: BucketStore) {
        guard other.total > 0 else { return }
        for (position, count) in other.counts.enumerated() where count > 0 {
            add(other.offset + position, count: count)
        }
    }

    /// Widens the range (with some slack) to hold `index`, collapsing the lowest buckets when
    /// the range would pass `maxBuckets`; returns the position that now holds `index`.
    private mutating func grow(toInclude index: Int) -> Int {
        let used = usedRange()
        var low = Swift.min(used.lowerBound, index)
        let high = Swift.max(used.upperBound - 1, index)
        if high - low + 1 > limit { low = high - limit + 1 }
        let slack = Swift.max(8, (high - low + 1) / 4)
        let newLow = Swift.max(low - slack, high - limit + 1)
        let newHigh = Swift.min(high + slack, newLow + limit - 1)
        var fresh = [Int](repeating: 0, count: newHigh - newLow + 1)
        for position in counts.indices where counts[position] > 0 {
            let target = Swift.max(offset + position, low)  // collapses the lowest buckets into `low`
            fresh[target - newLow] += counts[position]
        }
        counts = fresh
        offset = newLow
        return Swift.max(index, low) - newLow
    }

    /// The bucket indices with counts (or the current range when empty).
    private func usedRange() -> Range<Int> {
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 })
        else { return offset ..< offset + 1 }
        return (offset + first) ..< (offset + last + 1)
    }
}
