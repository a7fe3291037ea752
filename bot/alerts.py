"""Errors told to an operator's Telegram chat, at most one message per kind of error per
ten minutes.

A kind is the exception's type and the place in our code it came from, so a flood of one
failure is one message and a new failure is told at once. An alert names the type, the
update and how many of the kind were left out since the last one; never the exception's
text, which may quote what a member wrote, nor anything the bot is configured with.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Bot

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(minutes=10)
# This project's packages: an error's place is the innermost frame in one of them.
OUR_PACKAGES = frozenset({"bot", "charts", "domain", "handlers", "locales", "storage"})


def error_kind(error: BaseException) -> str:
    """The exception's type and the innermost ``module:function`` of ours it went through
    (of any code, when none is ours)."""
    frames = [(str(frame.f_globals.get("__name__", "?")), frame.f_code.co_qualname)
              for frame, _line in traceback.walk_tb(error.__traceback__)]  # fmt: skip
    ours = [frame for frame in frames if frame[0].partition(".")[0] in OUR_PACKAGES]
    module, function = (ours or frames or [("?", "?")])[-1]
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")  # fmt: skip
    return f"{name} at {module}:{function}"


def alert_text(kind: str, update_id: int | None, suppressed: int) -> str:
    """The operator's message: what failed, in which update, how many were left out."""
    lines = [f"⚠️ Error {kind}", f"update {update_id if update_id is not None else '-'}"]
    if suppressed:
        lines.append(f"{suppressed} more of this kind since the last alert")
    lines.append("The traceback is in the logs, under this update id.")
    return "\n".join(lines)


@dataclass
class _Seen:
    """When a kind was last told, and how many of it came since."""

    alerted_at: dt.datetime
    suppressed: int = 0


class OperatorAlerts:
    """Tells the alert chat of errors: the first of a kind at once, then at most one
    message per kind per window (this process's count; each process tells its own)."""

    def __init__(
        self, chat_id: int, clock: Callable[[], dt.datetime], window: dt.timedelta = WINDOW
    ) -> None:
        self._chat_id = chat_id
        self._clock = clock
        self._window = window
        self._seen: dict[str, _Seen] = {}

    def due(self, error: BaseException, update_id: int | None) -> str | None:
        """The alert to send now, or None when this kind was told within the window
        (it is counted, for the next alert)."""
        kind, now = error_kind(error), self._clock()
        seen = self._seen.get(kind)
        if seen is not None and now - seen.alerted_at < self._window:
            seen.suppressed += 1
            return None
        self._seen[kind] = _Seen(now)
        return alert_text(kind, update_id, seen.suppressed if seen else 0)

    async def tell(self, bot: Bot, error: BaseException, update_id: int | None) -> None:
        """Send the alert if one is due. Nothing escapes: this runs in the error handler,
        and a failing alert must not hide the error it was about."""
        try:
            text = self.due(error, update_id)
            if text is not None:
                await bot.send_message(self._chat_id, text)
        except Exception as failure:
            # Its type only: a network error's text may carry the request's address.
            log.warning("could not alert the operator: %s", type(failure).__name__)
