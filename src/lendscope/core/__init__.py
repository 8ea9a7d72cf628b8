"""Shared vocabulary: assets, money and share formatting, settings read from the environment.

Every layer may import ``core``; ``core`` imports nothing else of lendscope and nothing heavy,
so the CLI can start without loading NumPy, DuckDB or Numba.
"""
