"""Structured logs: one JSON object a line, with the event's fields (update id, user id,
duration...), and never the bot token or the webhook secret.

What members write is never logged by the bot's own code; SQL parameters are kept out of
database errors (``storage.db.create_engine``), and the HTTP client's request lines, which
carry the token in the address, are kept at WARNING.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable
from typing import IO, Any

# Attributes every LogRecord has; anything else was passed in ``extra`` and is a field.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_HIDDEN = "***"


class StructuredFormatter(logging.Formatter):
    """A record as one line of JSON, with secrets masked wherever they appear."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        event: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = value
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        line = json.dumps(event, ensure_ascii=False, default=str)
        for secret in self._secrets:
            line = line.replace(secret, _HIDDEN)
        return line


def configure(
    secrets: Iterable[str] = (), level: int = logging.INFO, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record through one structured handler; return it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(StructuredFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs each request's address, which holds the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    return handler
