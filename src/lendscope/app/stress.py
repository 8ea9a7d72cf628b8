"""Extension point for the stress-test pages and API (the risk engine registers them here).

The dashboard has no stress-test page of its own. When the risk engine is ready, its module
builds an :class:`fastapi.APIRouter` and calls :func:`register` before the app is created::

    from fastapi import APIRouter
    from lendscope.app import stress

    router = APIRouter()

    @router.get("/stress")  # a page; use prefix "/api/v1" routes for JSON
    def stress_page(): ...

    stress.register(router, nav="Stress tests", path="/stress")

:func:`lendscope.app.main.create_app` includes every registered router and adds the ``nav``
entries to the menu. Routes added to a router after the app exists are not picked up.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter


@dataclass(frozen=True)
class Extension:
    """A registered router and its optional menu entry."""

    router: APIRouter
    nav: str | None = None
    path: str | None = None


EXTENSIONS: list[Extension] = []


def register(router: APIRouter, nav: str | None = None, path: str | None = None) -> None:
    """Add ``router`` (and a menu link ``nav`` -> ``path``) to apps created from now on."""
    if (nav is None) != (path is None):
        raise ValueError("give both nav and path, or neither")
    EXTENSIONS.append(Extension(router, nav, path))


def clear() -> None:
    """Forget every registered router (for tests)."""
    EXTENSIONS.clear()
