"""Altostratus tests; a package so that benchmarks can import `tests.servers`."""
