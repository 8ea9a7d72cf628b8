# Quick start (fresh Debian, Python 3.11):
#   make report   # install lendscope in .venv and write out/report.html, out/report.pdf
#   make test     # install every test need and run the whole suite (what CI runs)
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
export UV_PYTHON := $(PYTHON)
export UV_LINK_MODE := copy

.PHONY: report test lint bench clean

$(UV):
	$(PYTHON) -m venv .tools || (scripts/system-deps.sh venv && $(PYTHON) -m venv .tools)
	.tools/bin/pip install -q "uv==$(UV_VERSION)"

report: $(UV)
	scripts/system-deps.sh report
	$(UV) sync --frozen --no-dev --compile-bytecode
	.venv/bin/python -m compileall -q src
	.venv/bin/lendscope build --db out/lendscope.duckdb
	.venv/bin/lendscope report --db out/lendscope.duckdb --out out

test: $(UV)
	scripts/system-deps.sh test
	cd evm && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(UV) sync --frozen --extra spark --group dev --compile-bytecode
	.venv/bin/python -m compileall -q src
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/lint-imports --no-cache --no-logo
	LENDSCOPE_REQUIRE_BROWSER=1 .venv/bin/python -m pytest -p no:cacheprovider

lint: $(UV)
	$(UV) sync --frozen --group dev
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks

bench: $(UV)
	$(UV) sync --frozen --group dev
	.venv/bin/python benchmarks/bench_startup.py
	.venv/bin/python benchmarks/bench_report.py
	.venv/bin/python benchmarks/bench_mechanics.py
	.venv/bin/python benchmarks/bench_risk.py --quick
	.venv/bin/python benchmarks/bench_parsing.py

clean:
	rm -rf .venv .tools out
