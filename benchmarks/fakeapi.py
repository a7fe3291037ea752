"""A cheap fake Telegram Bot API at the ``BaseRequest`` boundary, for load benchmarks.

Unlike ``tests.fakebotapi.FakeBotApi`` it keeps no call log: answers are precomputed
JSON bytes (one per chat for ``sendMessage``), and only what a simulated member needs
to take its next step is remembered: the callback data of the inline buttons the bot
sent to each chat since the member's last update, and the last text (for diagnostics).
"""

from __future__ import annotations

import json
import time
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Sáng kiến",
    "username": "sangkien_bench_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = "7000000001:AAH-bench-token-00000000000000000000"

_TRUE = b'{"ok":true,"result":true}'
_EMPTY_LIST = b'{"ok":true,"result":[]}'
_GET_ME = json.dumps({"ok": True, "result": BOT_USER}).encode()


class FastFakeBotApi(BaseRequest):
    """Answers getMe, sendMessage, answerCallbackQuery, setMyCommands... with fixed bytes."""

    def __init__(self) -> None:
        self._sent: dict[int, bytes] = {}
        self._date = int(time.time())
        # chat id -> callback data of inline buttons sent since ``expect(chat)``.
        self.buttons: dict[int, list[str]] = {}
        self.last_text: dict[int, str] = {}
        self.requests = 0
        self.messages = 0
        # answerCallbackQuery calls that carried a notice ("button from an earlier
        # message", "not for you"...): a correct dialog run makes none.
        self.notices: list[str] = []

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """A nominal timeout."""
        return 5.0

    def expect(self, chat_id: int) -> None:
        """Forget the chat's buttons: the next lookups see only the coming answer's."""
        self.buttons[chat_id] = []

    def button(self, chat_id: int, prefix: str, suffix: str = "") -> str | None:
        """Callback data sent to the chat that starts with ``prefix`` and ends with ``suffix``."""
        for data in self.buttons.get(chat_id, ()):
            if data.startswith(prefix) and data.endswith(suffix):
                return data
        return None

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
        """Answer as Telegram would, from precomputed bytes."""
        self.requests += 1
        name = url[url.rfind("/") + 1 :]
        if name == "sendMessage":
            params: dict[str, Any] = request_data.parameters if request_data else {}
            chat_id = int(params["chat_id"])
            self.messages += 1
            self.last_text[chat_id] = str(params.get("text", ""))
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                found = self.buttons.setdefault(chat_id, [])
                for row in markup["inline_keyboard"]:
                    for button in row:
                        data = button.get("callback_data")
                        if data:
                            found.append(data)
            answer = self._sent.get(chat_id)
            if answer is None:
                answer = self._sent[chat_id] = self._message(chat_id)
            return 200, answer
        if name == "answerCallbackQuery":
            if request_data is not None:
                text = request_data.parameters.get("text")
                if text:
                    self.notices.append(str(text))
            return 200, _TRUE
        if name == "getMe":
            return 200, _GET_ME
        if name == "getUpdates":
            return 200, _EMPTY_LIST
        return 200, _TRUE

    def _message(self, chat_id: int) -> bytes:
        return json.dumps(
            {
                "ok": True,
                "result": {
                    "message_id": 1,
                    "date": self._date,
                    "chat": {"id": chat_id, "type": "private"},
                    "from": BOT_USER,
                    "text": "…",
                },
            }
        ).encode()
