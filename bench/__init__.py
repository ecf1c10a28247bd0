"""Benchmarks at practice scale (DESIGN.md section 5). Run with ``make bench`` or ``python -m bench``."""
