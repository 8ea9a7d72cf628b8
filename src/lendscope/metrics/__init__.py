"""Market metrics: size, shares, concentration, cycles, overlaps, at any vintage.

``summary.MarketMetrics`` holds every metric of one vintage (pure Python, no Ibis), computed by
the Ibis expressions of ``queries`` (``frames``, ``cycles``, ``concentration``) through the
compiled queries of ``compiled`` on DuckDB or PySpark, or, on the CLI's cold path, from the SQL
shipped in ``precompiled``. ``params`` checks the query parameters (period, vintage, since,
platform) the CLI and the app share. This package imports nothing, so the cold path loads no Ibis.
"""
