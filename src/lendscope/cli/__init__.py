"""The ``lendscope`` command line: each command calls one function of a layer.

Commands live in one module per layer and register on the shared Typer ``app``; the import
order below is the order ``lendscope --help`` lists them.
"""

# isort: off
from lendscope.cli._common import app
from lendscope.cli import dataset  # noqa: F401  (registers commands)
from lendscope.cli import rates  # noqa: F401
from lendscope.cli import risk  # noqa: F401
from lendscope.cli import chain  # noqa: F401
from lendscope.cli import registry  # noqa: F401
from lendscope.cli import overlap  # noqa: F401
from lendscope.cli import serve  # noqa: F401
# isort: on

__all__ = ["app"]
