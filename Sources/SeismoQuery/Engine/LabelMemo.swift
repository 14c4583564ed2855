import SeismoCore

/// Label-set work shared across the steps of one evaluation.
///
/// A range query evaluates the same series at every step, so the label sets a step derives
/// (`rate` dropping the name, `sum by (job)` keeping `job`) are the same at every step.
/// The memo computes each derivation once per source label set and returns one canonical
/// (interned) value per distinct result, so callers can compare and group results by
/// `identity`, an integer, instead of hashing label names and values.
///
/// Sources are recognised by the address of their storage. Every source and result is
/// retained by the memo, so no address is reused by another label set while it lives.
final class LabelMemo {
    /// What is derived from a source label set.
    enum Derivation: Hashable {
        case droppingName
        case keeping(Set<String>)
        case removing(Set<String>)
    }

    private struct Key: Hashable {
        var derivation: Int
        var source: UInt
    }

    private var derivations: [Derivation: Int] = [:]
    private var derived: [Key: (source: Labels, result: Labels)] = [:]
    private var canonical: [Labels: Labels] = [:]

    /// The id to pass to `derive` for `derivation` (look it up once per call, not per sample).
    func id(of derivation: Derivation) -> Int {
        if let id = derivations[derivation] { return id }
        let id = derivations.count
        derivations[derivation] = id
        return id
    }

    /// `labels` with the derivation applied, canonical.
    func derive(_ derivation: Derivation, id: Int, from labels: Labels) -> Labels {
        let key = Key(derivation: id, source: labels.identity)
        if let hit = derived[key] { return hit.result }
        let result: Labels
        switch derivation {
        case .droppingName: result = labels.droppingName
        case .keeping(let names): result = labels.keeping(names)
        case .removing(let names): result = labels.removing(names)
        }
        let interned = intern(result)
        derived[key] = (labels, interned)
        return interned
    }

    private var bounds: [UInt: (source: Labels, bound: Double?)] = [:]

    /// A histogram bucket's `le` bound, parsed once per label set (nil when absent or not a number).
    func bucketBound(_ labels: Labels) -> Double? {
        let key = labels.identity
        if let hit = bounds[key] { return hit.bound }
        let bound = labels["le"].flatMap(Evaluator.parseGoFloat)
        bounds[key] = (labels, bound)
        return bound
    }

    /// The canonical value equal to `labels`.
    func intern(_ labels: Labels) -> Labels {
        if let existing = canonical[labels] { return existing }
        canonical[labels] = labels
        return labels
    }
}

extension Labels {
    /// The address of the storage of the pairs: equal for copies of one value (0 when empty).
    var identity: UInt {
        pairs.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
    }
}
