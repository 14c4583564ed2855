import SeismoCore
import SeismoDetect

/// Release-build autoencoder training throughput as a fraction of OpenBLAS's own sgemm peak, same run.
///
/// Both sides use one OpenBLAS thread, so the figure does not depend on how busy the other cores are.
/// Training flops count 2·m·n·k for every gemm of the forward and backward passes (weight gradients for
/// every layer, input gradients for all but the first), plus the forward passes for the initial loss and
/// the threshold calibration; the time is the whole `fit` call (standardisation, shuffling, batch
/// gathering, bias and activation loops, Adam and calibration included).
enum AutoencoderBenchmarks {
    static let rows = 4096
    static let batchSize = 256

    static func run() throws {
        try BLAS.setThreadCount(1)
        print("SeismoDetect autoencoder training (Float32, 1 OpenBLAS thread; batch \(batchSize), \(rows) rows, relu)")
        for width in [256, 512] {
            // Interleaved rounds, best of each, so both sides get the same chances under a shared machine's
            // load; the peak is the best of a large square sgemm and the training step's own gemm sequence
            // (same shapes and transposes).
            let table = trainingTable(width: width)
            var (square, step, training) = (0.0, 0.0, 0.0)
            for _ in 0..<rounds {
                square = max(square, try sgemmRate(size: 2048, repeats: 1))
                step = max(step, try stepGemmRate(width: width))
                training = max(training, try trainingRate(table))
            }
            let peak = max(square, step)
            let fraction = training / peak
            print(
                "  layers \(width) wide: sgemm peak \(formatted(peak)) GFLOP/s (2048³ \(formatted(square)), "
                    + "training-step gemms alone \(formatted(step))); training \(formatted(training)) GFLOP/s = "
                    + "\(Int((fraction * 100).rounded()))% of peak  (target >= 50%: \(fraction >= 0.5 ? "met" : "MISSED"))")
        }
    }

    static let rounds = 5
    static let epochs = 3

    /// `rows × width` values near a 16-dimensional subspace, so training has something to learn.
    static func trainingTable(width: Int) -> FeatureTable {
        var rng = SplitMix64(seed: 1)
        let basis = (0..<(16 * width)).map { _ in rng.nextGaussian() }
        var values = [Double](repeating: 0, count: rows * width)
        for r in 0..<rows {
            let z = (0..<16).map { _ in rng.nextGaussian() }
            for j in 0..<width {
                var v = 0.1 * rng.nextGaussian()
                for k in 0..<16 { v += z[k] * basis[k * width + j] }
                values[r * width + j] = v
            }
        }
        return FeatureTable(featureNames: (0..<width).map { "f\($0)" }, rowCount: rows, values: values)
    }

    /// Training GFLOP/s of `features = width`, encoder `[width, width]` (four width×width layers), best of 2.
    static func trainingRate(_ table: FeatureTable) throws -> Double {
        let width = table.featureCount
        let detector = Autoencoder(
            encoderWidths: [width, width], activations: [.relu], batchSize: batchSize, maxEpochs: epochs,
            patience: epochs, validationFraction: 0)
        let widths = detector.networkWidths(features: width)
        let forward = (0..<(widths.count - 1)).reduce(0.0) { $0 + 2 * Double(widths[$1]) * Double(widths[$1 + 1]) }
        let backward = 2 * forward - 2 * Double(widths[0]) * Double(widths[1])
        let flops = Double(rows) * (Double(epochs) * (forward + backward) + 2 * forward)
        let seconds = try best(of: 2) {
            let model = try detector.fit(table, seed: 0)
            precondition(model.metrics.epochs == epochs)
        }
        return flops / seconds / 1e9
    }

    /// GFLOP/s of the gemms of training steps alone, on the network of ``trainingRate(width:epochs:)``:
    /// per layer one forward product, one weight-gradient product (Aᵀ·δ) and one input-gradient product
    /// (δ·Wᵀ, all layers but the first), over a batch of ``batchSize`` rows.
    static func stepGemmRate(width: Int, steps: Int = 16) throws -> Double {
        var rng = SplitMix64(seed: 3)
        func random(_ r: Int, _ c: Int) throws -> Matrix<Float> {
            try Matrix(rows: r, columns: c, elements: (0..<(r * c)).map { _ in Float(rng.nextGaussian()) })
        }
        let a = try random(batchSize, width)
        let w = try random(width, width)
        var z = try Matrix<Float>(rows: batchSize, columns: width)
        var dw = try Matrix<Float>(rows: width, columns: width)
        let seconds = try best(of: 2) {
            for _ in 0..<steps {
                for _ in 0..<4 { try BLAS.gemm(a, w, into: &z) }
                for _ in 0..<4 { try BLAS.gemm(a, transposeA: true, a, into: &dw) }
                for _ in 0..<3 { try BLAS.gemm(a, w, transposeB: true, into: &z) }
            }
        }
        return 11 * 2 * Double(batchSize) * Double(width) * Double(width) * Double(steps) / seconds / 1e9
    }

    static func sgemmRate(size: Int, repeats: Int) throws -> Double {
        try sgemmRate(m: size, n: size, k: size, repeats: repeats)
    }

    /// GFLOP/s of `repeats` sgemms `m×k · k×n`, best of 3.
    static func sgemmRate(m: Int, n: Int, k: Int, repeats: Int) throws -> Double {
        var rng = SplitMix64(seed: 2)
        let a = try Matrix<Float>(rows: m, columns: k, elements: (0..<(m * k)).map { _ in Float(rng.nextGaussian()) })
        let b = try Matrix<Float>(rows: k, columns: n, elements: (0..<(k * n)).map { _ in Float(rng.nextGaussian()) })
        var c = try Matrix<Float>(rows: m, columns: n)
        let seconds = try best(of: 2) {
            for _ in 0..<repeats { try BLAS.gemm(a, b, into: &c) }
        }
        return 2 * Double(m) * Double(n) * Double(k) * Double(repeats) / seconds / 1e9
    }

    /// Seconds of the fastest of `runs` calls, after one warm-up.
    static func best(of runs: Int, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        try body()
        var best = Duration.seconds(1_000_000)
        for _ in 0..<runs {
            let start = clock.now
            try body()
            best = min(best, clock.now - start)
        }
        return Double(best.components.seconds) + Double(best.components.attoseconds) * 1e-18
    }

    static func formatted(_ value: Double) -> String {
        String(Int((value * 10).rounded()) / 10) + "." + String(Int((value * 10).rounded()) % 10)
    }
}
