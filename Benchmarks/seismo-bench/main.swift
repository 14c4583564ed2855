import Foundation

// `make bench`: release-build figures, each printed beside its target.
// `SEISMO_BENCH=wire,kafka,detect,autoencoder,pipeline,receivers,query,alert,seasonal,storage` runs only those groups.
let only = ProcessInfo.processInfo.environment["SEISMO_BENCH"].map { Set($0.split(separator: ",").map(String.init)) }
func enabled(_ group: String) -> Bool { only?.contains(group) ?? true }

print("seismo-bench (release build)\n")
if enabled("wire") { WireBenchmarks.run() }
if enabled("kafka") { try await KafkaBenchmarks.run() }
if enabled("detect") { try await DetectBenchmarks.run() }
if enabled("seasonal") { try SeasonalBenchmarks.run() }
if enabled("autoencoder") { try AutoencoderBenchmarks.run() }
if enabled("pipeline") { try await PipelineBenchmarks.run() }
if enabled("receivers") { try await ReceiverBenchmarks.run() }
if enabled("query") { try await QueryBenchmarks.run() }
if enabled("alert") { try await AlertBenchmarks.run() }
if enabled("storage") { try await StorageBenchmarks.run() }
