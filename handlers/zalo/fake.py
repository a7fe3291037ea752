"""A fake Zalo Bot API: a real HTTP server on 127.0.0.1, for tests and benchmarks.

It answers like the platform's documentation says (https://bot.zaloplatforms.com/docs):
the envelope, 401 for a wrong token, getUpdates long-polling one event at a time and 408
"Request timeout" when nothing came, 400 for a text outside 1–2,000 characters, and 429
"Quota exceeded" or any other refusal when a test asks for it. Tests push the events
members cause (``say``, ``send_image``…) and read what the bot sent per chat.

    async with FakeZaloApi() as fake:
        api = ZaloApi(fake.token, fake.base_url)
        fake.say("u1", "xin chào")
        event = await api.get_updates(1)
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from handlers.zalo.api import (
    IMAGE_RECEIVED,
    SECRET_MAX,
    SECRET_MIN,
    STICKER_RECEIVED,
    TEXT_LIMIT,
    TEXT_RECEIVED,
    UNSUPPORTED_RECEIVED,
    VOICE_RECEIVED,
)
from handlers.zalo.fake_files import FILES_PATH, PHOTO, VOICE, MemberFiles
from handlers.zalo.fake_wire import (
    ACTIONS,
    DISPLAY_NAME,
    MAKING,
    SENDING,
    STICKER,
    TOKEN,
    Envelope,
    answer,
    chat_id_of,
    event,
    new_message_id,
    now_ms,
    poll_timeout,
    refusal,
    status_of,
    text_ok,
    webhook_request,
)

# What tests and benchmarks take from the fake with it.
__all__ = ["TOKEN", "Delivery", "Envelope", "FakeZaloApi", "event", "refusal", "status_of",
           "webhook_request"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sent:
    """One thing the bot did in a chat: a text, a photo or a chat action."""

    method: str
    chat_id: str
    message_id: str | None
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake answered, and the refusal's code if it refused."""

    method: str
    params: dict[str, Any]
    error_code: int | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """The bot's answer to a webhook POST."""

    status: int
    body: str


@dataclass(slots=True)
class Hold:
    """Sends to one chat left unanswered until ``released`` is set: a slow platform."""

    reached: asyncio.Event  # set once a send to the chat is waiting
    released: asyncio.Event
    waiting: int = 0  # sends to the chat waiting now


@dataclass(slots=True)
class _Failure:
    method: str
    code: int
    description: str | None
    chat_id: str | None
    remaining: int


class FakeZaloApi:
    """The Zalo Bot API on a free local port; ``async with`` starts and stops it."""

    def __init__(self, token: str = TOKEN, *, account_name: str = "bot.sangkien") -> None:
        self.token = token
        self.bot_id = token.partition(":")[0]
        self.account_name = account_name
        self.calls: list[Call] = []
        # getUpdates calls answered while a webhook was set (the platform stays silent).
        self.polls_while_webhook = 0
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_updated_at = 0
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._sent: dict[str, list[Sent]] = defaultdict(list)
        self._waiters: list[tuple[str, int, asyncio.Future[None]]] = []
        self._failures: list[_Failure] = []
        self._holds: dict[str, Hold] = {}
        self._rate: float | None = None
        self._recent: deque[float] = deque()
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._port = 0
        # Members' photos and voice notes, served at addresses of the fake.
        self.files = MemberFiles()
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Envelope]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
        }

    # -- the server ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What ``ZALO_API_BASE_URL`` points at to use this fake."""
        if not self._port:
            raise RuntimeError("the fake Zalo API is not running")
        return f"http://127.0.0.1:{self._port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        # Members' files first: their addresses would match the methods' pattern too.
        app.router.add_get(f"{FILES_PATH}/{{name}}", self.files.serve)
        app.router.add_route("*", "/{bot}/{method}", self._dispatch)
        # The access log would print every address, token and all.
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Wake pending long polls (they answer 408), release held sends and stop
        listening."""
        self._closed.set()
        for held in self._holds.values():
            held.released.set()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloApi:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def _dispatch(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        envelope = await self.respond(request.match_info["bot"], request.match_info["method"],
                                      params)  # fmt: skip
        if request.match_info["method"] == "getUpdates" and envelope.get("ok"):
            transport = request.transport
            if transport is None or transport.is_closing():
                # The poller went away (a process stopping) while the event was taken:
                # it stays first in line for the next poll rather than vanish.
                waiting = [envelope["result"]]
                while not self._events.empty():
                    waiting.append(self._events.get_nowait())
                for queued in waiting:
                    self._events.put_nowait(queued)
        # Like Telegram's Bot API, the HTTP status repeats the error code.
        return web.json_response(envelope, status=status_of(envelope))

    async def respond(self, bot: str, method: str, params: dict[str, Any] | None) -> Envelope:
        """The answer to a call at ``/{bot}/{method}`` with ``params`` (None: a body that
        is not a JSON object), recorded in ``calls``; any HTTP server of the fake's
        (``handlers.zalo.fake_lean`` too) answers this way."""
        if bot != f"bot{self.token}":
            envelope = refusal(401)
        elif params is None:
            envelope = refusal(400, "Bad request: the body is not a JSON object")
        elif method not in self._methods:
            envelope = refusal(400, f"Bad request: no method {method}")
        else:
            await self._held(method, params)
            envelope = self._forced(method, params) or await self._methods[method](params)
        code = None if envelope["ok"] else status_of(envelope)
        self.calls.append(Call(method, params or {}, code))
        return envelope

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any] | None:
        """The call's parameters: the query, and a JSON or form body over it."""
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            params.update({key: str(value) for key, value in (await request.post()).items()})
            return params
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        params.update(body)
        return params

    # -- the methods ---------------------------------------------------------------

    async def _get_me(self, _params: dict[str, Any]) -> Envelope:
        return answer(
            {
                "id": self.bot_id,
                "account_name": self.account_name,
                "account_type": "BASIC",
                "can_join_groups": False,
            }
        )

    async def _get_updates(self, params: dict[str, Any]) -> Envelope:
        timeout = poll_timeout(params)
        if timeout is None:
            return refusal(400, "Bad request: timeout must be a number of seconds")
        if self.webhook_url:
            # Documented only as "getUpdates will not work while a webhook is set"; the
            # platform is reported to stay silent rather than refuse, so the fake times out.
            self.polls_while_webhook += 1
            try:
                await asyncio.wait_for(self._closed.wait(), timeout)
            except TimeoutError:
                pass
            return refusal(408)
        return await self._next_event(timeout)

    async def _next_event(self, timeout: float) -> Envelope:
        if not self._events.empty():
            return answer(self._events.get_nowait())  # no waiting: cheap under load
        taking = asyncio.ensure_future(self._events.get())
        closing = asyncio.ensure_future(self._closed.wait())
        done, pending = await asyncio.wait(
            {taking, closing}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        for future in pending:
            future.cancel()
        if taking in done:
            return answer(taking.result())
        return refusal(408)

    async def _send_message(self, params: dict[str, Any]) -> Envelope:
        chat_id = chat_id_of(params)
        text = params.get("text")
        if chat_id is None:
            return refusal(400, "Bad request: chat_id is required")
        if not text_ok(text, required=True):
            return refusal(400, f"Bad request: text must have 1 to {TEXT_LIMIT} characters")
        return self._record(Sent("sendMessage", chat_id, new_message_id(), text=text))

    async def _send_photo(self, params: dict[str, Any]) -> Envelope:
        chat_id = chat_id_of(params)
        photo = params.get("photo")
        caption = params.get("caption")
        if chat_id is None:
            return refusal(400, "Bad request: chat_id is required")
        if not isinstance(photo, str) or not photo.startswith(("https://", "http://")):
            return refusal(400, "Bad request: photo must be the picture's URL")
        if not text_ok(caption, required=False):
            return refusal(400, f"Bad request: caption must have 1 to {TEXT_LIMIT} characters")
        sent = Sent("sendPhoto", chat_id, new_message_id(), photo_url=photo, caption=caption)
        return self._record(sent)

    async def _send_chat_action(self, params: dict[str, Any]) -> Envelope:
        chat_id = chat_id_of(params)
        action = params.get("action")
        if chat_id is None or action not in ACTIONS:
            return refusal(400, "Bad request: chat_id and a known action are required")
        return self._record(Sent("sendChatAction", chat_id, None, action=str(action)))

    async def _set_webhook(self, params: dict[str, Any]) -> Envelope:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not url.startswith("https://"):
            return refusal(400, "Bad request: url must be an HTTPS address")
        if not isinstance(secret, str) or not SECRET_MIN <= len(secret) <= SECRET_MAX:
            return refusal(
                400, f"Bad request: secret_token must have {SECRET_MIN} to {SECRET_MAX} characters"
            )
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = now_ms()
        return answer({"url": url, "updated_at": self.webhook_updated_at})

    async def _delete_webhook(self, _params: dict[str, Any]) -> Envelope:
        self.webhook_url, self.webhook_secret = "", None
        self.webhook_updated_at = now_ms()
        return answer({"url": "", "updated_at": self.webhook_updated_at})

    async def _get_webhook_info(self, _params: dict[str, Any]) -> Envelope:
        return answer({"url": self.webhook_url, "updated_at": self.webhook_updated_at})

    # -- refusals a test asks for --------------------------------------------------

    def rate_limit(self, per_second: float | None) -> None:
        """Answer 429 "Quota exceeded" to sends beyond ``per_second`` (None: no limit)."""
        self._rate = per_second
        self._recent.clear()

    def fail_next(
        self,
        method: str,
        code: int,
        description: str | None = None,
        *,
        chat_id: str | None = None,
        times: int = 1,
    ) -> None:
        """Refuse the next ``times`` calls of ``method`` (to ``chat_id`` only, if given)."""
        self._failures.append(_Failure(method, code, description, chat_id, times))

    def hold(self, chat_id: str) -> Hold:
        """Leave sends to ``chat_id`` unanswered until the hold is released."""
        held = Hold(asyncio.Event(), asyncio.Event())
        self._holds[chat_id] = held
        return held

    async def _held(self, method: str, params: dict[str, Any]) -> None:
        """Wait while sends to the call's chat are held."""
        held = self._holds.get(chat_id_of(params) or "") if method in SENDING else None
        if held is not None and not held.released.is_set():
            held.waiting += 1
            held.reached.set()
            try:
                await held.released.wait()
            finally:
                held.waiting -= 1

    def _forced(self, method: str, params: dict[str, Any]) -> Envelope | None:
        for failure in self._failures:
            if failure.method != method or failure.chat_id not in (None, chat_id_of(params)):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return refusal(failure.code, failure.description)
        if method in SENDING and self._over_quota():
            return refusal(429)
        return None

    def _over_quota(self) -> bool:
        if self._rate is None:
            return False
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self._rate:
            return True
        self._recent.append(now)
        return False

    # -- members' files --------------------------------------------------------------

    def host(
        self,
        data: bytes,
        content_type: str = "image/png",
        *,
        status: int = 200,
        chunked: bool = False,
    ) -> str:
        """Serve ``data`` at a new address of the fake, as Zalo serves a member's photo or
        voice note; the address, for an event to carry."""
        name = self.files.add(data, content_type, status, chunked)
        return f"{self.base_url}{FILES_PATH}/{name}"

    # -- what members do -----------------------------------------------------------

    def push(self, data: object) -> None:
        """Queue anything for getUpdates as it is, malformed or not."""
        self._events.put_nowait(data)

    @property
    def pending(self) -> int:
        """Events queued and not yet fetched."""
        return self._events.qsize()

    def _member(self, name: str, user_id: str, **fields: Any) -> dict[str, Any]:
        made = event(name, user_id, **fields)
        self.push(made)
        return made

    def say(
        self,
        user_id: str,
        text: str,
        *,
        display_name: str = DISPLAY_NAME,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Queue a text from ``user_id``; the event, whose message_id a test may reuse."""
        return self._member(
            TEXT_RECEIVED, user_id, text=text, display_name=display_name, message_id=message_id
        )

    def send_image(
        self,
        user_id: str,
        url: str | None = None,
        caption: str | None = None,
        *,
        display_name: str = DISPLAY_NAME,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Queue a photo at ``url`` (by default ``PHOTO``, served by the fake) with an
        optional caption."""
        return self._member(
            IMAGE_RECEIVED,
            user_id,
            photo=url or self.host(PHOTO, "image/png"),
            caption=caption,
            display_name=display_name,
            message_id=message_id,
        )

    def send_sticker(
        self,
        user_id: str,
        sticker: str = STICKER,
        *,
        display_name: str = DISPLAY_NAME,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Queue a sticker."""
        return self._member(
            STICKER_RECEIVED,
            user_id,
            sticker=sticker,
            display_name=display_name,
            message_id=message_id,
        )

    def send_voice(
        self,
        user_id: str,
        url: str | None = None,
        *,
        display_name: str = DISPLAY_NAME,
        message_id: str | None = None,
    ) -> dict[str, Any]:
        """Queue a voice note at ``url`` (by default ``VOICE``, served by the fake)."""
        return self._member(
            VOICE_RECEIVED,
            user_id,
            voice_url=url or self.host(VOICE, "audio/mp4"),
            display_name=display_name,
            message_id=message_id,
        )

    def unsupported(
        self, user_id: str, *, display_name: str = DISPLAY_NAME, message_id: str | None = None
    ) -> dict[str, Any]:
        """Queue what the platform sends for content it does not pass on, or for a user
        it protects."""
        return self._member(
            UNSUPPORTED_RECEIVED, user_id, display_name=display_name, message_id=message_id
        )

    async def webhook_post(
        self,
        url: str,
        data: object,
        secret: str | None = None,
        *,
        send_secret: bool = True,
        wrapped: bool = True,
    ) -> Delivery:
        """POST ``data`` to the bot's webhook at ``url`` as Zalo does, with ``secret`` or
        else the registered one (``send_secret=False``: no header); the bot's answer."""
        if self._client is None:
            raise RuntimeError("the fake Zalo API is not running")
        header = (self.webhook_secret if secret is None else secret) if send_secret else None
        body, headers = webhook_request(data, header, wrapped=wrapped)
        async with self._client.post(url, data=body, headers=headers) as response:
            return Delivery(response.status, await response.text())

    # -- what the bot sent ---------------------------------------------------------

    def _record(self, sent: Sent) -> Envelope:
        self._sent[sent.chat_id].append(sent)
        if sent.method in MAKING and self._waiters:
            count = len(self.messages(sent.chat_id))
            for chat_id, wanted, future in self._waiters:
                if chat_id == sent.chat_id and count >= wanted and not future.done():
                    future.set_result(None)
        if sent.message_id is None:
            return answer()
        return answer({"message_id": sent.message_id, "date": now_ms()})

    def sent(self, chat_id: str) -> list[Sent]:
        """Everything the bot did in the chat, in order, chat actions included."""
        return list(self._sent.get(chat_id, ()))

    def messages(self, chat_id: str) -> list[Sent]:
        """The texts and photos the bot sent to the chat."""
        return [sent for sent in self.sent(chat_id) if sent.method in MAKING]

    def texts(self, chat_id: str) -> list[str]:
        """The texts the bot sent to the chat."""
        return [sent.text for sent in self.sent(chat_id) if sent.text is not None]

    def photos(self, chat_id: str) -> list[Sent]:
        """The photos the bot sent to the chat."""
        return [sent for sent in self.sent(chat_id) if sent.method == "sendPhoto"]

    def chats(self) -> list[str]:
        """Every chat the bot did something in."""
        return list(self._sent)

    async def wait_for_messages(self, chat_id: str, count: int, timeout: float = 5.0) -> list[Sent]:
        """Wait until the chat has at least ``count`` texts and photos; all of them."""
        if len(self.messages(chat_id)) < count:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            waiter = (chat_id, count, future)
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(future, timeout)
            except TimeoutError:
                got = self.texts(chat_id)
                raise AssertionError(
                    f"chat {chat_id} got {len(got)} of {count} messages in {timeout} s: {got}"
                ) from None
            finally:
                self._waiters.remove(waiter)
        return self.messages(chat_id)
