/// Ranking metrics for evaluating detectors against labels.
public enum RankingMetrics {
    /// Area under the ROC curve: the probability that a random positive scores above a random negative,
    /// ties counting one half (Mann–Whitney U with average ranks).
    ///
    /// Throws `.invalidData` unless both classes are present, or `.dimensionMismatch` if the counts differ.
    public static func rocAUC(scores: [Double], labels: [Bool]) throws -> Double {
        guard scores.count == labels.count else {
            throw DetectError(.dimensionMismatch, "\(scores.count) scores for \(labels.count) labels")
        }
        let positives = labels.filter { $0 }.count
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else {
            throw DetectError(.invalidData, "ROC-AUC needs both classes; got \(positives) positives, \(negatives) negatives")
        }
        guard scores.allSatisfy({ !$0.isNaN }) else { throw DetectError(.invalidData, "scores contain NaN") }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var positiveRankSum = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count, scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let averageRank = Double(i + j) / 2 + 1
            for k in i...j where labels[order[k]] { positiveRankSum += averageRank }
            i = j + 1
        }
        let p = Double(positives)
        return (positiveRankSum - p * (p + 1) / 2) / (p * Double(negatives))
    }
}
