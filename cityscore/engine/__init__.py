"""The scoring engine: pure functions from frames to scores, its slow reference, and summaries."""
