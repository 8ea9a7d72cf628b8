"""Build the quarterly report: HTML (self-contained), JSON, PDF (WeasyPrint), charts as SVG/PNG.

Same metrics in -> byte-identical files out: dates come from the data or ``as_of``.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from lendscope import __version__
from lendscope.core.fmt import pct, quarter, usd
from lendscope.metrics.summary import MarketMetrics
from lendscope.report.charts import CHARTS, render_all
from lendscope.report.document import report_json, series_table
from lendscope.report.findings import findings
from lendscope.report.reconcile import RECONCILE, reconciliation  # noqa: F401 (re-exported)
from lendscope.report.stress import what_2022_would_do

#: Quarters of the on-chain app x chain table (the latest ones up to the report's quarter).
ONCHAIN_QUARTERS = 8


def onchain_note(m: MarketMetrics) -> str | None:
    """One sentence naming the figures read on-chain by ``lendscope sync`` and their blocks."""
    rows = sorted(
        (s for s in m.sources if s["kind"] == "onchain" and s["figures"]), key=lambda s: s["id"]
    )
    if not rows:
        return None
    # Titles read "<platform> on <chain>: on-chain read at block <n>" (sources/sync.py).
    items = [s["title"].replace(": on-chain read at block ", " at block ") for s in rows]
    return (
        "Read on-chain by lendscope (method onchain: debt x the protocol's oracle price at the "
        "block, provenance in each row): " + "; ".join(items) + ". All other figures are reported."
    )


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("lendscope", "report/templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters.update(usd=usd, pct=pct, quarter=quarter, spct=lambda v: pct(v, signed=True))
    return env


def render_html(
    m: MarketMetrics,
    period: str,
    as_of: date,
    charts: list[dict],
    stress2022: object | None = None,
) -> str:
    """The report as one HTML document (``stress2022`` precomputed, else computed here)."""
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            m=m,
            period=period,
            d=m.for_period(period, detail=True),
            as_of=as_of,
            version=__version__,
            findings=findings(m, period),
            drawdowns=series_table(m, period),
            charts=charts,
            table=[m.for_period(p, detail=True) for p in m.periods()],
            recon=reconciliation(m),
            overlaps=m.overlaps,
            stress2022=stress2022 if stress2022 is not None else what_2022_would_do(m),
            onchain=onchain_note(m),
            split=m.onchain_split(period, last=ONCHAIN_QUARTERS),
        )
    )


def build_report(
    m: MarketMetrics,
    out: Path,
    period: str | None = None,
    as_of: date | None = None,
    pdf: bool = True,
) -> list[Path]:
    """Write ``report.html``, ``report.json``, ``report.pdf`` and ``charts/*`` under ``out``.

    ``report.json`` holds every number the HTML and PDF show (see :func:`report_json`).
    """
    period = period or m.latest_period()
    if period not in m.periods():
        raise ValueError(f"no data for {period}; quarters with data: {', '.join(m.periods())}")
    as_of = as_of or m.vintage
    out = Path(out)
    (out / "charts").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    charts = []
    # The 2022 stress runs beside the chart rendering: both spend their time outside the GIL.
    with ThreadPoolExecutor(1) as pool:
        stress = pool.submit(what_2022_would_do, m)
        rendered = render_all([fn(m, period) for _, fn in CHARTS.values()])
        stress2022 = stress.result()
    for i, (name, (title, _)) in enumerate(CHARTS.items(), start=1):
        svg, png = rendered[i - 1]
        for ext, data in (("svg", svg.encode()), ("png", png)):
            written.append(_write(out / "charts" / f"{name}.{ext}", data))
        charts.append(
            {
                "n": i,
                "name": name,
                "title": title,
                "src": "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode(),
            }
        )
    html = render_html(m, period, as_of, charts, stress2022)
    written.insert(0, _write(out / "report.html", html.encode()))
    extra = {
        "onchain_note": onchain_note(m),
        "onchain_split": m.onchain_split(period, last=ONCHAIN_QUARTERS),
    }
    doc_json = report_json(m, period, as_of, stress2022, version=__version__, extra=extra)
    written.insert(1, _write(out / "report.json", doc_json.encode()))
    if pdf:
        from weasyprint import HTML

        doc = HTML(string=html, base_url=str(out))
        written.insert(
            2,
            _write(
                out / "report.pdf",
                doc.write_pdf(
                    pdf_identifier=f"lendscope-{period}-{m.vintage}".encode(),
                    uncompressed_pdf=False,
                ),
            ),
        )
    return written


def _write(path: Path, data: bytes) -> Path:
    """Write atomically; leave the file untouched when the bytes are the same."""
    if path.exists() and path.read_bytes() == data:
        return path
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
