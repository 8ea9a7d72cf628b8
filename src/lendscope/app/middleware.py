"""Pure ASGI middleware: security headers, a request body limit and deadline, HEAD as GET.

It knows nothing of the app: :func:`lendscope.app.factory.create_app` adds it with the limits.
"""

from __future__ import annotations

import anyio
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)  # 'unsafe-eval': Vega compiles its expressions with Function()
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" with our
    # own form posts, and the CSRF check needs their real Origin. Other sites still get nothing.
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
]


class SecurityHeaders:
    """Pure ASGI middleware adding security headers to every HTTP response."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    h for h in SECURITY_HEADERS if h[0] not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadAsGet:
    """Answer HEAD wherever GET is answered: the GET's status and headers, without the body.

    FastAPI routes a ``@router.get`` for GET only; HEAD would be 405. Running the GET keeps the
    headers exactly the same (``Content-Length`` included), which is what HEAD promises.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass GET down for a HEAD and drop every body chunk on the way back."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class BodyLimit:
    """Reject request bodies over ``max_body`` bytes (413) or slower than ``timeout_s`` (408).

    Both before any parsing: the whole body is read here, under one deadline, so a client that
    trickles an upload holds a connection for ``timeout_s`` at most, never a worker.
    """

    def __init__(self, app: ASGIApp, max_body: int, timeout_s: float = 30.0):
        self.app = app
        self.max_body = max_body
        self.timeout_s = timeout_s

    async def _reject(self, scope: Scope, receive: Receive, send: Send, status: int, msg: str):
        await JSONResponse({"detail": msg}, status_code=status)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Buffer a request body up to the limit, then replay it to the app."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        too_big = f"request body over {self.max_body} bytes (uploads are limited to 1 MiB)"
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and not length.isdigit():
            await self._reject(scope, receive, send, 400, "invalid Content-Length header")
            return
        if length is not None and int(length) > self.max_body:
            await self._reject(scope, receive, send, 413, too_big)
            return
        chunks, size, more = [], 0, True
        with anyio.move_on_after(self.timeout_s) as deadline:
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body = message.get("body", b"")
                size += len(body)
                if size > self.max_body:
                    await self._reject(scope, receive, send, 413, too_big)
                    return
                chunks.append(body)
                more = message.get("more_body", False)
        if deadline.cancelled_caught:
            slow = f"request body not received within {self.timeout_s:g} s"
            await self._reject(scope, receive, send, 408, slow)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
