"""``eth_getLogs`` over a block range in adaptive pieces.

Providers cap log queries by block range (Alchemy, QuickNode), by result count (Infura's
"query returned more than 10000 results", -32005) or by response size. :func:`get_logs` asks
for ``initial_range`` blocks at a time (the whole range by default), halves the range whenever
the node says the query is too big, and doubles it again after each success, never going
below ``min_range`` blocks. A range the node suggests in its message is used directly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from lendscope.chain.rpc import LOG_RANGE_ERROR, RpcClient, RpcError, RpcTransportError

# Alchemy: "... this block range should work: [0x1e84800, 0x1e84fcf]"
_SUGGESTED = re.compile(r"\[\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\]")


class LogRangeError(RpcError):
    """The node refused even a ``min_range``-block query."""


def _too_big(exc: Exception) -> bool:
    if isinstance(exc, RpcError):
        return exc.is_log_range_error
    return isinstance(exc, RpcTransportError) and bool(LOG_RANGE_ERROR.search(str(exc)))


def _suggested_span(exc: Exception, lo: int) -> int | None:
    m = _SUGGESTED.search(str(exc))
    if not m:
        return None
    a, b = int(m.group(1), 16), int(m.group(2), 16)
    return b - lo + 1 if a == lo and b >= a else None


def get_logs(
    client: RpcClient,
    address: str | Sequence[str] | None,
    topics: Sequence[Any],
    start: int,
    end: int,
    *,
    initial_range: int | None = None,
    min_range: int = 1,
    max_range: int | None = None,
    ranges: list[tuple[int, int]] | None = None,
) -> list[dict[str, Any]]:
    """Every log from ``start`` to ``end`` (inclusive) in block order, read adaptively.

    ``ranges``, when given, collects the ``(from, to)`` of each successful query.
    Raises :class:`LogRangeError` when a ``min_range``-block query is still too big, and
    passes any other error through.
    """
    if start > end:
        return []
    if min_range < 1:
        raise ValueError("min_range must be >= 1")
    total = end - start + 1
    cap = max(min_range, min(max_range or total, total))
    span = max(min_range, min(initial_range or cap, cap))
    out: list[dict[str, Any]] = []
    lo = start
    while lo <= end:
        hi = min(end, lo + span - 1)
        flt: dict[str, Any] = {"topics": list(topics), "fromBlock": hex(lo), "toBlock": hex(hi)}
        if address is not None:
            flt["address"] = address
        try:
            logs = client.request("eth_getLogs", [flt])
        except (RpcError, RpcTransportError) as exc:
            if not _too_big(exc):
                raise
            if hi - lo + 1 <= min_range:
                raise LogRangeError(
                    "eth_getLogs",
                    getattr(exc, "code", None),
                    f"blocks {lo}-{hi} ({hi - lo + 1}, the floor) still too big: {exc}",
                ) from exc
            hint = _suggested_span(exc, lo)
            half = max(min_range, (hi - lo + 1) // 2)
            span = hint if hint is not None and min_range <= hint < hi - lo + 1 else half
            continue
        out.extend(logs or [])
        if ranges is not None:
            ranges.append((lo, hi))
        lo = hi + 1
        span = min(cap, span * 2)
    return out
