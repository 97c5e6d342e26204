"""Benchmarks of the platform (`make bench`): speed is measured here, never asserted in tests."""
