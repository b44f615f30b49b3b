"""A lean HTTP/1.1 keep-alive client for the benchmark hot path: asyncio protocols and httptools' parser.

Each body piece is handed to the request's handler inside `data_received`, with the time it was read
from the socket, so a streamed chunk is timestamped before any other task runs. No task switch happens
per chunk. In benchmarks/client_transports.py this client used about a third of aiohttp's CPU time
per streamed request and a twenty-fifth of httpx's (docs/benchmarks.md). Probes and health checks
keep using httpx.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httptools

from modelgate.errors import InvalidInputError

perf_counter = time.perf_counter


class Exchange:
    """One request and its response; subclasses consume the body as it arrives.

    The connection calls `on_status`, then `on_body` per decoded body piece with the read time, then
    `on_complete` or `on_failure`. Exactly one of the last two is called, and it resolves `done`.
    """

    __slots__ = ("done", "status", "bytes_received")

    def __init__(self, done: asyncio.Future) -> None:
        self.done = done
        self.status = 0
        self.bytes_received = 0

    def on_status(self, status: int, now: float) -> None:
        self.status = status

    def on_body(self, data: bytes, now: float) -> None:
        """Consume one decoded piece of the body read at `now` (perf_counter seconds)."""

    def on_complete(self, now: float) -> None:
        if not self.done.done():
            self.done.set_result(now)

    def on_failure(self, reason: str, detail: str) -> None:
        if not self.done.done():
            self.done.set_exception(RequestFailed(reason, detail))


class RequestFailed(Exception):
    """A request failed below HTTP status level: connection error, timeout, bad framing."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class _Connection(asyncio.Protocol):
    """One keep-alive connection that carries one exchange at a time."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: Exchange | None = None
        self.closed = False
        self.keep_alive = True
        self.now = 0.0

    # asyncio protocol callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.now = perf_counter()
        exchange = self.exchange
        if exchange is not None:
            exchange.bytes_received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail("invalid_http", f"{type(error).__name__}: {error}")
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.exchange is not None:
            detail = f"{type(exc).__name__}: {exc}" if exc else "server closed the connection before the response ended"
            self._fail("connection_closed", detail)

    # httptools parser callbacks

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.exchange is not None:
            self.exchange.on_status(self.parser.get_status_code(), self.now)

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None:
            self.exchange.on_body(body, self.now)

    def on_message_complete(self) -> None:
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.on_complete(self.now)

    # used by the pool

    def send(self, request: bytes, exchange: Exchange) -> None:
        self.exchange = exchange
        self.transport.write(request)  # type: ignore[union-attr]

    def _fail(self, reason: str, detail: str) -> None:
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.on_failure(reason, detail)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    @property
    def reusable(self) -> bool:
        return not self.closed and self.keep_alive and self.exchange is None and not self.transport.is_closing()  # type: ignore[union-attr]


class ConnectionPool:
    """Keep-alive connections to one server; a request takes an idle connection or opens a new one."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInputError(f"server URL {url!r} is invalid; pass one such as http://127.0.0.1:8000")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        host_header = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"Host: {host_header}", "Connection: keep-alive", "Accept: */*"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self._header_block = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()

    def build_request(self, path: str, body: bytes) -> bytes:
        """Return the bytes of a JSON POST to `path`."""
        head = f"POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode("latin-1")
        return head + self._header_block + b"\r\n" + body

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(lambda: _Connection(self), self.host, self.port, ssl=self.ssl)
        except OSError as error:
            raise RequestFailed("connection_error", f"{type(error).__name__}: {error}") from error
        self._all.add(connection)
        return connection

    async def send(self, request: bytes, make_exchange: Callable[[], Exchange], timeout_s: float) -> Exchange:
        """Send `request` and wait for its exchange to finish within `timeout_s` seconds.

        A reused connection that the server closed while idle is retried once on a new connection,
        but only when no byte of the response arrived, so no request is sent twice after a partial response.

        Raises:
            RequestFailed: connection error, timeout, invalid HTTP, or a connection closed mid-response.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        for attempt in (1, 2):
            connection, reused = await self._acquire()
            exchange = make_exchange()
            timer = loop.call_at(deadline, self._expire, connection, exchange, timeout_s)
            connection.send(request, exchange)
            try:
                await exchange.done
            except RequestFailed as failure:
                self._discard(connection)
                stale = reused and failure.reason == "connection_closed" and exchange.bytes_received == 0
                if stale and attempt == 1 and loop.time() < deadline:
                    continue
                raise
            finally:
                timer.cancel()
            self._release(connection)
            return exchange
        raise AssertionError("unreachable")

    def _expire(self, connection: _Connection, exchange: Exchange, timeout_s: float) -> None:
        exchange.on_failure("timeout", f"no complete response within {timeout_s:g} s")
        connection.exchange = None
        connection.close()

    async def open_idle(self, count: int, at_once: int = 64) -> None:
        """Open connections until `count` are idle, `at_once` at a time, so measured requests find them open.

        Raises:
            RequestFailed: a connection could not be opened.
        """
        gate = asyncio.Semaphore(at_once)

        async def one() -> None:
            async with gate:
                self._idle.append(await self._connect())

        await asyncio.gather(*(one() for _ in range(count - len(self._idle))))

    async def _acquire(self) -> tuple[_Connection, bool]:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable:
                return connection, True
            self._discard(connection)
        return await self._connect(), False

    def _release(self, connection: _Connection) -> None:
        if connection.reusable:
            self._idle.append(connection)
        else:
            self._discard(connection)

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._all.discard(connection)

    def close(self) -> None:
        """Close every connection."""
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()


class BodyExchange(Exchange):
    """An exchange that collects the whole body; `finished_at` is when its last byte was read."""

    __slots__ = ("parts", "finished_at")

    def __init__(self, done: asyncio.Future) -> None:
        super().__init__(done)
        self.parts: list[bytes] = []
        self.finished_at = 0.0

    def on_body(self, data: bytes, now: float) -> None:
        self.parts.append(data)

    def on_complete(self, now: float) -> None:
        self.finished_at = now
        super().on_complete(now)

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)
