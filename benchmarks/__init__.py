"""Benchmarks that report numbers (never pass/fail). Run each as a module from the repository root,
e.g. `.venv/bin/python -m benchmarks.perf`, so `benchmarks.common` and `tests.support` import as they are."""
