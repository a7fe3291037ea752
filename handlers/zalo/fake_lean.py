"""The fake Zalo Bot API's methods over a minimal HTTP/1.1 server, for benchmarks.

The dialog benchmark serves the fake in the bot's own process, as Telegram's benchmarks
do their fake Bot API, and measures the bot: there aiohttp's server cost the fake about
as much a request as the bot's whole client did, a third of the bot's work a message.
This server reads only what ``ZaloApi`` sends (``POST /bot<token>/<method>``, a JSON
body of Content-Length bytes, keep-alive, one request at a time on a connection) and
answers with the fake's own answers (``FakeZaloApi.respond``): the same methods, event
queue and records. Tests use the fake's aiohttp server, which reads any request.

    async with FakeZaloApi() as fake, LeanServer(fake) as server:
        api = ZaloApi(fake.token, server.base_url)
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from handlers.zalo.fake import Envelope, FakeZaloApi, refusal, status_of

# A request head larger than this is not one ZaloApi sends.
HEAD_LIMIT = 16 * 1024


def response(envelope: Envelope) -> bytes:
    """An answer as HTTP/1.1 bytes; the status repeats a refusal's error code."""
    status = status_of(envelope)
    body = json.dumps(envelope, ensure_ascii=False).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _content_length(head: list[str]) -> int | None:
    """The body's length from the header lines; None for a body this server cannot read."""
    length = 0
    for line in head:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value) if value.strip().isdigit() else -1
        elif name == "transfer-encoding":
            return None
    return length if length >= 0 else None


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests read as they come, answered in order."""

    def __init__(self, fake: FakeZaloApi, connections: set[_Connection]) -> None:
        self._fake = fake
        self._connections = connections
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._previous: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport to answer on."""
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop what was being answered."""
        self._connections.discard(self)
        self.close()

    def close(self) -> None:
        """Stop answering and close the connection."""
        for task in self._tasks:
            task.cancel()
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        """Take every whole request in the buffer."""
        self._buffer += data
        while (request := self._take()) is not None:
            target, body = request
            task = asyncio.ensure_future(self._answer(self._previous, target, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self._previous = task

    def _take(self) -> tuple[str, bytes] | None:
        """The next request's target and body, once it has all come; an unreadable
        request closes the connection."""
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > HEAD_LIMIT:
                self.close()
            return None
        head = self._buffer[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        length = _content_length(head[1:])
        if length is None or len(parts) != 3:
            self.close()  # not a request ZaloApi sends: nothing more is read
            return None
        if len(self._buffer) < end + 4 + length:
            return None
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        return parts[1], body

    async def _answer(self, previous: asyncio.Task[None] | None, target: str, body: bytes) -> None:
        """Answer one request after the one before it on this connection."""
        envelope = await self._envelope(target, body)
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(response(envelope))

    async def _envelope(self, target: str, body: bytes) -> Envelope:
        """The fake's answer to ``POST target`` with ``body``."""
        parts = target.split("?", 1)[0].split("/")
        if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
            return refusal(404)
        try:
            params: Any = json.loads(body) if body else {}
        except ValueError:
            params = None
        return await self._fake.respond(
            parts[1], parts[2], params if isinstance(params, dict) else None
        )


class LeanServer:
    """Serves a ``FakeZaloApi``'s methods on a free port of 127.0.0.1."""

    def __init__(self, fake: FakeZaloApi) -> None:
        self._fake = fake
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._port = 0

    @property
    def base_url(self) -> str:
        """What ``ZALO_API_BASE_URL`` points at to use this server."""
        if not self._port:
            raise RuntimeError("the lean server is not running")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self._fake, self._connections), "127.0.0.1", 0
        )
        self._port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection, pending long polls included."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for connection in list(self._connections):
            connection.close()
        self._port = 0

    async def __aenter__(self) -> LeanServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
