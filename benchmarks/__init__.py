"""Benchmarks: speed, memory and quality figures for the README (run with `make bench`)."""
