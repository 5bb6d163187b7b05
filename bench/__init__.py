"""Benchmarks (`make bench`): each prints its numbers beside the raw ceiling measured in the
same run and writes JSON to bench/results/."""
