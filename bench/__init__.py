"""Benchmarks: `make bench` (or `python -m bench`). Every figure is printed beside a reference
measured in the same run, because shared machines are noisy."""
