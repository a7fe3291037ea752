"""A fake Telegram Bot API at the HTTP request boundary, and members who talk to it.

The real ``Application`` serialises its calls into ``RequestData`` and parses our
JSON answers, so handler wiring and (de)serialisation are exercised for real.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Sáng kiến",
    "username": "sangkien_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = "7000000001:AAH-test-token-000000000000000000000"


@dataclass
class Call:
    """One Bot API method call the bot made."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)
    files: dict[str, bytes] = field(default_factory=dict)
    # The id of the message it made, for a send.
    message_id: int | None = None

    @property
    def text(self) -> str:
        """The text of a sent message or the notice of an answered button.

        Babel puts a no-break space inside amounts ("1.200.000\u00a0₫"); it reads as a space.
        """
        text = self.params.get("text") or self.params.get("caption") or ""
        return str(text).replace("\u00a0", " ")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons as (label, callback data)."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [(b["text"], b.get("callback_data", "")) for row in
                markup.get("inline_keyboard", []) for b in row]  # fmt: skip

    @property
    def keyboard(self) -> list[str]:
        """Reply-keyboard labels."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [b["text"] if isinstance(b, dict) else b
                for row in markup.get("keyboard", []) for b in row]  # fmt: skip


class FakeBotApi(BaseRequest):
    """Answers every Bot API method the bot uses, and records the calls."""

    def __init__(self, per_second: int | None = None) -> None:
        self.calls: list[Call] = []
        self._message_ids = itertools.count(1000)
        self.by_chat: dict[int, list[Call]] = defaultdict(list)
        # Telegram's limits, enforced when asked: messages a second for the bot, and chats
        # that blocked it.
        self.per_second = per_second
        self.blocked: set[int] = set()
        self.too_many = 0
        self._recent: list[float] = []
        # The next this many messages are refused with "retry after 1", as in a flood.
        self.refuse_next = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """A nominal timeout."""
        return 5.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Record the call and answer as Telegram would."""
        name = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        refusal = self._refuse(name, params)
        if refusal is not None:
            return refusal
        call = Call(name, params)
        if request_data is not None and request_data.contains_files:
            call.files = {
                key: _content(value[1])
                for key, value in (request_data.multipart_data or {}).items()
            }
        self.calls.append(call)
        if "chat_id" in params:
            self.by_chat[int(params["chat_id"])].append(call)
        result = self._result(name, params)
        if isinstance(result, dict):
            call.message_id = result.get("message_id")
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _refuse(self, name: str, params: dict[str, Any]) -> tuple[int, bytes] | None:
        if name not in ("sendMessage", "sendPhoto"):
            return None
        if int(params.get("chat_id", 0)) in self.blocked:
            body = {"ok": False, "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user"}  # fmt: skip
            return 403, json.dumps(body).encode()
        if self.refuse_next:
            self.refuse_next -= 1
            return self._too_many()
        if self.per_second is not None:
            now = time.monotonic()
            self._recent = [t for t in self._recent if t > now - 1.0]
            if len(self._recent) >= self.per_second:
                return self._too_many()
            self._recent.append(now)
        return None

    def _too_many(self) -> tuple[int, bytes]:
        self.too_many += 1
        body = {"ok": False, "error_code": 429, "parameters": {"retry_after": 1},
                "description": "Too Many Requests: retry after 1"}  # fmt: skip
        return 429, json.dumps(body).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "getUpdates":
            return []
        if name in ("sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideoNote"):
            message_id = next(self._message_ids)
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if name == "sendPhoto":
                photo = params.get("photo")
                # An upload gets a new file id; a file id is sent as it is.
                file_id = photo if isinstance(photo, str) and "attach://" not in photo else (
                    f"uploaded-{message_id}")  # fmt: skip
                message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{message_id}",
                                     "width": 800, "height": 600}]  # fmt: skip
            return message
        return True

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages sent to a chat, oldest first."""
        return [c for c in self.by_chat[chat_id] if c.method == "sendMessage"]

    def photos_to(self, chat_id: int) -> list[Call]:
        """Photos sent to a chat, oldest first."""
        return [c for c in self.by_chat[chat_id] if c.method == "sendPhoto"]


def _content(upload: bytes | IO[bytes]) -> bytes:
    """An upload's bytes: the library may hand over an open file instead."""
    return upload if isinstance(upload, bytes) else upload.read()


_update_ids = itertools.count(1)


def next_update_id() -> int:
    """A fresh update id, as Telegram numbers them."""
    return next(_update_ids)


class Member:
    """A person in a private chat with the bot, who builds real updates."""

    def __init__(
        self, harness: Harness, user_id: int, first_name: str, last_name: str = ""
    ) -> None:
        self.harness = harness
        self.id = user_id
        self.user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "vi",
        }
        if last_name:
            self.user["last_name"] = last_name
        self.chat = {"id": user_id, "type": "private", "first_name": first_name}
        self._message_ids = itertools.count(1)
        self.last_update: dict[str, Any] | None = None

    # -- building updates ----------------------------------------------------

    def message_update(self, **content: Any) -> dict[str, Any]:
        """An update carrying a message with ``content``."""
        return {
            "update_id": next_update_id(),
            "message": {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": self.chat,
                "from": self.user,
                **content,
            },
        }

    def text_update(self, text: str) -> dict[str, Any]:
        """An update with typed text; a leading slash makes it a command."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}
            ]
        return self.message_update(**content)

    def button_update(self, data: str) -> dict[str, Any]:
        """An update for a tap on an inline button carrying ``data``."""
        return {
            "update_id": next_update_id(),
            "callback_query": {
                "id": str(next_update_id()),
                "from": self.user,
                "chat_instance": f"ci{self.id}",
                "data": data,
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": self.chat,
                    "from": BOT_USER,
                    "text": "…",
                },
            },
        }

    # -- acting --------------------------------------------------------------

    async def deliver(self, data: dict[str, Any]) -> list[Call]:
        """Deliver an update and return the calls the bot made in answer."""
        self.last_update = data
        return await self.harness.deliver(data, self.id)

    async def say(self, text: str) -> list[Call]:
        """Type text (or a command)."""
        return await self.deliver(self.text_update(text))

    async def press(self, data: str) -> list[Call]:
        """Tap a button by its callback data."""
        return await self.deliver(self.button_update(data))

    async def tap(self, label: str) -> list[Call]:
        """Tap the inline button whose label contains ``label`` on the latest message with it."""
        return await self.press(self.button(label))

    def button(self, label: str) -> str:
        """The callback data of the newest inline button whose label contains ``label``."""
        for call in reversed(self.harness.api.by_chat[self.id]):
            if call.method not in ("sendMessage", "sendPhoto"):
                continue
            for text, data in call.buttons:
                if label in text:
                    return data
        raise AssertionError(f"no button {label!r}; last messages: {self.transcript(3)}")

    async def send(self, **content: Any) -> list[Call]:
        """Send a non-text message (photo, sticker, contact...)."""
        return await self.deliver(self.message_update(**content))

    def last(self) -> Call:
        """The latest message sent to this member."""
        return self.harness.api.sent_to(self.id)[-1]

    def transcript(self, count: int = 5) -> str:
        """The latest messages, for assertion messages."""
        return "\n---\n".join(c.text for c in self.harness.api.sent_to(self.id)[-count:])


class Harness:
    """Drives a real Application: updates in through its queue, calls out to the fake."""

    def __init__(self, application: Any, api: FakeBotApi) -> None:
        self.application = application
        self.api = api
        self.errors: list[BaseException] = []
        self._delivered = 0

        async def collect(update: object, context: Any) -> None:
            self.errors.append(context.error)

        application.add_error_handler(collect)

    def member(self, user_id: int, first_name: str, last_name: str = "") -> Member:
        """A member talking to this bot."""
        return Member(self, user_id, first_name, last_name)

    async def deliver(self, data: dict[str, Any], chat_id: int) -> list[Call]:
        """Queue an update and wait until the bot has handled it."""
        before = len(self.api.calls)
        await self.put(data)
        await self.settle()
        return [
            c for c in self.api.calls[before:] if int(c.params.get("chat_id", chat_id)) == chat_id
        ]

    async def put(self, data: dict[str, Any]) -> None:
        """Queue an update without waiting."""
        self._delivered += 1
        await self.application.update_queue.put(Update.de_json(data, self.application.bot))

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every queued update has been handled, and the notifications they
        queued (a review card, a decision) have been sent."""
        processor = self.application.update_processor
        deadline = time.monotonic() + timeout
        while processor.handled < self._delivered:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{processor.handled}/{self._delivered} updates handled")
            await asyncio.sleep(0.001)
        deliveries = self.application.bot_data.deliveries
        sender = self.application.bot_data.sender
        while sender is not None and sender.running and await deliveries.backlog(urgent_only=True):
            if time.monotonic() > deadline:
                raise TimeoutError("notifications still queued")
            await asyncio.sleep(0.005)
