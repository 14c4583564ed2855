// `make bench`: release-build figures, each printed beside its target.
print("seismo-bench (release build)\n")
WireBenchmarks.run()
try await KafkaBenchmarks.run()
try await DetectBenchmarks.run()
try AutoencoderBenchmarks.run()
