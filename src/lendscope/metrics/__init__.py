"""Market metrics as Ibis expressions: size, shares, concentration, cycles, overlaps."""

from lendscope.metrics.frames import SERIES
from lendscope.metrics.summary import MarketMetrics

__all__ = ["SERIES", "MarketMetrics"]
