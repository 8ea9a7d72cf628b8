"""The downloads cache: keyed on the data's content, built once, then served without a rebuild."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from lendscope.app import create_app
from lendscope.app.data import Data
from lendscope.app.downloads import DOWNLOADS, DownloadCache, cache_for, content_key
from tests.helpers import NO_DB


@pytest.fixture(scope="module")
def data():
    d = Data(NO_DB)
    yield d
    d.close()


def test_the_key_is_the_content_and_changes_with_the_data(data):
    key = content_key(data.tables)
    assert key == content_key(dict(data.tables)) == content_key(Data(NO_DB).tables)
    obs = data.tables["observations"]
    fewer = {**data.tables, "observations": obs.slice(0, obs.num_rows - 1)}
    assert content_key(fewer) != key
    values = obs.column("value_usd").to_pylist()
    values[0] = (values[0] or 0) + 1
    i = obs.schema.get_field_index("value_usd")
    changed = obs.set_column(i, obs.schema.field(i), pa.array(values, obs.schema.field(i).type))
    assert content_key({**data.tables, "observations": changed}) != key


def test_a_cache_folder_per_key(data, tmp_path):
    a = DownloadCache(data, tmp_path)
    assert a.dir == tmp_path / "downloads" / content_key(data.tables)
    assert a.path("nope.exe") is None and a.path("../report.pdf") is None
    assert set(DOWNLOADS.values()) == {"csv", "parquet", "pdf"}


def test_after_build_every_download_is_served_from_the_cache(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lendscope.cli import app as cli

    monkeypatch.setenv("LENDSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    db = tmp_path / "l.duckdb"
    res = CliRunner().invoke(cli, ["build", "--db", str(db)])  # builds the downloads too
    assert res.exit_code == 0, res.output
    folder = tmp_path / "cache" / "downloads" / content_key(Data(db).tables)
    assert f"downloads cached in {folder}" in res.output
    assert (folder / "pdf" / "report.pdf").stat().st_size > 10_000
    assert (folder / "csv" / "observations.csv").exists()

    def no_rebuild(*_a, **_k):
        raise AssertionError("rebuilt a cached download")

    monkeypatch.setattr("lendscope.report.build.build_report", no_rebuild)
    monkeypatch.setattr("lendscope.export.export_all", no_rebuild)
    app = create_app(db, token="", warm=False)
    cache = cache_for(app.state.data)  # the default root: $LENDSCOPE_CACHE_DIR
    with TestClient(app) as c:
        pdf = c.get("/downloads/report.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        csv = c.get("/downloads/observations.csv")
        assert csv.status_code == 200 and csv.text.startswith('"period",')
        assert c.get("/downloads/metrics_quarterly.parquet").content[:4] == b"PAR1"
        assert c.get("/downloads/secrets.txt").status_code == 404
    assert cache.builds == {}  # nothing was built: all three kinds came from disk
    assert cache.build_all() == folder and cache.builds == {}  # and a second build is a no-op


def test_build_can_skip_the_downloads(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lendscope.cli import app as cli

    monkeypatch.setenv("LENDSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    db = tmp_path / "l.duckdb"
    res = CliRunner().invoke(cli, ["build", "--no-downloads", "--db", str(db)])
    assert res.exit_code == 0 and "downloads cached" not in res.output
    assert not (tmp_path / "cache").exists()


def test_the_key_ignores_chunking_and_row_order(data):
    key = content_key(data.tables)
    obs = data.tables["observations"]
    half = obs.num_rows // 2
    rechunked = pa.concat_tables([obs.slice(half), obs.slice(0, half)])  # other chunks and order
    assert rechunked.num_columns == obs.num_columns
    assert content_key({**data.tables, "observations": rechunked}) == key
