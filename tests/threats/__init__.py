"""THREATS.md's test catalogue: one module per area, each case with its exit code and message."""
