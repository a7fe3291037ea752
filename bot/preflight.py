"""What is checked before the bot starts: the schema matches the code, and one process
at most runs on a SQLite file."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import current_revision, head_revision, known_revision, upgrade


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
        url = make_url(database_url)
        database = url.database or ""
        self._path = (
            Path(f"{database}.lock")
            if url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            else None
        )
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
