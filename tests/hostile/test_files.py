"""Every hostile file through the CLI and the API: a clear error, no 5xx, nothing written."""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePath

import pytest
from typer.testing import CliRunner

from lendscope.cli import app
from tests.hostile.cases import CASES, Case
from tests.hostile.helpers import measured, server_error, upload_leftovers, written

EXAMPLES = resources.files("lendscope") / "risk" / "examples"
runner = CliRunner()
BY_ID = [pytest.param(c, id=c.id) for c in CASES]


def on_disk(tmp_path: Path, c: Case) -> Path:
    path = tmp_path / PurePath(c.name).name  # path tricks only matter as an upload name
    path.write_bytes(c.content)
    return path


def cli_args(c: Case, path: Path) -> list[list[str]]:
    if c.kind == "disclosure":
        return [["validate", str(path)], ["build", "--add", str(path), "--db", "{db}"]]
    stress = ["stress", "--scenario", "2022", "--positions", "10"]
    if c.kind == "tape":
        return [[*stress, "--book", str(path), "--book", str(EXAMPLES / "funding.yaml")]]
    if c.kind == "funding":
        return [[*stress, "--book", str(EXAMPLES / "loan_tape.csv"), "--book", str(path)]]
    return [["stress", "--scenario", str(path), "--synthetic", "--positions", "10"]]


@pytest.mark.parametrize("case", [p for p in BY_ID if p.values[0].cli])
def test_cli_refuses(case: Case, tmp_path: Path) -> None:
    path = on_disk(tmp_path, case)
    db = tmp_path / "out.duckdb"
    for args in cli_args(case, path):
        args = [a.replace("{db}", str(db)) for a in args]
        res = measured(case.id, lambda args=args: runner.invoke(app, args))
        assert res.exit_code == 1, f"{args}: exit {res.exit_code}\n{res.output[-2000:]}"
        assert isinstance(res.exception, SystemExit), repr(res.exception)
        assert "Traceback" not in res.output
        assert path.name in res.output, res.output[-2000:]
        written(1 if db.exists() else 0)


def api_call(client, c: Case):
    if c.kind == "disclosure":
        return client.post("/api/v1/validate", files={"file": (c.name, c.content)})
    tape = ("loan_tape.csv", (EXAMPLES / "loan_tape.csv").read_bytes())
    funding = ("funding.yaml", (EXAMPLES / "funding.yaml").read_bytes())
    files = {"loan_tape": (c.name, c.content), "funding": funding}
    if c.kind == "funding":
        files = {"loan_tape": tape, "funding": (c.name, c.content)}
    return client.post("/api/v1/stress", data={"scenario": "2022"}, files=files)


@pytest.mark.parametrize("case", [p for p in BY_ID if p.values[0].kind != "scenario"])
def test_api_refuses(case: Case, api) -> None:
    before = upload_leftovers()
    r = measured(case.id, lambda: api_call(api, case), wall=True)
    server_error(case.id, r.status_code)
    assert upload_leftovers() == before, "upload left on disk"
    if r.status_code == 200:  # validate answers 200 with the problems it found
        body = r.json()
        assert body["ok"] is False and body["problems"], body
        assert all(p["file"] for p in body["problems"])
    else:
        assert 400 <= r.status_code < 500, r.status_code
        assert "detail" in r.json() or "message" in r.json(), r.text[:500]
    assert "Traceback" not in r.text and "pydantic" not in r.text.lower()
