"""Load benchmarks that drive the real Application; run ``python -m benchmarks.dialog``."""
