/// Checkpoint: the binary model format and crash-safe file writes.
