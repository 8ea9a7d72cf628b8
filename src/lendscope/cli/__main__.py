"""``python -m lendscope.cli``."""

from lendscope.cli import app

app()
