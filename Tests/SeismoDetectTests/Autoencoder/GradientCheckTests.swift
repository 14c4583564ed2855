@testable import SeismoDetect
import SeismoCore
import Testing

@Suite("Autoencoder backward pass")
struct GradientCheckTests {
    /// Largest relative error between the backward pass and central finite differences of the loss,
    /// over every weight and bias of an `11 → 9 → 3 → 9 → 11` network in Double precision (widths that
    /// exercise both the 8-lane SIMD kernels and their scalar tails).
    static func maxRelativeError(_ activation: AutoencoderActivation, seed: UInt64) throws -> Double {
        let widths = [11, 9, 3, 9, 11]
        let network = DenseNetwork<Double>(
            widths: widths, activations: [activation, activation, activation, .linear], capacity: 7)
        var rng = SplitMix64(seed: seed)
        network.initialise(rng: &rng)
        // Non-zero biases, so their gradients and the activations' curvature are exercised too.
        for l in 0..<network.layerCount {
            for j in 0..<widths[l + 1] { network.parameters[network.biasOffsets[l] + j] = 0.2 * rng.nextGaussian() }
        }
        for i in 0..<(7 * 11) { network.input[i] = rng.nextGaussian() }

        try network.forward(rows: 7)
        try network.backward(rows: 7)
        let analytic = Array(UnsafeBufferPointer(start: network.gradients, count: network.parameterCount))

        // h balances truncation error (∝ h²) against rounding in the loss (∝ 1/h).
        let h = 1e-5
        var worst = 0.0
        for p in 0..<network.parameterCount {
            let saved = network.parameters[p]
            network.parameters[p] = saved + h
            let up = try network.loss(rows: 7)
            network.parameters[p] = saved - h
            let down = try network.loss(rows: 7)
            network.parameters[p] = saved
            let numeric = (up - down) / (2 * h)
            let error = abs(numeric - analytic[p]) / max(abs(numeric) + abs(analytic[p]), 1e-6)
            worst = max(worst, error)
        }
        return worst
    }

    @Test(
        "gradients of every weight and bias match central finite differences to 1e-5 relative error",
        arguments: AutoencoderActivation.allCases)
    func matchesFiniteDifferences(activation: AutoencoderActivation) throws {
        for seed: UInt64 in [1, 2, 3] {
            let error = try Self.maxRelativeError(activation, seed: seed)
            print("gradient check \(activation) seed \(seed): max relative error \(error)")
            #expect(error < 1e-5, "activation \(activation), seed \(seed)")
        }
    }

    @Test("the gemm flop count covers one product per layer forward and two per layer backward, less the input gradient")
    func flopCount() {
        let widths = [8, 4, 8]
        #expect(DenseNetwork<Float>.forwardFlops(widths: widths, rows: 10) == 2 * 10 * (8 * 4 + 4 * 8))
        #expect(DenseNetwork<Float>.backwardFlops(widths: widths, rows: 10) == 2 * 10 * (2 * 8 * 4 + 4 * 8))
    }
}
