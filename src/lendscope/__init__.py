"""lendscope: the crypto lending market, measured, explained and stress-tested."""

__version__ = "0.1.0"
