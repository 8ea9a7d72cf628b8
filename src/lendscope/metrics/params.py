"""The query parameters of the metrics (period, vintage, since, platform), checked in one place.

The CLI (``metrics``, ``report``, ``export``) and the app (``/api/v1`` and the pages' picker)
take the same parameters, so they refuse the same values with the same words: a
:class:`ParamError` names the parameter and says what is wrong, and each caller words the
refusal its own way (the CLI names the flag and exits 1; the app answers 422 in its validation
error format). Nothing is ever answered with a quarter of nulls.

``parse_*`` checks the form of a value alone. ``check_*`` checks it against the data: which
quarters have figures at the vintage (:meth:`MarketMetrics.periods`) and when the first figure
was published. Pure Python, so the CLI's cold path (no Ibis, no pandas) can import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from lendscope.dataset.schema import PERIOD_RE, period_from_index, period_index

if TYPE_CHECKING:
    from lendscope.metrics.summary import MarketMetrics

#: The parameters a :class:`ParamError` can name.
PARAMS = ("period", "vintage", "since", "platform")


class ParamError(ValueError):
    """A refused query parameter: ``param`` (one of :data:`PARAMS`) and a message for people.

    ``value`` is the value as given, for callers that echo it (the API's ``input``).
    """

    def __init__(self, param: str, message: str, value: object = None):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message
        self.value = value


# -- form --------------------------------------------------------------------------------------


def parse_period(text: str, param: str = "period") -> str:
    """``text`` if it is a quarter ``YYYYQn``."""
    if not PERIOD_RE.match(text):
        raise ParamError(param, f"{text!r} is not a quarter YYYYQn (e.g. 2024Q4)", text)
    return text


def parse_date(text: str, param: str = "vintage") -> date:
    """``text`` as a calendar date ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ParamError(param, f"{text!r} is not a date YYYY-MM-DD", text) from None


# -- against the data --------------------------------------------------------------------------


def check_vintage(vintage: date | None, first: date | None, today: date | None = None) -> None:
    """Refuse a vintage in the future or before the first figure was published.

    A future date would be echoed as if the figures were known then, and a date before
    ``first`` (the earliest ``published`` among observations) knows no figure at all.
    ``today`` defaults to ``date.today()``; tests pass it. ``None`` (the latest vintage) is
    always fine.
    """
    if vintage is None:
        return
    today = today or date.today()
    if vintage > today:
        raise ParamError("vintage", f"{vintage} is in the future (today is {today})", vintage)
    if first is not None and vintage < first:
        raise ParamError(
            "vintage",
            f"{vintage} is before the first figure was published; earliest is {first}",
            vintage,
        )


def default_period(m: MarketMetrics) -> str:
    """The latest quarter whose total is known, or else the latest with any figure."""
    periods = m.periods()
    if not periods:
        raise ParamError("vintage", f"no quarter has data at vintage {m.vintage}", m.vintage)
    try:
        return m.latest_period()
    except IndexError:  # figures, but no quarter's total known yet at this vintage
        return periods[-1]


def nearest(periods: list[str], period: str) -> list[str]:
    """The quarters of ``periods`` closest to ``period`` (two when it falls midway)."""
    i = period_index(period)
    gap = min(abs(period_index(p) - i) for p in periods)
    return [p for p in periods if abs(period_index(p) - i) == gap]


def spans(periods: list[str]) -> str:
    """Quarters as runs of consecutive ones, ``2021Q4-2022Q1, 2022Q4``: short at any length."""
    runs: list[list[int]] = []
    for i in sorted(period_index(p) for p in periods):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    return ", ".join(
        period_from_index(a) if a == b else f"{period_from_index(a)}-{period_from_index(b)}"
        for a, b in runs
    )


def _known(m: MarketMetrics, period: str, param: str) -> str:
    periods = m.periods()
    if not periods:
        default_period(m)  # raises: nothing at this vintage
    if period not in periods:
        raise ParamError(
            param,
            f"{period} has no data at vintage {m.vintage} (nearest: "
            f"{', '.join(nearest(periods, period))}; quarters with data: {spans(periods)})",
            period,
        )
    return period


def check_period(m: MarketMetrics, period: str | None, param: str = "period") -> str:
    """``period`` if it has data at the metrics' vintage; ``None`` means :func:`default_period`."""
    if period is None:
        return default_period(m)
    return _known(m, parse_period(period, param), param)


def check_since(m: MarketMetrics, since: str | None, period: str) -> str | None:
    """``since`` if it has data and comes strictly before ``period`` (growth runs forwards)."""
    if since is None:
        return None
    _known(m, parse_period(since, "since"), "since")
    if period_index(since) >= period_index(period):
        raise ParamError("since", f"{since} is not before the period {period}", since)
    return since


def check_query(
    m: MarketMetrics, period: str | None, since: str | None = None
) -> tuple[str, str | None]:
    """The period (resolved to the default when ``None``) and ``since``, both checked."""
    p = check_period(m, period)
    return p, check_since(m, since, p)


# -- platforms ---------------------------------------------------------------------------------


def find_platform(known: Iterable[str], name: str) -> str | None:
    """The canonical spelling of ``name`` among ``known``, matched case-insensitively.

    An exact match wins, so two names differing only in case stay reachable; otherwise the
    first in sorted order. ``None`` when no name matches.
    """
    names = sorted(set(known))
    if name in names:
        return name
    folded = name.casefold()
    return next((n for n in names if n.casefold() == folded), None)


def check_platform(known: Iterable[str], name: str, vintage: date) -> str:
    """:func:`find_platform`, refusing an unknown name with a :class:`ParamError`."""
    found = find_platform(known, name)
    if found is None:
        raise ParamError("platform", f"no platform named {name!r} at vintage {vintage}", name)
    return found
