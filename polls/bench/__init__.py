"""Benchmarks: `polls bench ...` measures what the issues name, against a baseline, in one run."""
