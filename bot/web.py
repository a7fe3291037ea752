"""The bot's HTTP side (aiohttp): Telegram's and Zalo's webhooks, ``/healthz`` and
``/metrics``.

A webhook request is answered only once its update is handled (and committed): if the
process dies first, Telegram gets no answer and delivers the update again, to this
instance or another; the update's id, claimed in the same transaction as its changes,
makes a second delivery change nothing. Zalo's events are answered the same way, and
their message_id plays the update id's part.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import TelegramError

from bot.metrics import Metrics
from handlers.zalo.api import SECRET_HEADER as ZALO_SECRET_HEADER
from handlers.zalo.api import ZaloEvent, parse_event
from storage.db import current_revision, head_revision

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes; anything near this is not from Telegram.
MAX_BODY = 1 << 20
# Telegram numbers updates with positive integers; the id is kept as text of 64 at most.
MAX_UPDATE_ID = 2**63 - 1
# How long a successful Bot API check is trusted, so that probes do not call Telegram
# every few seconds.
BOT_API_CHECK_EVERY = 30.0


@dataclass
class Check:
    """One line of the health report."""

    ok: bool
    detail: str


class Health:
    """Whether this process can do its work: database, schema, Bot API, job lease."""

    def __init__(
        self,
        engine: Any,
        bot: Any,
        lease: Callable[[], Awaitable[str]],
    ) -> None:
        self._engine = engine
        self._bot = bot
        self._lease = lease
        self._bot_ok_at = -BOT_API_CHECK_EVERY

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
        checks["bot_api"] = await self._bot_api()
        try:
            checks["job_lease"] = Check(True, await self._lease())
        except Exception as error:
            checks["job_lease"] = Check(False, type(error).__name__)
        return checks

    async def _bot_api(self) -> Check:
        now = time.monotonic()
        if now - self._bot_ok_at < BOT_API_CHECK_EVERY:
            return Check(True, "reachable")
        try:
            await self._bot.get_me(read_timeout=5, connect_timeout=5)
        except TelegramError as error:
            return Check(False, type(error).__name__)
        self._bot_ok_at = now
        return Check(True, "reachable")


def _is_update_id(value: object) -> bool:
    """Whether ``value`` can be an update's id: an integer, and JSON's true is not one."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_UPDATE_ID


Refresh = Callable[[Metrics], Awaitable[None]]
Handle = Callable[[Update], Awaitable[None]]


@dataclass(frozen=True)
class ZaloRoute:
    """Zalo's webhook: the path served, the secret Zalo sends back, and what takes each
    event (in its member's order) to the core."""

    path: str
    secret: str
    handle: Callable[[ZaloEvent], Awaitable[None]]


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


def _zalo_receiver(
    zalo: ZaloRoute, refuse: Refuse
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Zalo's webhook route: the event (bare or in its envelope) handled, then 200."""

    async def receive(request: web.Request) -> web.Response:
        data = await _admitted(request, ZALO_SECRET_HEADER, zalo.secret, refuse, "not an event")
        if isinstance(data, web.Response):
            return data
        event = parse_event(data)
        if event is None:
            return refuse(400, "not an event")
        await zalo.handle(event)
        return web.Response(text="ok")

    return receive


def web_app(
    *,
    handle: Handle,
    decode: Callable[[dict[str, Any]], Update],
    metrics: Metrics,
    health: Health,
    refresh: Refresh,
    webhook_path: str | None = None,
    secret: str = "",
    zalo: ZaloRoute | None = None,
) -> web.Application:
    """The routes: Telegram's webhook (when ``webhook_path`` is given), Zalo's (when
    ``zalo`` is), health and metrics."""
    app = web.Application(client_max_size=MAX_BODY)

    def refuse(status: int, reason: str) -> web.Response:
        metrics.rejected.labels(reason).inc()
        return web.Response(status=status, text=reason)

    async def receive(request: web.Request) -> web.Response:
        data = await _admitted(request, SECRET_HEADER, secret, refuse, "not an update")
        if isinstance(data, web.Response):
            return data
        try:
            if not isinstance(data, dict) or not _is_update_id(data.get("update_id")):
                raise ValueError("not an update")
            update = decode(data)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return refuse(400, "not an update")
        await handle(update)
        return web.Response(text="ok")

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

    if webhook_path is not None:
        app.router.add_post(webhook_path, receive)
    if zalo is not None:
        app.router.add_post(zalo.path, _zalo_receiver(zalo, refuse))
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app
