"""``python -m lendscope.risk.backtest [--write]``: print the 2022 backtest, or ship its score.

``--write`` regenerates ``score_2022.json``, the score the quarterly report quotes (so that
``lendscope report`` need not rerun the backtest on every build); a test reruns the backtest and
fails, naming this command, whenever the shipped file differs from a fresh run.
"""

from __future__ import annotations

import json
import sys

from lendscope.risk.backtest import SHIPPED, report_view, run_backtest


def to_json(obj: dict) -> str:
    """The same canonical text as ``risk.results.to_json`` (which imports this package)."""
    return json.dumps(obj, indent=2, allow_nan=False)


def main(argv: list[str]) -> int:
    """Print the backtest JSON, or with ``--write`` regenerate the shipped score."""
    r = run_backtest("2022")
    if "--write" in argv:
        SHIPPED.write_text(to_json(report_view(r)) + "\n")
        print(f"wrote {SHIPPED}")
    else:
        print(to_json(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
