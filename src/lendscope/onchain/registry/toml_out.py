"""Writing registry values back as TOML (for :func:`lendscope.onchain.registry.dump_registry`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

#: A version window's bound keys, in the order they are written.
WINDOW = ("from_block", "until_block", "from_time", "until_time")


def toml_value(v: Any) -> str:
    """``v`` as a TOML value (inline tables for dicts)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def toml_address(a: Any) -> str:
    """An :class:`~lendscope.onchain.registry.Address` as an inline table."""
    return toml_value({"address": a.address, "label": a.label, "url": a.url})


def version_lines(v: Any) -> list[str]:
    """A ``[[deployment.versions]]`` table for a :class:`~lendscope.onchain.registry.Version`."""
    lines = ["[[deployment.versions]]", f"source = {toml_value(v.source)}"]
    for k in WINDOW:
        x = getattr(v, k)
        if x is not None and k.endswith("_time"):
            lines.append(f"{k} = {datetime.fromtimestamp(x, UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
        elif x is not None:
            lines.append(f"{k} = {x}")
    lines.append("[deployment.versions.addresses]")
    return lines + [f"{k} = {toml_address(a)}" for k, a in v.addresses.items()]
