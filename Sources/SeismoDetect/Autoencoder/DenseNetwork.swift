#if canImport(Glibc)
import SeismoCore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The nonlinearity applied after a dense layer's affine map.
public enum AutoencoderActivation: String, Sendable, Equatable, CaseIterable, Codable {
    /// max(0, z); weights start with He initialisation.
    case relu
    /// tanh(z); weights start with Xavier (Glorot) initialisation.
    case tanh
    /// 1 / (1 + e^−z); Xavier initialisation.
    case sigmoid
    /// z; Xavier initialisation. Always used on the output layer.
    case linear
}

/// A BLAS scalar with SIMD vectors and the elementary functions the activations need.
protocol NetworkScalar: BLASScalar & SIMDScalar & Codable {
    static func hyperbolicTangent(_ x: Self) -> Self
    static func exponential(_ x: Self) -> Self
}

/// Eight lanes: the elementwise kernels work on these, with a scalar loop for the tail.
typealias Lanes<S: NetworkScalar> = SIMD8<S>

@inline(__always) func loadLanes<S: NetworkScalar>(_ p: UnsafePointer<S>) -> Lanes<S> {
    UnsafeRawPointer(p).loadUnaligned(as: Lanes<S>.self)
}

@inline(__always) func storeLanes<S: NetworkScalar>(_ v: Lanes<S>, _ p: UnsafeMutablePointer<S>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes<S>.self)
}

extension Float: NetworkScalar {
    @inline(__always) static func hyperbolicTangent(_ x: Float) -> Float { tanhf(x) }
    @inline(__always) static func exponential(_ x: Float) -> Float { expf(x) }
}

extension Double: NetworkScalar {
    @inline(__always) static func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }
    @inline(__always) static func exponential(_ x: Double) -> Double { exp(x) }
}

/// A stack of dense layers trained to reproduce its input, with every buffer preallocated for
/// mini-batches of up to `capacity` rows.
///
/// Layer `l` maps `widths[l]` to `widths[l + 1]` columns: `A[l+1] = f_l(A[l]·W_l + b_l)`, with `W_l`
/// stored row-major as `widths[l] × widths[l + 1]`. All weights and biases live in one flat
/// `parameters` buffer (layer by layer: weights, then bias), and `gradients` mirrors it, so the
/// optimiser is a single loop. Forward and backward passes are one gemm per layer and direction.
///
/// Not thread-safe: one network per task. Internal; ``Autoencoder`` and ``AutoencoderModel`` own it.
final class DenseNetwork<S: NetworkScalar> {
    /// Layer widths, `widths[0]` = input = `widths.last` = output.
    let widths: [Int]
    /// One per layer; the last is `.linear`.
    let activations: [AutoencoderActivation]
    /// The most rows a forward or backward pass takes.
    let capacity: Int
    let parameterCount: Int
    let weightOffsets: [Int]
    let biasOffsets: [Int]
    let parameters: UnsafeMutablePointer<S>
    let gradients: UnsafeMutablePointer<S>
    /// `outputs[0]` is the input batch (`capacity × widths[0]`); `outputs[l + 1]` is layer `l`'s output.
    private let outputs: [UnsafeMutablePointer<S>]
    /// `deltas[l]`: ∂loss/∂(pre-activation of layer `l`), `capacity × widths[l + 1]`.
    private let deltas: [UnsafeMutablePointer<S>]

    var layerCount: Int { activations.count }
    var featureCount: Int { widths[0] }

    init(widths: [Int], activations: [AutoencoderActivation], capacity: Int) {
        precondition(widths.count == activations.count + 1 && widths.first == widths.last && capacity >= 1)
        self.widths = widths
        self.activations = activations
        self.capacity = capacity
        var offset = 0
        var weightOffsets: [Int] = []
        var biasOffsets: [Int] = []
        for l in 0..<activations.count {
            weightOffsets.append(offset)
            offset += widths[l] * widths[l + 1]
            biasOffsets.append(offset)
            offset += widths[l + 1]
        }
        self.weightOffsets = weightOffsets
        self.biasOffsets = biasOffsets
        parameterCount = offset
        parameters = .allocate(capacity: offset)
        parameters.initialize(repeating: 0, count: offset)
        gradients = .allocate(capacity: offset)
        gradients.initialize(repeating: 0, count: offset)
        outputs = widths.map { width in
            let p = UnsafeMutablePointer<S>.allocate(capacity: capacity * width)
            p.initialize(repeating: 0, count: capacity * width)
            return p
        }
        deltas = widths.dropFirst().map { width in
            let p = UnsafeMutablePointer<S>.allocate(capacity: capacity * width)
            p.initialize(repeating: 0, count: capacity * width)
            return p
        }
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        for p in outputs { p.deallocate() }
        for p in deltas { p.deallocate() }
    }

    /// The input batch buffer, `capacity × featureCount`, row-major; fill its first rows before a pass.
    var input: UnsafeMutablePointer<S> { outputs[0] }
    /// The reconstruction after ``forward(rows:)``, `rows × featureCount`.
    var output: UnsafePointer<S> { UnsafePointer(outputs[activations.count]) }

    /// Xavier-uniform weights (He-normal for ReLU layers), zero biases.
    func initialise(rng: inout SplitMix64) {
        for l in 0..<layerCount {
            let (fanIn, fanOut) = (widths[l], widths[l + 1])
            let w = parameters + weightOffsets[l]
            if activations[l] == .relu {
                let std = (2 / Double(fanIn)).squareRoot()
                for i in 0..<(fanIn * fanOut) { w[i] = S(rng.nextGaussian() * std) }
            } else {
                let limit = (6 / Double(fanIn + fanOut)).squareRoot()
                for i in 0..<(fanIn * fanOut) { w[i] = S((2 * rng.nextUnit() - 1) * limit) }
            }
            (parameters + biasOffsets[l]).update(repeating: 0, count: fanOut)
        }
    }

    /// Runs the first `rows` rows of ``input`` through every layer.
    func forward(rows: Int) throws {
        try checkRows(rows)
        for l in 0..<layerCount {
            let (n, m) = (widths[l], widths[l + 1])
            try BLAS.gemm(
                view(outputs[l], rows, n), view(parameters + weightOffsets[l], n, m),
                into: mutableView(outputs[l + 1], rows, m))
            Self.addBiasAndActivate(
                outputs[l + 1], bias: parameters + biasOffsets[l], rows: rows, columns: m, activations[l])
        }
    }

    /// After ``forward(rows:)``: the loss `mean((output − input)²)` over all `rows × featureCount`
    /// entries, with its gradient with respect to every parameter written to ``gradients``.
    @discardableResult
    func backward(rows: Int) throws -> Double {
        try checkRows(rows)
        let d = featureCount
        let last = layerCount - 1
        let scale = S(2) / S(rows * d)
        let x = outputs[0]
        let y = outputs[layerCount]
        let top = deltas[last]
        var total = 0.0
        for r in 0..<rows {
            var lanes = Lanes<S>()
            var j = r * d
            let end = (r + 1) * d
            while j + 8 <= end {
                let diff = loadLanes(y + j) - loadLanes(x + j)
                lanes += diff * diff
                storeLanes(scale * diff, top + j)
                j += 8
            }
            var sum = lanes.sum()
            while j < end {
                let diff = y[j] - x[j]
                sum += diff * diff
                top[j] = scale * diff
                j += 1
            }
            total += Double(sum)
        }
        for l in stride(from: last, through: 0, by: -1) {
            let (n, m) = (widths[l], widths[l + 1])
            let delta = deltas[l]
            // dW = A[l]ᵀ · δ[l]
            try BLAS.gemm(
                view(outputs[l], rows, n), transposeA: true, view(delta, rows, m),
                into: mutableView(gradients + weightOffsets[l], n, m))
            // db = column sums of δ[l]
            let db = gradients + biasOffsets[l]
            db.update(repeating: 0, count: m)
            for r in 0..<rows {
                let row = delta + r * m
                var j = 0
                while j + 8 <= m {
                    storeLanes(loadLanes(db + j) + loadLanes(row + j), db + j)
                    j += 8
                }
                while j < m {
                    db[j] += row[j]
                    j += 1
                }
            }
            if l > 0 {
                // δ[l−1] = (δ[l] · W_lᵀ) ⊙ f'_{l−1}(A[l])
                try BLAS.gemm(
                    view(delta, rows, m), view(parameters + weightOffsets[l], n, m), transposeB: true,
                    into: mutableView(deltas[l - 1], rows, n))
                Self.multiplyByDerivative(deltas[l - 1], activated: outputs[l], count: rows * n, activations[l - 1])
            }
        }
        return total / Double(rows * d)
    }

    /// Forward pass and loss, without gradients.
    func loss(rows: Int) throws -> Double {
        try forward(rows: rows)
        let d = featureCount
        let x = outputs[0]
        let y = output
        var total = 0.0
        for r in 0..<rows {
            var sum: S = 0
            for j in (r * d)..<((r + 1) * d) {
                let diff = y[j] - x[j]
                sum += diff * diff
            }
            total += Double(sum)
        }
        return total / Double(rows * d)
    }

    /// Floating-point operations of the gemms in one forward pass over `rows` rows (2·m·n·k each).
    static func forwardFlops(widths: [Int], rows: Int) -> Double {
        (0..<(widths.count - 1)).reduce(0.0) { $0 + 2 * Double(rows) * Double(widths[$1]) * Double(widths[$1 + 1]) }
    }

    /// Floating-point operations of the gemms in one backward pass (weight gradients for every layer,
    /// input gradients for all but the first).
    static func backwardFlops(widths: [Int], rows: Int) -> Double {
        let first = 2 * Double(rows) * Double(widths[0]) * Double(widths[1])
        return 2 * forwardFlops(widths: widths, rows: rows) - first
    }

    // MARK: Elementwise kernels

    static func addBiasAndActivate(
        _ z: UnsafeMutablePointer<S>, bias: UnsafePointer<S>, rows: Int, columns: Int,
        _ activation: AutoencoderActivation
    ) {
        switch activation {
        case .linear:
            for r in 0..<rows {
                let row = z + r * columns
                var j = 0
                while j + 8 <= columns {
                    storeLanes(loadLanes(row + j) + loadLanes(bias + j), row + j)
                    j += 8
                }
                while j < columns {
                    row[j] += bias[j]
                    j += 1
                }
            }
        case .relu:
            // max(v, 0) as (v + |v|) / 2: exact, and branch-free so it vectorises.
            for r in 0..<rows {
                let row = z + r * columns
                for j in 0..<columns {
                    let v = row[j] + bias[j]
                    row[j] = (v + v.magnitude) * 0.5
                }
            }
        case .tanh:
            for r in 0..<rows {
                let row = z + r * columns
                for j in 0..<columns { row[j] = S.hyperbolicTangent(row[j] + bias[j]) }
            }
        case .sigmoid:
            for r in 0..<rows {
                let row = z + r * columns
                for j in 0..<columns { row[j] = 1 / (1 + S.exponential(-(row[j] + bias[j]))) }
            }
        }
    }

    /// `delta ← delta ⊙ f'(z)`, with f' written in terms of the activated value `a = f(z)`.
    static func multiplyByDerivative(
        _ delta: UnsafeMutablePointer<S>, activated a: UnsafePointer<S>, count: Int, _ activation: AutoencoderActivation
    ) {
        switch activation {
        case .linear:
            return
        case .relu:
            // a = max(z, 0), so f'(z) = 1 exactly where a > 0; a select of constants, branch-free.
            for i in 0..<count { delta[i] *= a[i] > 0 ? 1 : 0 }
        case .tanh:
            var i = 0
            while i + 8 <= count {
                let ai = loadLanes(a + i)
                storeLanes(loadLanes(delta + i) * (1 - ai * ai), delta + i)
                i += 8
            }
            while i < count {
                delta[i] *= 1 - a[i] * a[i]
                i += 1
            }
        case .sigmoid:
            var i = 0
            while i + 8 <= count {
                let ai = loadLanes(a + i)
                storeLanes(loadLanes(delta + i) * ai * (1 - ai), delta + i)
                i += 8
            }
            while i < count {
                delta[i] *= a[i] * (1 - a[i])
                i += 1
            }
        }
    }

    // MARK: Helpers

    private func checkRows(_ rows: Int) throws {
        guard rows >= 1, rows <= capacity else {
            throw DetectError(.dimensionMismatch, "batch of \(rows) rows, network holds 1...\(capacity)")
        }
    }

    private func view(_ p: UnsafeMutablePointer<S>, _ rows: Int, _ columns: Int) -> MatrixView<S> {
        MatrixView(base: UnsafePointer(p), rows: rows, columns: columns, leadingDimension: columns)
    }

    private func mutableView(_ p: UnsafeMutablePointer<S>, _ rows: Int, _ columns: Int) -> MutableMatrixView<S> {
        MutableMatrixView(base: p, rows: rows, columns: columns, leadingDimension: columns)
    }
}

/// Adam (Kingma & Ba 2015) over a flat parameter buffer, with bias-corrected moments.
final class AdamOptimizer<S: NetworkScalar> {
    let count: Int
    let learningRate: Double
    let beta1: Double
    let beta2: Double
    let epsilon: Double
    private(set) var step = 0
    private let m: UnsafeMutablePointer<S>
    private let v: UnsafeMutablePointer<S>

    init(count: Int, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double) {
        self.count = count
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        m = .allocate(capacity: count)
        m.initialize(repeating: 0, count: count)
        v = .allocate(capacity: count)
        v.initialize(repeating: 0, count: count)
    }

    deinit {
        m.deallocate()
        v.deallocate()
    }

    /// One update: `p ← p − lr · m̂ / (√v̂ + ε)`.
    func update(_ p: UnsafeMutablePointer<S>, gradients g: UnsafePointer<S>) {
        step += 1
        let b1 = S(beta1)
        let b2 = S(beta2)
        let c1 = S(1 / (1 - pow(beta1, Double(step))))
        let c2 = S(1 / (1 - pow(beta2, Double(step))))
        let lr = S(learningRate)
        let eps = S(epsilon)
        let (m, v) = (self.m, self.v)
        var i = 0
        while i + 8 <= count {
            let gi = loadLanes(g + i)
            let mi = b1 * loadLanes(m + i) + (1 - b1) * gi
            let vi = b2 * loadLanes(v + i) + (1 - b2) * gi * gi
            storeLanes(mi, m + i)
            storeLanes(vi, v + i)
            storeLanes(loadLanes(p + i) - lr * (mi * c1) / ((vi * c2).squareRoot() + eps), p + i)
            i += 8
        }
        while i < count {
            defer { i += 1 }
            let gi = g[i]
            let mi = b1 * m[i] + (1 - b1) * gi
            let vi = b2 * v[i] + (1 - b2) * gi * gi
            m[i] = mi
            v[i] = vi
            p[i] -= lr * (mi * c1) / ((vi * c2).squareRoot() + eps)
        }
    }
}
