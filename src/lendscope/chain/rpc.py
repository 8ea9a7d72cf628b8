"""Sync JSON-RPC client: batches, retries for idempotent reads, Retry-After, rate limit, stats."""

from __future__ import annotations

import email.utils
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

# Read-only methods that are safe to resend (modelled on web3.py's REQUEST_RETRY_ALLOWLIST,
# minus anything that sends, signs or creates server-side state such as filters).
RETRY_ALLOWLIST: frozenset[str] = frozenset(
    {
        "eth_call",
        "eth_blockNumber",
        "eth_chainId",
        "eth_getBalance",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getCode",
        "eth_getLogs",
        "eth_getProof",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_gasPrice",
        "eth_feeHistory",
        "net_version",
        "web3_clientVersion",
    }
)

# JSON-RPC error codes providers use for "slow down" (-32005 limit exceeded, 429 rate limit).
TRANSIENT_RPC_CODES: frozenset[int] = frozenset({-32005, 429})
#: Default cap on one HTTP request body (anvil refuses ~4 MB, geth 5 MB by default).
DEFAULT_MAX_REQUEST_BYTES = 1_000_000
# An eth_getLogs answer of "ask for fewer blocks" (often -32005, the rate-limit code, too):
# never retried as is; lendscope.chain.logs halves the range instead.
LOG_RANGE_ERROR = re.compile(
    r"query returned more than|block range|response size|limit exceeded|too many (results|logs)"
    r"|range (is )?too (large|wide)|exceeds? (the )?max",
    re.IGNORECASE,
)
_ID_PLACEHOLDER = 10**12  # request ids are sized as if this large when budgeting bytes

_EXECUTION_FAILURE = re.compile(
    r"revert|invalid opcode|out of gas|invalid jump|stack (underflow|overflow)", re.IGNORECASE
)


class ChainError(Exception):
    """Base class for errors raised by :mod:`lendscope.chain`."""


class RpcError(ChainError):
    """A JSON-RPC error object returned for one call."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        self.method, self.code, self.message, self.data = method, code, message, data
        extra = f" (data={data})" if data not in (None, "", "0x") else ""
        super().__init__(f"{method} failed: [{code}] {message}{extra}")

    @property
    def is_log_range_error(self) -> bool:
        """Whether the node asks for a smaller eth_getLogs range (too many results, ...)."""
        return self.code == -32005 or bool(LOG_RANGE_ERROR.search(self.message or ""))

    @property
    def is_execution_failure(self) -> bool:
        """Whether the EVM ran and the call failed (revert, invalid opcode, out of gas)."""
        return self.code == 3 or bool(_EXECUTION_FAILURE.search(self.message or ""))


class RpcTransportError(ChainError):
    """No usable response: retries exhausted, or a failure that must not be retried."""


class RpcHttpError(RpcTransportError):
    """The node answered with an HTTP error status that is not worth retrying."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class ChainIdMismatchError(ChainError):
    """The node serves a different chain than expected."""

    def __init__(self, expected: int, actual: int, url: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(f"RPC {url} serves chain id {actual}, expected {expected}")


@dataclass
class RpcStats:
    """Counters: HTTP round trips, JSON-RPC calls asked for, resends, cache hits."""

    http_requests: int = 0
    calls: int = 0
    retries: int = 0
    cache_hits: int = 0
    request_bytes: int = 0  # request bodies sent, all attempts
    largest_request: int = 0  # the largest request body sent, in bytes


class TokenBucket:
    """Token bucket limiting HTTP requests per second (``burst`` requests may go at once)."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("requests_per_second must be > 0")
        self.rate, self.capacity = rate, burst if burst is not None else max(1.0, rate)
        self.tokens, self._clock, self._sleep = self.capacity, clock, sleep
        self._last = clock()

    def acquire(self, cost: float = 1.0) -> float:
        """Take ``cost`` tokens, sleeping until they exist; returns the seconds slept."""
        now = self._clock()
        # max(0, ...) because _last may lie in the (virtual) future after a sleep.
        self.tokens = min(self.capacity, self.tokens + max(0.0, now - self._last) * self.rate)
        self._last = max(self._last, now)
        self.tokens -= cost
        if self.tokens >= 0:
            return 0.0
        wait = -self.tokens / self.rate
        self._sleep(wait)
        # Advance virtual time so an injected no-op sleep still accounts for the wait.
        self.tokens, self._last = 0.0, self._last + wait
        return wait


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redact_url(url: str) -> str:
    """Scheme and host only: provider URLs often embed API keys in the path or query."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class RpcClient:
    """Synchronous JSON-RPC client over httpx.

    ``batch`` sends many calls in one HTTP request and matches answers by id. Failures
    (timeouts, dropped connections, 429, 5xx, malformed JSON, missing batch items) are
    retried with exponential backoff and jitter, but only when every method involved is
    in :data:`RETRY_ALLOWLIST`. A batch is split into HTTP requests of at most
    ``max_batch_size`` calls and ``max_request_bytes`` of (compact JSON) body; a single call
    larger than that is sent alone. An eth_getLogs "too many results / block range" answer is
    returned as an :class:`RpcError` (never retried as is) for :func:`lendscope.chain.get_logs`
    to halve the range. ``sleep``, ``clock`` and ``rng`` are injectable for tests.
    """

    #: Methods resent after a transient failure, and the error codes counted as transient
    #: (a subclass for another chain family sets its own).
    retry_allowlist: frozenset[str] = RETRY_ALLOWLIST
    transient_codes: frozenset[int] = TRANSIENT_RPC_CODES

    def __init__(
        self,
        url: str,
        *,
        chain_id: int | None = None,
        requests_per_second: float | None = None,
        max_retries: int = 5,
        initial_backoff: float = 0.25,
        max_backoff: float = 30.0,
        timeout: float = 30,
        max_batch_size: int = 1000,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        transport: httpx.BaseTransport | None = None,
        headers: dict[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.max_retries, self.initial_backoff, self.max_backoff = (
            max_retries,
            initial_backoff,
            max_backoff,
        )
        if max_request_bytes <= 0:
            raise ValueError("max_request_bytes must be > 0")
        self.max_batch_size = max_batch_size
        self.max_request_bytes = max_request_bytes
        self.stats = RpcStats()
        self._configured_chain_id = chain_id
        self._node_chain_id: int | None = None
        self._sleep, self._rng = sleep, rng or random.Random()
        self._ids = itertools.count(1)
        self._bucket = (
            TokenBucket(requests_per_second, clock=clock, sleep=sleep)
            if requests_per_second
            else None
        )
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            headers={"content-type": "application/json", **(headers or {})},
        )

    def __repr__(self) -> str:
        return f"RpcClient({redact_url(self.url)!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public calls -------------------------------------------------------------------

    def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        """One JSON-RPC call; raises :class:`RpcError` for an error object."""
        self.stats.calls += 1
        (result,) = self._exchange([(method, list(params))], as_batch=False)
        if isinstance(result, RpcError):
            raise result
        return result

    def batch(
        self, calls: Iterable[tuple[str, Sequence[Any]]], *, return_errors: bool = False
    ) -> list[Any]:
        """Many calls in few HTTP round trips; results in input order.

        Calls are split into requests of at most ``max_batch_size`` calls and at most
        ``max_request_bytes`` of JSON body (a single call larger than that goes alone).
        With ``return_errors`` the :class:`RpcError` of a failed call is returned in its
        slot instead of raised, so callers can tell reverts apart from successes.
        """
        items = [(m, list(p)) for m, p in calls]
        self.stats.calls += len(items)
        out: list[Any] = []
        for part in self._split(items):
            out.extend(self._exchange(part, as_batch=True))
        if not return_errors:
            for result in out:
                if isinstance(result, RpcError):
                    raise result
        return out

    def get_chain_id(self) -> int:
        """The node's chain id (asked once, then remembered)."""
        if self._node_chain_id is None:
            self._node_chain_id = int(self.request("eth_chainId"), 16)
        return self._node_chain_id

    @property
    def chain_id(self) -> int:
        """The configured chain id, else the node's."""
        if self._configured_chain_id is not None:
            return self._configured_chain_id
        return self.get_chain_id()

    def check_chain_id(self, expected: int | None = None) -> int:
        """Ask the node for its chain id and raise :class:`ChainIdMismatchError` on mismatch."""
        want = expected if expected is not None else self._configured_chain_id
        actual = self.get_chain_id()
        if want is not None and actual != want:
            raise ChainIdMismatchError(want, actual, redact_url(self.url))
        return actual

    # -- internals ----------------------------------------------------------------------

    def _split(self, items: list[tuple[str, list[Any]]]) -> list[list[tuple[str, list[Any]]]]:
        """Consecutive runs of calls that fit ``max_batch_size`` and ``max_request_bytes``."""
        parts: list[list[tuple[str, list[Any]]]] = []
        cur: list[tuple[str, list[Any]]] = []
        size = 2  # "[" and "]"
        for m, p in items:
            one = 1 + len(
                _dumps({"jsonrpc": "2.0", "id": _ID_PLACEHOLDER, "method": m, "params": p})
            )
            if cur and (len(cur) >= self.max_batch_size or size + one > self.max_request_bytes):
                parts.append(cur)
                cur, size = [], 2
            cur.append((m, p))
            size += one
        if cur:
            parts.append(cur)
        return parts

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.initial_backoff * 2 ** (attempt - 1))
        # "Equal jitter": never less than half the step, so waits still grow.
        return base / 2 + self._rng.uniform(0, base / 2)

    def _exchange(self, calls: list[tuple[str, list[Any]]], *, as_batch: bool) -> list[Any]:
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        pending = dict(zip(ids, range(len(calls)), strict=True))
        results: list[Any] = [None] * len(calls)
        retryable = all(m in self.retry_allowlist for m, _ in calls)
        attempt = 0
        while True:
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": calls[j][0], "params": calls[j][1]}
                for i, j in pending.items()
            ]
            failure: _Retryable | None = None
            try:
                replies = self._post(payload if as_batch else payload[0])
            except _Retryable as exc:
                failure = exc
            else:
                failure = self._absorb(replies, calls, pending, results)
                if not pending:
                    return results
                if failure is None:
                    failure = _Retryable(f"{len(pending)} of {len(payload)} responses missing")
            if not retryable or attempt >= self.max_retries:
                methods = sorted({calls[j][0] for j in pending.values()})
                why = "not retried (non-idempotent)" if not retryable else f"{attempt + 1} attempts"
                raise RpcTransportError(
                    f"{', '.join(methods)} via {redact_url(self.url)}: {failure} [{why}]"
                ) from failure
            attempt += 1
            self.stats.retries += 1
            self._sleep(max(failure.retry_after or 0.0, self._backoff(attempt)))

    def _absorb(
        self,
        replies: list[dict[str, Any]],
        calls: list[tuple[str, list[Any]]],
        pending: dict[int, int],
        results: list[Any],
    ) -> _Retryable | None:
        """Move answered calls out of ``pending``; return a transient failure if any."""
        failure = None
        for item in replies:
            rid = item.get("id")
            j = pending.get(rid) if isinstance(rid, int) else None
            if j is None and isinstance(rid, str) and rid.isdigit():
                j, rid = pending.get(int(rid)), int(rid)
            err = item.get("error")
            if j is None:
                if err is not None and rid is None:  # an error for the whole request
                    code, msg = _err_fields(err)
                    if code in self.transient_codes:
                        failure = _Retryable(f"[{code}] {msg}")
                        continue
                    raise RpcError(calls[next(iter(pending.values()))][0], code, msg)
                continue  # an answer to nothing we asked: ignore
            method = calls[j][0]
            if err is not None:
                code, msg = _err_fields(err)
                log_range = method == "eth_getLogs" and LOG_RANGE_ERROR.search(msg)
                if code in self.transient_codes and not log_range:
                    failure = _Retryable(f"{method}: [{code}] {msg}")
                    continue
                results[j] = RpcError(method, code, msg, err.get("data"))
            elif "result" in item:
                results[j] = item["result"]
            else:
                continue  # malformed item: stays pending and is asked again
            del pending[rid]
        return failure

    def _post(self, body: Any) -> list[dict[str, Any]]:
        if self._bucket is not None:
            self._bucket.acquire()
        self.stats.http_requests += 1
        content = _dumps(body).encode()
        self.stats.request_bytes += len(content)
        self.stats.largest_request = max(self.stats.largest_request, len(content))
        try:
            resp = self._http.post(self.url, content=content)
        except httpx.UnsupportedProtocol:
            raise
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            raise _Retryable(f"connection error ({type(exc).__name__}: {exc})") from exc
        status = resp.status_code
        if status == 429 or status >= 500:
            wait = parse_retry_after(resp.headers.get("retry-after"))
            raise _Retryable(f"HTTP {status}", retry_after=wait)
        try:
            data = resp.json()
        except ValueError as exc:
            if status >= 400:
                raise RpcHttpError(status, f"HTTP {status} from {redact_url(self.url)}") from exc
            raise _Retryable("malformed JSON in response") from exc
        items = [data] if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise _Retryable(f"unexpected JSON-RPC response shape: {type(data).__name__}")
        if status >= 400 and not any("result" in x or "error" in x for x in items):
            raise RpcHttpError(status, f"HTTP {status} from {redact_url(self.url)}")
        return items


def _dumps(obj: Any) -> str:
    """Compact JSON, as sent (so byte budgets measure what goes on the wire)."""
    return json.dumps(obj, separators=(",", ":"))


def _err_fields(err: Any) -> tuple[int | None, str]:
    if not isinstance(err, dict):
        return None, str(err)
    return err.get("code"), str(err.get("message", ""))
