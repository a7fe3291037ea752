"""A small client of the Zalo Bot Platform's HTTP API, and the events it delivers.

Every method is ``POST {base_url}/bot{token}/{method}`` with a JSON body; answers are
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``
(https://bot.zaloplatforms.com/docs). The token travels in the address, so nothing here
logs an address unmasked or lets one reach an exception's text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeGuard, get_args
from urllib.parse import urlsplit

import aiohttp

log = logging.getLogger(__name__)

DEFAULT_BASE_URL: Final = "https://bot-api.zaloplatforms.com"
# sendMessage's text and sendPhoto's caption: "1 to 2000 characters".
TEXT_LIMIT: Final = 2000
# setWebhook's secret_token: "8 to 256 characters".
SECRET_MIN: Final = 8
SECRET_MAX: Final = 256
SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"
# getUpdates answers this when nothing arrived within its timeout: nothing new, no fault.
POLL_TIMEOUT_CODE: Final = 408
# How long past getUpdates' own timeout the client waits for its answer.
POLL_GRACE: Final = 10.0
# Ids are opaque strings ("16f6366b3f02645a3d15"); anything far longer is not one.
MAX_ID_LENGTH: Final = 59
# A photo or voice note a member sent is fetched from its (expiring) address: at most
# this many bytes, within this many seconds.
FILE_LIMIT: Final = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT: Final = 60.0
_CHUNK: Final = 64 * 1024

EventName = Literal[
    "message.text.received",
    "message.image.received",
    "message.sticker.received",
    "message.voice.received",
    "message.unsupported.received",
]
ChatType = Literal["PRIVATE", "GROUP"]
EVENT_NAMES: Final[frozenset[str]] = frozenset(get_args(EventName))
CHAT_TYPES: Final[frozenset[str]] = frozenset(get_args(ChatType))
TEXT_RECEIVED: Final = "message.text.received"
IMAGE_RECEIVED: Final = "message.image.received"
STICKER_RECEIVED: Final = "message.sticker.received"
VOICE_RECEIVED: Final = "message.voice.received"
UNSUPPORTED_RECEIVED: Final = "message.unsupported.received"


# -- errors ------------------------------------------------------------------------


class ZaloError(Exception):
    """The platform answered a call with ``ok: false`` (or with no Bot API answer)."""

    def __init__(self, error_code: int, description: str, method: str = "") -> None:
        super().__init__(f"{method or 'Zalo'}: {error_code} {description}".strip())
        self.error_code = error_code
        self.description = description
        self.method = method


class ZaloUnauthorized(ZaloError):
    """401: the bot token is wrong or expired; nothing will work until it is replaced."""


class ZaloForbidden(ZaloError):
    """403 on a call: the sender treats the chat as one that cannot be messaged."""


class ZaloRateLimited(ZaloError):
    """429 "Quota exceeded": back off and try again later."""


class ZaloNetworkError(Exception):
    """No answer: the connection failed or timed out, or a gateway answered 5xx.

    Not a ``ZaloError``: the platform refused nothing, so trying again later is right.
    """

    def __init__(self, method: str, reason: str) -> None:
        super().__init__(f"{method}: {reason}")
        self.method = method
        self.reason = reason


class ZaloDownloadFailed(Exception):
    """A member's file could not be fetched from the address Zalo gave."""


class ZaloFileTooLarge(ZaloDownloadFailed):
    """A member's file is larger than the bot keeps."""


# The documentation's error table calls 403 "Internal server error"; no other code is
# documented for a user the bot may not message, so 403 is read as that.
_ERRORS: Final[dict[int, type[ZaloError]]] = {
    401: ZaloUnauthorized,
    403: ZaloForbidden,
    429: ZaloRateLimited,
}


def error_for(error_code: int, description: str, method: str = "") -> ZaloError:
    """The typed error for a refusal's code."""
    return _ERRORS.get(error_code, ZaloError)(error_code, description, method)


# -- what the platform sends -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZaloBot:
    """The bot as getMe describes it."""

    id: str
    name: str
    account_type: str | None = None
    can_join_groups: bool = False


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    """One event a member caused, checked and reduced to what the bot reads."""

    event_name: EventName
    message_id: str
    date: dt.datetime
    sender_id: str
    sender_name: str
    sender_is_bot: bool
    chat_id: str
    chat_type: ChatType
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None
    voice_url: str | None = None

    @property
    def is_private(self) -> bool:
        """Whether the event came from a one-to-one chat with the bot."""
        return self.chat_type == "PRIVATE"


@dataclass(frozen=True, slots=True)
class Download:
    """A file fetched from the address an event gave, and the type its server claimed."""

    data: bytes
    content_type: str


class _Malformed(Exception):
    """Raised inside parsing only; ``parse_event`` turns it into None."""


def _is_int(value: object) -> TypeGuard[int]:
    """An integer, and JSON's true is not one."""
    return isinstance(value, int) and not isinstance(value, bool)


def _object(container: dict[str, Any], key: str) -> dict[str, Any]:
    value = container.get(key)
    if not isinstance(value, dict):
        raise _Malformed(key)
    return value


def _id(container: dict[str, Any], key: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise _Malformed(key)
    return value


def _optional_text(container: dict[str, Any], *keys: str) -> str | None:
    """The first of ``keys`` present; present but not a string is malformed."""
    for key in keys:
        value = container.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _Malformed(key)
        return value
    return None


def _date(message: dict[str, Any]) -> dt.datetime:
    """The message's time: milliseconds since the epoch, as an aware datetime."""
    value = message.get("date")
    if not _is_int(value) or value < 0:
        raise _Malformed("date")
    try:
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise _Malformed("date") from error


def _unwrap(data: object) -> object:
    """The event itself, also when it comes in the ``{"ok": true, "result": …}`` envelope
    (the documented webhook body) instead of bare."""
    if isinstance(data, dict) and "event_name" not in data and data.get("ok") is True:
        return data.get("result")
    return data


def _event(data: object) -> ZaloEvent:
    if not isinstance(data, dict):
        raise _Malformed("event")
    name = data.get("event_name")
    if name not in EVENT_NAMES:
        raise _Malformed("event_name")
    message = _object(data, "message")
    sender = _object(message, "from")
    chat = _object(message, "chat")
    chat_type = chat.get("chat_type")
    if chat_type not in CHAT_TYPES:
        raise _Malformed("chat_type")
    is_bot = sender.get("is_bot", False)
    if not isinstance(is_bot, bool):
        raise _Malformed("is_bot")
    text = _optional_text(message, "text")
    if name == TEXT_RECEIVED and text is None:
        raise _Malformed("text")
    return ZaloEvent(
        event_name=name,
        message_id=_id(message, "message_id"),
        date=_date(message),
        sender_id=_id(sender, "id"),
        # getUpdates' documented sample names the sender first_name, the webhook's display_name.
        sender_name=_optional_text(sender, "display_name", "first_name", "name") or "",
        sender_is_bot=is_bot,
        chat_id=_id(chat, "id"),
        chat_type=chat_type,
        text=text,
        photo_url=_optional_text(message, "photo", "photo_url"),
        caption=_optional_text(message, "caption"),
        sticker=_optional_text(message, "sticker"),
        voice_url=_optional_text(message, "voice_url"),
    )


def parse_event(data: object) -> ZaloEvent | None:
    """The event in ``data`` (bare or in its envelope), or None for anything malformed."""
    try:
        return _event(_unwrap(data))
    except _Malformed:
        return None


# -- the client --------------------------------------------------------------------


def check_text(text: str, *, what: str = "text") -> None:
    """Refuse a text the platform would refuse: empty, or over ``TEXT_LIMIT`` characters."""
    if not text.strip():
        raise ValueError(f"a Zalo {what} must not be empty")
    if len(text) > TEXT_LIMIT:
        raise ValueError(f"a Zalo {what} has at most {TEXT_LIMIT} characters, not {len(text)}")


def _message_id(result: object) -> str | None:
    if isinstance(result, dict) and isinstance(result.get("message_id"), str):
        return str(result["message_id"])
    return None


def _bot_of(result: object) -> ZaloBot:
    if not isinstance(result, dict) or not isinstance(result.get("id"), str | int):
        raise ZaloError(200, "getMe answered no bot", "getMe")
    name = result.get("account_name") or result.get("name") or result.get("display_name")
    account_type = result.get("account_type")
    return ZaloBot(
        id=str(result["id"]),
        name=name if isinstance(name, str) else "",
        account_type=account_type if isinstance(account_type, str) else None,
        can_join_groups=result.get("can_join_groups") is True,
    )


async def _read(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` bytes, whatever its header said."""
    chunks, size = [], 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ZaloFileTooLarge(f"over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class ZaloApi:
    """The Bot API's methods the bot uses, over one aiohttp session."""

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 15.0,
        connect_timeout: float = 5.0,
        poll_grace: float = POLL_GRACE,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot token is required")
        self._token = token
        self._base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._poll_grace = poll_grace
        bot_id, _, _ = token.partition(":")
        # The numeric bot id is public (getMe shows it); the rest of the token is not.
        self._masked_token = f"{bot_id}:***" if bot_id and bot_id != token else "***"

    @property
    def base_url(self) -> str:
        """The server this client talks to."""
        return self._base_url

    def masked_url(self, method: str) -> str:
        """A method's address with the token's secret part hidden, for logs."""
        return f"{self._base_url}/bot{self._masked_token}/{method}"

    def mask(self, text: str) -> str:
        """``text`` with the token hidden wherever it appears."""
        return text.replace(self._token, self._masked_token)

    async def __aenter__(self) -> ZaloApi:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if this client opened it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owns_session:
                raise RuntimeError("the ZaloApi's given session is closed")
            # The Bot API sets no cookies: keeping none spares every call the jar's work.
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Call ``method``; its ``result`` (None when the answer has none) or a typed error."""
        limit = aiohttp.ClientTimeout(
            total=timeout if timeout is not None else self._timeout,
            connect=self._connect_timeout,
        )
        url = f"{self._base_url}/bot{self._token}/{method}"
        started = time.perf_counter()
        try:
            async with self._client().post(url, json=params or {}, timeout=limit) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = self.mask(f"{type(error).__name__}: {error}".rstrip(": "))
            log.debug("Zalo %s failed: %s", self.masked_url(method), reason)
            # Not chained: aiohttp's own errors may quote the address, token and all.
            raise ZaloNetworkError(method, reason) from None
        elapsed = (time.perf_counter() - started) * 1000
        log.debug("Zalo %s answered HTTP %d in %.0f ms", self.masked_url(method), status, elapsed)
        return self._result(method, status, raw)

    def _result(self, method: str, status: int, raw: bytes) -> Any:
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("ok"), bool):
            if status >= 500:
                raise ZaloNetworkError(method, f"HTTP {status} without a Bot API answer")
            raise ZaloError(status, f"HTTP {status} without a Bot API answer", method)
        if body["ok"]:
            return body.get("result")
        code = body.get("error_code")
        description = body.get("description")
        raise error_for(
            code if _is_int(code) else status,
            self.mask(description) if isinstance(description, str) else "",
            method,
        )

    async def get_me(self) -> ZaloBot:
        """The bot this token belongs to; a wrong token raises ``ZaloUnauthorized``."""
        return _bot_of(await self.call("getMe"))

    async def get_updates(self, timeout: int = 30) -> ZaloEvent | None:
        """The next event, waiting up to ``timeout`` seconds; None when nothing came."""
        try:
            # The documented type of ``timeout`` is a string.
            result = await self.call(
                "getUpdates", {"timeout": str(timeout)}, timeout=timeout + self._poll_grace
            )
        except ZaloError as error:
            if error.error_code == POLL_TIMEOUT_CODE:
                return None
            raise
        if result is None:
            return None
        event = parse_event(result)
        if event is None:
            # What members write is never logged: the keys say enough.
            keys = sorted(result) if isinstance(result, dict) else type(result).__name__
            log.warning("Zalo getUpdates returned an event the bot cannot read: %s", keys)
        return event

    async def download(
        self, url: str, *, limit: int = FILE_LIMIT, timeout: float = DOWNLOAD_TIMEOUT
    ) -> Download:
        """Fetch a member's photo or voice note, read in pieces and refused past ``limit``
        bytes (``ZaloFileTooLarge``); any other failure is ``ZaloDownloadFailed``. The
        address is the member's file's: it is never logged."""
        if urlsplit(url).scheme not in ("https", "http"):
            raise ZaloDownloadFailed("not a web address")
        wait = aiohttp.ClientTimeout(total=timeout, connect=self._connect_timeout)
        try:
            async with self._client().get(url, timeout=wait) as response:
                if response.status != 200:
                    raise ZaloDownloadFailed(f"HTTP {response.status}")
                if (response.content_length or 0) > limit:
                    raise ZaloFileTooLarge(f"{response.content_length} bytes")
                return Download(await _read(response, limit), response.content_type)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ZaloDownloadFailed(type(error).__name__) from None

    async def send_message(self, chat_id: str, text: str) -> str | None:
        """Send ``text`` (1–2,000 characters); the sent message's id when the answer has one."""
        check_text(text)
        return _message_id(await self.call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(
        self, chat_id: str, photo_url: str, caption: str | None = None
    ) -> str | None:
        """Send the picture at the public ``photo_url``, with an optional caption."""
        params: dict[str, Any] = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            check_text(caption, what="caption")
            params["caption"] = caption
        return _message_id(await self.call("sendPhoto", params))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Show "typing…" (the only action documented as available) in the chat."""
        await self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def set_webhook(self, url: str, secret_token: str) -> dict[str, Any]:
        """Have events POSTed to ``url`` with ``secret_token`` in ``X-Bot-Api-Secret-Token``."""
        if not SECRET_MIN <= len(secret_token) <= SECRET_MAX:
            raise ValueError(
                f"a Zalo webhook secret has {SECRET_MIN} to {SECRET_MAX} characters, "
                f"not {len(secret_token)}"
            )
        result = await self.call("setWebhook", {"url": url, "secret_token": secret_token})
        return result if isinstance(result, dict) else {}

    async def delete_webhook(self) -> None:
        """Stop webhook delivery, so that getUpdates works again."""
        await self.call("deleteWebhook")

    async def get_webhook_info(self) -> dict[str, Any]:
        """The webhook as the platform has it: ``url`` ("" when none) and ``updated_at``."""
        result = await self.call("getWebhookInfo")
        return result if isinstance(result, dict) else {}
