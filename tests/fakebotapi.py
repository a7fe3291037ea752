"""Members who talk to the fake Telegram Bot API, and the harness that drives a real bot.

The fake itself lives with the channel, in ``handlers.telegram.fake``; it is re-exported
here under the names the tests have always used.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from telegram import Update
from telegram.request import RequestData

from handlers.telegram.fake import (
    BOT_USER,
    TOKEN,
    Call,
    FakeBotApi,
    answer_body,
    button_update,
    failure_body,
    message_update,
    next_update_id,
    parameters_of,
    text_content,
)

__all__ = ["BOT_USER", "TOKEN", "Call", "FakeBotApi", "FilesBotApi", "Harness", "Member",
           "next_update_id"]  # fmt: skip


class FilesBotApi(FakeBotApi):
    """The fake that also keeps files: getFile answers with a path, and the path's URL
    (``/file/bot<token>/<path>``) gives the bytes, as Telegram's file server does."""

    def __init__(self) -> None:
        super().__init__()
        self.files: dict[str, bytes] = {}
        self.downloads: list[str] = []

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        """A download by path, else a method call."""
        if "/file/bot" in url:
            path = url.split("/file/bot", 1)[1].split("/", 1)[1]
            self.downloads.append(path)
            found = self.files.get(path.removeprefix("documents/"))
            return (200, found) if found is not None else (404, b"Not Found")
        return await super().do_request(url, method, request_data, *args, **kwargs)

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """getFile for the files kept here; every other method as the fake answers it."""
        if name != "getFile":
            return await super().answer(name, request_data)
        file_id = str(parameters_of(request_data)["file_id"])
        self.calls.append(Call(name, {"file_id": file_id}))
        data = self.files.get(file_id)
        if data is None:
            return 400, failure_body(400, "Bad Request: invalid file_id")
        found = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data),
                 "file_path": f"documents/{file_id}"}  # fmt: skip
        return 200, answer_body(found)


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
        return message_update(next(self._message_ids), self.user, self.chat, content)

    def text_update(self, text: str) -> dict[str, Any]:
        """An update with typed text; a leading slash makes it a command."""
        return self.message_update(**text_content(text))

    def button_update(self, data: str) -> dict[str, Any]:
        """An update for a tap on an inline button carrying ``data``."""
        return button_update(self.user, self.chat, data)

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
    """Drives a real bot's Telegram Application: updates in through its queue, calls out
    to the fake."""

    def __init__(self, runtime: Any, api: FakeBotApi) -> None:
        # The whole process (bot.runtime.Runtime), and its Telegram application.
        self.runtime = runtime
        self.application = runtime.channel("telegram").application
        self.api = api
        self.errors: list[BaseException] = []
        self._delivered = 0

        async def collect(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.application.add_error_handler(collect)

    def member(self, user_id: int, first_name: str, last_name: str = "") -> Member:
        """A member talking to this bot."""
        return Member(self, user_id, first_name, last_name)

    async def deliver(self, data: dict[str, Any], chat_id: int) -> list[Call]:
        """Queue an update and wait until the bot has handled it."""
        before = len(self.api.calls)
        self.api.wrote(chat_id)
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
