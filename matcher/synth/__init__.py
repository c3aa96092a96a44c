"""Synthetic data: realistic generated cities and change sets (tests, benchmarks, the demo)."""
