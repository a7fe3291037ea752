"""What is checked before the bot starts: the schema matches the code, one process at
most runs on a SQLite file, and each channel's platform answers and accepts its token."""

from __future__ import annotations

import fcntl
import socket
import urllib.request
from typing import IO
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut

from bot.settings import DEFAULT_API_BASE_URL, Settings
from handlers.zalo.api import ZaloError, ZaloNetworkError, ZaloUnauthorized
from storage.db import (
    current_revision,
    error_causes,
    head_revision,
    known_revision,
    sqlite_lock_path,
    upgrade,
)


class StartError(Exception):
    """The bot cannot start; the message says what to do."""


async def check_schema(engine: AsyncEngine, migrate: bool) -> None:
    """Upgrade the schema when allowed; refuse a schema older or newer than the code."""
    if migrate:
        await upgrade(engine)
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise StartError("The database has no schema yet. Run: python -m bot db upgrade")
    if known_revision(current):
        raise StartError(
            f"The database schema ({current}) is older than this version of the bot "
            f"({head}). Run: python -m bot db upgrade"
        )
    raise StartError(
        f"The database schema ({current}) is newer than this version of the bot ({head}): "
        "a newer version upgraded it. Run that version; `python -m bot db current` shows "
        "both revisions."
    )


class InstanceLock:
    """An exclusive lock beside a SQLite file, held while the bot runs."""

    def __init__(self, database_url: str) -> None:
        self._path = sqlite_lock_path(database_url)
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StartError when another process holds it."""
        if self._path is None:
            return  # PostgreSQL: any number of instances
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StartError(
                f"Another bot process is already running on {self._path.with_suffix('')}. "
                "SQLite serves one process: stop the other one, or use PostgreSQL "
                "(DATABASE_URL=postgresql+asyncpg://...) to run several."
            ) from None
        self._file = handle

    def release(self) -> None:
        """Let another process start."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def unreachable(error: TelegramError, base_url: str) -> str:
    """Why asking the Bot API at ``base_url`` failed, in a sentence or two for a newcomer:
    the token rejected, a proxy failing, or the network down. No error's own text: it
    may quote the token."""
    if isinstance(error, InvalidToken):
        # 401 for a revoked token, 404 for one that never existed. The error's own text
        # quotes the token: it is never shown.
        return (
            "Telegram rejected TELEGRAM_BOT_TOKEN (getMe answered 401 Unauthorized or 404 "
            "Not Found): the token was revoked or mistyped. Ask @BotFather for the current "
            "one (/mybots → your bot → API Token) and put it in .env."
        )
    url = urlsplit(base_url)
    host = url.hostname or base_url
    proxy = _proxy(base_url)
    if proxy is not None:
        variable, address = proxy
        return (
            f"Telegram cannot be reached through the proxy {address} set in {variable} "
            f"({_failure(error)}). Check that the proxy runs and lets HTTPS to {host} "
            f"through, or unset {variable}."
        )
    check = "this machine's internet connection, DNS and firewall"
    if base_url != DEFAULT_API_BASE_URL:
        check += f", and TELEGRAM_API_BASE_URL ({base_url})"
    return f"Telegram's Bot API at {host} cannot be reached: {_failure(error)}. Check {check}."


def zalo_refusal(error: ZaloError | ZaloNetworkError, settings: Settings) -> str:
    """Why Zalo's channel cannot start, in a sentence: the token refused, the webhook
    refused, or the server unreachable. The client masks the token in what it says."""
    if isinstance(error, ZaloUnauthorized):
        return ("Zalo refused ZALO_BOT_TOKEN (401): copy the current token from the Zalo Bot "
                "Creator console.")  # fmt: skip
    if isinstance(error, ZaloError) and error.method == "setWebhook":
        return (f"Zalo refused the webhook ZALO_WEBHOOK_URL={settings.zalo_webhook_url} "
                f"({error}): check that it is a public https address.")  # fmt: skip
    return f"Cannot reach the Zalo Bot API at {settings.zalo_api_base_url}: {error}"


def _failure(error: TelegramError) -> str:
    """What went wrong on the way, in a few words."""
    causes = list(error_causes(error))
    if any(isinstance(cause, socket.gaierror) for cause in causes):
        return "the name does not resolve (no network, or DNS fails)"
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "the connection was refused"
    if isinstance(error, TimedOut):
        return "no answer in time (a timeout)"
    reason = next((c.strerror for c in reversed(causes) if isinstance(c, OSError) and c.strerror),
                  None)  # fmt: skip
    if reason:
        return reason
    if isinstance(error, NetworkError) and len(causes) > 1:
        return "the network failed"
    # Something answered, but not as the Bot API does (a 5xx, or another kind of server).
    return f"the answer was an error ({type(error).__name__})"


def _proxy(base_url: str) -> tuple[str, str] | None:
    """The environment variable naming the proxy the HTTP client uses for ``base_url``,
    and the proxy's address (without any password), if there is one."""
    url = urlsplit(base_url)
    proxies = urllib.request.getproxies_environment()
    if url.hostname and urllib.request.proxy_bypass(url.hostname, proxies):
        return None
    for scheme in (url.scheme, "all"):
        if proxies.get(scheme):
            address = urlsplit(proxies[scheme]).netloc or proxies[scheme]
            return f"{scheme.upper()}_PROXY", address.rpartition("@")[2]
    return None
