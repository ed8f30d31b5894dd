"""Scripts that print figures (not tests); run each from the repository root: `python -m benchmarks.<name>`."""
