"""The bot's HTTP side (aiohttp): each channel's webhook, ``/healthz`` and ``/metrics``.

A webhook request is answered only once its update is handled (and committed): if the
process dies first, Telegram gets no answer and delivers the update again, to this
instance or another; the update's id, claimed in the same transaction as its changes,
makes a second delivery change nothing. Zalo's events are answered the same way, and
their message_id plays the update id's part.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.metrics import Metrics
from domain.kept import OCTET_STREAM, KeptFiles
from handlers.public_files import EXTENSIONS, PublicFiles
from handlers.web import PREFIX
from storage.db import current_revision, head_revision

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes; anything near this is not from Telegram.
MAX_BODY = 1 << 20
# Telegram numbers updates with positive integers; the id is kept as text of 64 at most.
MAX_UPDATE_ID = 2**63 - 1
# How long a platform's successful answer is trusted, so that probes do not call it
# every few seconds; and how long one is waited for.
BOT_API_CHECK_EVERY = 30.0
BOT_API_TIMEOUT = 5.0


@dataclass
class Check:
    """One line of the health report."""

    ok: bool
    detail: str


class Health:
    """Whether this process can do its work: database, schema, each channel's platform
    (``<channel>_api``), job lease."""

    def __init__(self, engine: Any, lease: Callable[[], Awaitable[str]]) -> None:
        self._engine = engine
        self._lease = lease
        self._platforms: dict[str, Callable[[], Awaitable[object]]] = {}
        self._ok_at: dict[str, float] = {}

    def watch(self, channel: str, ask: Callable[[], Awaitable[object]]) -> None:
        """Report on a channel's platform: ``ask`` calls it, and raises when it fails."""
        self._platforms[channel] = ask

    async def report(self) -> dict[str, Check]:
        """Each check with what it found."""
        checks: dict[str, Check] = {}
        try:
            revision = await current_revision(self._engine)
            checks["database"] = Check(True, "reachable")
            head = head_revision()
            checks["schema"] = Check(revision == head, f"at {revision}, code at {head}")
        except Exception as error:  # any failure means "not reachable"
            checks["database"] = Check(False, type(error).__name__)
            checks["schema"] = Check(False, "unknown")
        for channel, ask in self._platforms.items():
            checks[f"{channel}_api"] = await self._platform(channel, ask)
        try:
            checks["job_lease"] = Check(True, await self._lease())
        except Exception as error:
            checks["job_lease"] = Check(False, type(error).__name__)
        return checks

    async def _platform(self, channel: str, ask: Callable[[], Awaitable[object]]) -> Check:
        """Whether the channel's platform answers (a good answer trusted a while)."""
        now = time.monotonic()
        if now - self._ok_at.get(channel, -BOT_API_CHECK_EVERY) < BOT_API_CHECK_EVERY:
            return Check(True, "reachable")
        try:
            await asyncio.wait_for(ask(), BOT_API_TIMEOUT)
        except Exception as error:  # any failure means "not reachable"
            return Check(False, type(error).__name__)
        self._ok_at[channel] = now
        return Check(True, "reachable")


def is_update_id(value: object) -> bool:
    """Whether ``value`` can be a Telegram update's id: an integer, and JSON's true is not
    one."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_UPDATE_ID


Refresh = Callable[[Metrics], Awaitable[None]]


@dataclass(frozen=True)
class WebhookRoute:
    """A platform's webhook: the path served, the header its secret comes in, the secret,
    and what takes a request's JSON to the core (in its member's order) once handled;
    ``take`` answers False for JSON that is not one of the platform's updates, refused
    with ``not_one`` as the reason."""

    path: str
    header: str
    secret: str
    take: Callable[[Any], Awaitable[bool]]
    not_one: str = "not an update"


Refuse = Callable[[int, str], web.Response]


async def _admitted(
    request: web.Request, header: str, secret: str, refuse: Refuse, unreadable: str
) -> Any | web.Response:
    """The request's JSON body, once its secret and size are right; else the refusal
    (``unreadable``: the reason given for a body that is not JSON)."""
    given = request.headers.get(header, "")
    # An empty secret would let a request without the header in: refuse everything then.
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        return refuse(403, "wrong secret")
    if (request.content_length or 0) > MAX_BODY:
        return refuse(413, "too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return refuse(413, "too large")
    try:
        return json.loads(body)
    # JSON nested deeper than Python's recursion limit cannot be read either.
    except (ValueError, RecursionError):
        return refuse(400, unreadable)


def _receiver(
    route: WebhookRoute, refuse: Refuse
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A webhook route: the update handled (and committed), then 200."""

    async def receive(request: web.Request) -> web.Response:
        data = await _admitted(request, route.header, route.secret, refuse, route.not_one)
        if isinstance(data, web.Response):
            return data
        if not await route.take(data):
            return refuse(400, route.not_one)
        return web.Response(text="ok")

    return receive


@dataclass(frozen=True)
class FileRoute:
    """Kept files at the bot's public address (PUBLIC_URL), where Zalo fetches the
    pictures the bot sends: the links' checker, and the files."""

    public: PublicFiles
    files: KeptFiles


def _file_server(route: FileRoute) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A kept file by its link: the file with its type, or 404 for a link unknown,
    expired or changed in any character (the same answer, so nothing can be learnt)."""

    async def serve(request: web.Request) -> web.Response:
        digest = route.public.digest_of(request.match_info["name"])
        kept = await route.files.get(digest) if digest is not None else None
        if kept is None:
            return web.Response(status=404, text="not found")
        # Only pictures and recordings are shown as what they are, never as a page.
        mime_type = kept.mime_type if kept.mime_type in EXTENSIONS else OCTET_STREAM
        disposition = "attachment" if mime_type == OCTET_STREAM else "inline"
        headers = {"Cache-Control": "private", "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": disposition}  # fmt: skip
        return web.Response(body=kept.data, content_type=mime_type, headers=headers)

    return serve


def web_app(
    *,
    metrics: Metrics,
    health: Health,
    refresh: Refresh,
    webhooks: Sequence[WebhookRoute] = (),
    files: FileRoute | None = None,
    staff: web.Application | None = None,
) -> web.Application:
    """The routes: each channel's webhook (in webhook mode), health, metrics and, with a
    public address, the kept files' links (GET only) and the staff web view (``/web``)."""
    app = web.Application(client_max_size=MAX_BODY)

    def refuse(status: int, reason: str) -> web.Response:
        metrics.rejected.labels(reason).inc()
        return web.Response(status=status, text=reason)

    async def healthz(_request: web.Request) -> web.Response:
        checks = await health.report()
        ok = all(check.ok for check in checks.values())
        body = {"ok": ok, **{name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()}}
        return web.json_response(body, status=200 if ok else 503)

    async def prometheus(_request: web.Request) -> web.Response:
        try:
            await refresh(metrics)
        except Exception:  # the counters are still worth serving
            log.warning("metrics: the database could not be read", exc_info=True)
        return web.Response(body=metrics.exposition(),
                            content_type="text/plain", charset="utf-8")  # fmt: skip

    for route in webhooks:
        app.router.add_post(route.path, _receiver(route, refuse))
    if files is not None:
        app.router.add_get(f"{files.public.path}/{{name}}", _file_server(files),
                           allow_head=False)  # fmt: skip
    if staff is not None:
        app.add_subapp(PREFIX, staff)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app
