/// "Did you mean …?" by edit distance.
enum Suggestions {
    /// The candidate closest to `word`, when it is close enough to be a likely typo.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        guard let (candidate, distance) = best else { return nil }
        let longer = max(word.count, candidate.count)
        let limit = longer <= 3 ? 1 : max(2, longer / 3)
        if distance <= limit, distance < longer { return candidate }
        // A truncated key (`hist` for `history`).
        if word.count >= 3 {
            return candidates.first { $0.lowercased().hasPrefix(lowered) }
        }
        return nil
    }

    /// `; did you mean 'x'?` or, without a close candidate, the list of what is allowed.
    static func hint(for word: String, in candidates: [String], listing: Bool = true) -> String {
        if let near = closest(to: word, in: candidates) { return "; did you mean '\(near)'?" }
        guard listing, !candidates.isEmpty else { return "" }
        return "; expected one of: \(candidates.joined(separator: ", "))"
    }

    /// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let s = Array(a.unicodeScalars), t = Array(b.unicodeScalars)
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var previous2 = [Int](repeating: 0, count: t.count + 1)
        var previous = Array(0...t.count)
        var current = [Int](repeating: 0, count: t.count + 1)
        for i in 1...s.count {
            current[0] = i
            for j in 1...t.count {
                let cost = s[i - 1] == t[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, s[i - 1] == t[j - 2], s[i - 2] == t[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[t.count]
    }
}
