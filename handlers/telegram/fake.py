"""A fake Telegram Bot API at python-telegram-bot's ``BaseRequest`` boundary.

The real ``Application`` serialises its calls into ``RequestData`` and parses these JSON
answers, so handler wiring and (de)serialisation run for real and nothing leaves the
process. ``FakeBotApi`` records every call and applies Telegram's limits when asked, for
tests; ``FastFakeBotApi`` keeps no call log and answers from precomputed bytes, for load
benchmarks.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import IO, Any

from telegram.request import BaseRequest, RequestData

BOT_USER: dict[str, Any] = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Sáng kiến",
    "username": "sangkien_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TOKEN = "7000000001:AAH-test-token-000000000000000000000"
# What counts against Telegram's flood limits, and what makes a message in a chat.
SENDING = frozenset({"sendMessage", "sendPhoto"})
MAKING = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendVoice", "sendVideoNote"})


def answer_body(result: Any) -> bytes:
    """A successful answer carrying ``result``."""
    return json.dumps({"ok": True, "result": result}).encode()


def failure_body(code: int, description: str, retry_after: int | None = None) -> bytes:
    """A refusal, as Telegram words it."""
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return json.dumps(body).encode()


TRUE = answer_body(True)
EMPTY_LIST = answer_body([])
GET_ME = answer_body(BOT_USER)
TOO_MANY = failure_body(429, "Too Many Requests: retry after 1", retry_after=1)
BLOCKED = failure_body(403, "Forbidden: bot was blocked by the user")


def method_of(url: str) -> str:
    """The Bot API method a request URL calls."""
    return url[url.rfind("/") + 1 :]


def parameters_of(request_data: RequestData | None) -> dict[str, Any]:
    """The call's parameters, a new dict (reply markup already a dict)."""
    return request_data.parameters if request_data is not None else {}


def bot_message(message_id: int, chat: dict[str, Any], text: str = "…") -> dict[str, Any]:
    """A message the bot sent to ``chat``."""
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": BOT_USER,
        "text": text,
    }


# -- updates a member sends ------------------------------------------------------

_update_ids = itertools.count(1)


def next_update_id() -> int:
    """A fresh update id, as Telegram numbers them."""
    return next(_update_ids)


def number_updates_from(first: int) -> None:
    """Number the coming updates from ``first``: a kept database has handled the low ids."""
    global _update_ids
    _update_ids = itertools.count(first)


def text_content(text: str) -> dict[str, Any]:
    """Typed text as a message carries it; a leading slash makes it a command."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        length = len(text.split(" ", 1)[0])
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


def message_update(
    message_id: int, user: dict[str, Any], chat: dict[str, Any], content: dict[str, Any]
) -> dict[str, Any]:
    """An update carrying a message from ``user`` in ``chat``."""
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": user,
        **content,
    }
    return {"update_id": next_update_id(), "message": message}


def button_update(user: dict[str, Any], chat: dict[str, Any], data: str) -> dict[str, Any]:
    """An update for a tap on an inline button carrying ``data`` under a message of the bot."""
    update_id = next_update_id()
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": user,
            "chat_instance": f"ci{user['id']}",
            "data": data,
            "message": bot_message(1, chat),
        },
    }


# -- the request boundary --------------------------------------------------------


class FakeRequest(BaseRequest):
    """What every fake shares: nothing to open or close, and one method to answer calls."""

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
        """Answer the method the URL names."""
        return await self.answer(method_of(url), request_data)

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """The HTTP status and body Telegram would send."""
        raise NotImplementedError


# A message to a chat within this many seconds of the member's last update is a reply.
REPLY_WINDOW = 10.0
# Replies a private chat takes at once: Telegram tolerates a reply's few messages in a
# burst, beyond about one a second.
REPLY_BURST = 3


class SendLimits:
    """Telegram's flood limits: bulk messages in any sliding second, and one chat's pace.

    A reply (a message to someone who just wrote) is no bulk notification: only its chat's
    pace applies, which tolerates a reply's few messages in a burst (``REPLY_BURST``, then
    one a second). A bulk message keeps to one a second in its chat, and counts towards
    ``per_second`` unless it carries ``allow_paid_broadcast``; paid or not, it counts
    towards ``paid_per_second`` (when set).
    """

    def __init__(
        self,
        per_second: int | None,
        per_chat_seconds: float | None = None,
        paid_per_second: int | None = None,
    ) -> None:
        self.per_second = per_second
        self.per_chat_seconds = per_chat_seconds
        self.paid_per_second = paid_per_second
        self._window: deque[float] = deque()
        self._bulk_window: deque[float] = deque()
        self._last_in_chat: dict[int, float] = {}
        # Per chat: the replies it may still take at once, and when that was counted.
        self._reply_room: dict[int, tuple[float, float]] = {}

    def refusal(
        self, chat_id: int, now: float, bulk: bool = True, paid: bool = False
    ) -> str | None:
        """Why a message at ``now`` would be refused, or None."""
        for window in (self._window, self._bulk_window):
            while window and window[0] <= now - 1.0:
                window.popleft()
        if bulk and not paid and self.per_second is not None:
            if len(self._window) >= self.per_second:
                return f"{self.per_second} bulk messages in the last second"
        if bulk and self.paid_per_second is not None:
            if len(self._bulk_window) >= self.paid_per_second:
                return f"{self.paid_per_second} bulk messages (paid or not) in the last second"
        if not bulk and self.per_chat_seconds is not None:
            if self._room(chat_id, now) < 1.0:
                return f"chat {chat_id} got {REPLY_BURST} replies at once"
            return None
        last = self._last_in_chat.get(chat_id)
        if self.per_chat_seconds is not None and last is not None:
            if now - last < self.per_chat_seconds:
                return f"chat {chat_id} got a message {(now - last) * 1000:.0f} ms ago"
        return None

    def _room(self, chat_id: int, now: float) -> float:
        """The replies the chat may take at once now: one more for each interval passed."""
        room, at = self._reply_room.get(chat_id, (float(REPLY_BURST), now))
        seconds = self.per_chat_seconds or 1.0
        return min(float(REPLY_BURST), room + (now - at) / seconds)

    def record(self, chat_id: int, now: float, bulk: bool = True, paid: bool = False) -> None:
        """Count a message that went out."""
        if bulk and not paid:
            self._window.append(now)
        if bulk and self.paid_per_second is not None:
            self._bulk_window.append(now)
        if self.per_chat_seconds is not None:
            self._last_in_chat[chat_id] = now
            if not bulk:
                self._reply_room[chat_id] = (self._room(chat_id, now) - 1.0, now)


# -- for tests: every call recorded ------------------------------------------------


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
        """The text of a sent message or the notice of an answered button."""
        # Babel puts a no-break space inside amounts ("1.200.000\u00a0₫"); it reads as a space.
        text = self.params.get("text") or self.params.get("caption") or ""
        return str(text).replace("\u00a0", " ")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons as (label, callback data)."""
        return [(b["text"], b.get("callback_data", "")) for b in self._markup("inline_keyboard")]

    @property
    def keyboard(self) -> list[str]:
        """Reply-keyboard labels."""
        return [b["text"] if isinstance(b, dict) else b for b in self._markup("keyboard")]

    def _markup(self, kind: str) -> list[Any]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [button for row in markup.get(kind, []) for button in row]


def _content(upload: bytes | IO[bytes]) -> bytes:
    """An upload's bytes: the library may hand over an open file instead."""
    return upload if isinstance(upload, bytes) else upload.read()


class FakeBotApi(FakeRequest):
    """Answers every Bot API method the bot uses, and records the calls."""

    def __init__(self, per_second: int | None = None) -> None:
        self.calls: list[Call] = []
        self._message_ids = itertools.count(1000)
        self.by_chat: dict[int, list[Call]] = defaultdict(list)
        # Telegram's limits, enforced when asked: messages a second for the bot, and chats
        # that blocked it.
        self.limits = SendLimits(per_second)
        # When each chat last wrote to the bot: a message there soon after is a reply.
        self._wrote: dict[int, float] = {}
        self.blocked: set[int] = set()
        # The bot's Stars balance (getMyStarBalance); None: Telegram fails to answer.
        self.star_balance: int | None = 0
        self.too_many = 0
        # The next this many messages are refused with "retry after 1", as in a flood.
        self.refuse_next = 0

    @property
    def per_second(self) -> int | None:
        """Messages a second the bot may send before a 429; None: no limit."""
        return self.limits.per_second

    @per_second.setter
    def per_second(self, value: int | None) -> None:
        self.limits.per_second = value

    def wrote(self, chat_id: int) -> None:
        """The member in this chat sent the bot an update: what follows is a reply."""
        self._wrote[chat_id] = time.monotonic()

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Record the call and answer as Telegram would."""
        params = parameters_of(request_data)
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
        return 200, answer_body(result)

    def _refuse(self, name: str, params: dict[str, Any]) -> tuple[int, bytes] | None:
        if name == "getMyStarBalance" and self.star_balance is None:
            return 500, failure_body(500, "Internal Server Error")
        if name not in SENDING:
            return None
        chat_id = int(params.get("chat_id", 0))
        if chat_id in self.blocked:
            return 403, BLOCKED
        if self.refuse_next:
            self.refuse_next -= 1
            return self._too_many()
        if self.limits.per_second is not None:
            now = time.monotonic()
            bulk = now - self._wrote.get(chat_id, -REPLY_WINDOW) >= REPLY_WINDOW
            paid = bool(params.get("allow_paid_broadcast"))
            if self.limits.refusal(chat_id, now, bulk, paid) is not None:
                return self._too_many()
            self.limits.record(chat_id, now, bulk, paid)
        return None

    def _too_many(self) -> tuple[int, bytes]:
        self.too_many += 1
        return 429, TOO_MANY

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name == "getUpdates":
            return []
        if name == "getMyStarBalance":
            return {"amount": self.star_balance, "nanostar_amount": 0}
        if name not in MAKING:
            return True
        message_id = next(self._message_ids)
        chat = {"id": int(params["chat_id"]), "type": "private"}
        message = bot_message(message_id, chat, params.get("text", ""))
        if name == "sendPhoto":
            photo = params.get("photo")
            # An upload gets a new file id; a file id is sent as it is.
            uploaded = not isinstance(photo, str) or "attach://" in photo
            file_id = f"uploaded-{message_id}" if uploaded else photo
            message["photo"] = [{"file_id": file_id, "file_unique_id": f"u{message_id}",
                                 "width": 800, "height": 600}]  # fmt: skip
        return message

    def sent_to(self, chat_id: int) -> list[Call]:
        """Messages sent to a chat, oldest first."""
        return [c for c in self.by_chat[chat_id] if c.method == "sendMessage"]

    def photos_to(self, chat_id: int) -> list[Call]:
        """Photos sent to a chat, oldest first."""
        return [c for c in self.by_chat[chat_id] if c.method == "sendPhoto"]


# -- for benchmarks: no call log ---------------------------------------------------


class FastFakeBotApi(FakeRequest):
    """Answers from precomputed bytes and remembers only what a member's next step needs."""

    def __init__(self) -> None:
        self._sent: dict[int, bytes] = {}
        # The callback data of the inline buttons sent to each chat since ``expect``, and
        # the last text (for diagnostics).
        self.buttons: dict[int, list[str]] = {}
        self.last_text: dict[int, str] = {}
        self.requests = 0
        self.messages = 0
        # answerCallbackQuery calls that carried a notice ("button from an earlier
        # message", "not for you"...): a correct dialog run makes none.
        self.notices: list[str] = []

    def expect(self, chat_id: int) -> None:
        """Forget the chat's buttons: the next lookups see only the coming answer's."""
        self.buttons[chat_id] = []

    def button(self, chat_id: int, prefix: str, suffix: str = "") -> str | None:
        """Callback data sent to the chat that starts with ``prefix`` and ends with ``suffix``."""
        for data in self.buttons.get(chat_id, ()):
            if data.startswith(prefix) and data.endswith(suffix):
                return data
        return None

    async def answer(self, name: str, request_data: RequestData | None) -> tuple[int, bytes]:
        """Answer as Telegram would, from precomputed bytes."""
        self.requests += 1
        if name == "sendMessage":
            return 200, self._sent_message(parameters_of(request_data))
        if name == "answerCallbackQuery":
            text = parameters_of(request_data).get("text")
            if text:
                self.notices.append(str(text))
            return 200, TRUE
        if name == "getMe":
            return 200, GET_ME
        if name == "getUpdates":
            return 200, EMPTY_LIST
        return 200, TRUE

    def _sent_message(self, params: dict[str, Any]) -> bytes:
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
            chat = {"id": chat_id, "type": "private"}
            answer = self._sent[chat_id] = answer_body(bot_message(1, chat))
        return answer
