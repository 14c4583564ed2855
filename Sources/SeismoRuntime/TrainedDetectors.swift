import SeismoDetect
import SeismoPipeline

/// How a pipeline's trained detector types (`isolation_forest`, `autoencoder`, `seasonal`) map to
/// SeismoDetect's model kinds and training parameters; shared by `seismo train`, the backtest and
/// the running pipeline.
public enum TrainedDetectors {
    /// The model kind a detector trains, or nil for types that learn online (`zscore`).
    public static func kind(of spec: DetectorSpec) -> ModelKind? {
        switch spec.type {
        case "isolation_forest": spec.parameters["extended"]?.bool == true ? .extendedIsolationForest : .isolationForest
        case "autoencoder": .autoencoder
        case "seasonal": .seasonal
        default: nil
        }
    }

    /// The detector's parameters as model metadata values.
    public static func parameters(of spec: DetectorSpec) -> [String: ModelValue] {
        spec.parameters.mapValues(value)
    }

    /// The training seed (`params.seed`, default 1).
    public static func seed(of spec: DetectorSpec) -> UInt64 {
        UInt64(max(0, spec.parameters["seed"]?.number ?? 1))
    }

    static func value(_ p: ParameterValue) -> ModelValue {
        switch p {
        case .number(let x): .number(x)
        case .string(let s): .string(s)
        case .bool(let b): .bool(b)
        case .list(let items): .list(items.map(value))
        }
    }
}
