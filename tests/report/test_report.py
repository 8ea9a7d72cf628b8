"""The report: files, determinism, findings from the metrics, and the PDF read back."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from pypdf import PdfReader

from lendscope.report.build import build_report
from lendscope.report.charts import CHARTS
from lendscope.report.findings import findings
from tests.helpers import ARTIFACTS, bundled_metrics


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def report(backend, tmp_path_factory):
    # Building the report (charts, HTML, PDF) takes seconds: the tests using it are `slow`.
    m = bundled_metrics(date(2025, 4, 14), backend)
    out = tmp_path_factory.mktemp("report")
    build_report(m, out)
    return m, out


@pytest.mark.slow
def test_files(report):
    _, out = report
    assert (out / "report.html").stat().st_size > 10_000
    for name in CHARTS:
        assert (out / "charts" / f"{name}.svg").read_text().startswith("<svg")
        assert (out / "charts" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    html = (out / "report.html").read_text()
    assert "http://" not in html.split("<h2>Sources</h2>")[0]  # nothing loaded from the web
    assert "<script" not in html


@pytest.mark.slow
def test_same_data_same_bytes(report, tmp_path):
    m, out = report
    build_report(m, tmp_path)
    for f in ["report.html", "report.json", "report.pdf"] + [f"charts/{n}.svg" for n in CHARTS]:
        assert digest(out / f) == digest(tmp_path / f), f


@pytest.mark.slow
def test_pdf_text(report):
    _m, out = report
    text = " ".join(p.extract_text() for p in PdfReader(out / "report.pdf").pages)
    text = re.sub(r"\s+", " ", text)
    assert "Figures as known on 2025-04-14" in text
    assert len(set(re.findall(r"Figure (\d+)\.", text))) == len(CHARTS) == 7
    assert "$36.5B" in text and "43% below the Q4 2021 peak of $64.4B" in text
    assert "157% above the Q3 2023 trough of $14.2B" in text
    assert "Tether" in text and "Galaxy" in text
    assert "Revisions" in text and "Sources" in text
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report-2025-04-14.pdf").write_bytes((out / "report.pdf").read_bytes())


def test_findings_follow_the_data(backend):
    m = bundled_metrics(None, backend)
    f = " ".join(findings(m, "2025Q3"))
    assert "$73.6B" in f and "new all-time high" in f
    assert "6.1% above the Q4 2021 pre-fall peak of $69.4B" in f
    assert "Researchers revise history" in f
    f4 = " ".join(findings(bundled_metrics(date(2025, 4, 14), backend), "2024Q4"))
    assert "18% above their Q4 2021 pre-fall high of $16.2B" in f4
    assert "961% from their Q4 2022 low of $1.8B" in f4


@pytest.mark.slow
def test_unknown_period_is_rejected(report, tmp_path):
    m, _ = report
    with pytest.raises(ValueError, match="no data for 2030Q1"):
        build_report(m, tmp_path, period="2030Q1", pdf=False)
