"""Files the bot keeps, in SQL: one row per distinct content."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Row, delete, select, update

from domain.kept import KeptFile
from storage.executor import Executor
from storage.repositories._base import _by_dialect, kept_files

_ADD = _by_dialect(lambda insert_: insert_(kept_files).on_conflict_do_nothing())


def _file(row: Row[Any]) -> KeptFile:
    """A kept file from its row."""
    return KeptFile(row.digest, row.mime_type, int(row.size), row.created_at, row.expires_at,
                    bytes(row.data))  # fmt: skip


class SqlKeptFiles:
    """Kept files by digest."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(self, file: KeptFile) -> None:
        """Store a file; one kept already keeps its bytes and lives at least as long as
        this one would (for good, if either is)."""
        values = {"digest": file.digest, "data": file.data, "mime_type": file.mime_type,
                  "size": file.size, "created_at": file.created_at,
                  "expires_at": file.expires_at}  # fmt: skip
        result = await self._db.execute(_ADD[self._db.dialect.name], values)
        if result.rowcount == 1:
            return
        column = kept_files.c.expires_at
        longer = column.is_not(None) if file.expires_at is None else column < file.expires_at
        await self._db.execute(
            update(kept_files)
            .where(kept_files.c.digest == file.digest, longer)
            .values(expires_at=file.expires_at)
        )

    async def get(self, digest: str) -> KeptFile | None:
        """A file with its bytes, expired or not."""
        row = (await self._db.execute(
            select(kept_files).where(kept_files.c.digest == digest)
        )).first()  # fmt: skip
        return _file(row) if row is not None else None

    async def forget_expired(self, now: dt.datetime) -> int:
        """Delete the files whose time is up; return how many."""
        result = await self._db.execute(delete(kept_files).where(kept_files.c.expires_at <= now))
        return int(result.rowcount or 0)
