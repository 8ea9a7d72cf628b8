"""The downloads (``/downloads/{name}``): built once per dataset content, then served from disk.

The exports (CSV, Parquet) and the PDF report depend only on the dataset and the code that
writes them, so they are cached under ``<cache>/downloads/<key>/<kind>/`` where ``key`` is
:func:`content_key`: a SHA-256 of every table's Arrow IPC bytes and the lendscope version.
Changed data is a new key (a new folder); the same data, in any process, is the same key.

They are built ahead of the first request: by ``lendscope build`` (:func:`prebuild`) and in
the background when the app starts (:meth:`DownloadCache.start_background`); a request that
comes first waits for the build under the cache's lock, never builds twice. A kind is built
into a temporary folder and moved into place in one rename, so a reader (another process too)
sees a complete folder or none. Only the :data:`KEEP` most recent keys are kept on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import weakref
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

from lendscope import __version__
from lendscope.app.data import Data
from lendscope.core import settings
from lendscope.dataset.schema import TABLES

#: What each kind is: export formats and the PDF report (with its HTML and charts).
KINDS = ("csv", "parquet", "pdf")
#: The only files served: name -> kind.
DOWNLOADS: dict[str, str] = {
    f"{name}.{kind}": kind for name in [*TABLES, "metrics_quarterly"] for kind in ("csv", "parquet")
} | {"report.pdf": "pdf"}
#: Content keys kept on disk (older folders are removed after a build).
KEEP = 4


def _canonical(t: pa.Table) -> pa.Table:
    """One chunk in a fixed row order: a scan's chunking and row order must not change a key."""
    t = t.combine_chunks()
    try:
        return t.sort_by([(c, "ascending") for c in t.column_names])
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return t


def content_key(tables: Mapping[str, pa.Table]) -> str:
    """SHA-256 (first 24 hex digits) of the lendscope version and every table's content."""
    h = hashlib.sha256(f"lendscope {__version__}\n".encode())
    for name in sorted(tables):
        t = _canonical(tables[name])
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t)
        h.update(f"\n{name}\n".encode())
        h.update(sink.getvalue())
    return h.hexdigest()[:24]


class DownloadCache:
    """The downloads of one :class:`Data`, in ``root/downloads/<content key>/``."""

    def __init__(self, data: Data, root: Path | None = None):
        self.data = data
        self.key = content_key(data.tables)
        self.base = Path(root or settings.cache_dir()) / "downloads"
        self.dir = self.base / self.key
        #: How many times each kind was built by this object (tests: a cached one is not).
        self.builds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def path(self, filename: str) -> Path | None:
        """The file (built first if absent); ``None`` for a name not in :data:`DOWNLOADS`."""
        kind = DOWNLOADS.get(filename)
        if kind is None:
            return None
        path = self.dir / kind / filename
        if not path.exists():
            with self._lock:
                if not path.exists():
                    self._build(kind)
        return path

    def cached(self, kind: str) -> bool:
        """Whether ``kind`` is on disk already."""
        return (self.dir / kind).is_dir()

    def build_all(self) -> Path:
        """Build every kind not yet cached; returns the key's folder."""
        for kind in KINDS:
            with self._lock:
                if not self.cached(kind):
                    self._build(kind)
        self._prune()
        return self.dir

    def start_background(self) -> threading.Thread:
        """:meth:`build_all` in a daemon thread (once); a request meanwhile waits for its kind."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._quiet_build_all, name="lendscope-downloads", daemon=True
            )
            self._thread.start()
        return self._thread

    def _quiet_build_all(self) -> None:
        try:
            self.build_all()
        except Exception:
            return

    def _build(self, kind: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{kind}.{os.getpid()}.{threading.get_ident()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            m = self.data.metrics()
            if kind == "pdf":
                from lendscope.report.build import build_report

                build_report(m, tmp, pdf=True)
            else:
                from lendscope.export import export_all

                export_all(self.data.db, m, tmp, kind)
            self.builds[kind] += 1
            with contextlib.suppress(OSError):  # another process put the same content first
                os.replace(tmp, self.dir / kind)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _prune(self) -> None:
        try:
            keys = [p for p in self.base.iterdir() if p.is_dir() and p != self.dir]
        except OSError:
            return
        keys.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in keys[KEEP - 1 :]:
            shutil.rmtree(old, ignore_errors=True)


_CACHES: weakref.WeakKeyDictionary[Data, DownloadCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_for(data: Data, root: Path | None = None) -> DownloadCache:
    """The one cache of ``data`` (made on first call, with ``root`` or the default cache dir)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(data)
        if cache is None:
            cache = _CACHES[data] = DownloadCache(data, root)
        return cache


def prebuild(db: Path | None = None, root: Path | None = None) -> Path:
    """Build every download of ``db`` now (``lendscope build`` calls it); returns the folder."""
    data = Data(db)
    try:
        return DownloadCache(data, root).build_all()
    finally:
        data.close()
