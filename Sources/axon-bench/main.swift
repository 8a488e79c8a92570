print("axon-bench")
