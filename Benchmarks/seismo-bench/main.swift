print("seismo-bench: see WireBenchmarks and KafkaBenchmarks")
