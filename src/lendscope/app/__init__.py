"""The web dashboard and REST API (``lendscope serve``): FastAPI, Jinja2 pages, vega-embed."""

from lendscope.app.factory import create_app

__all__ = ["create_app"]
