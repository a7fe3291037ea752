"""The handled updates, so that a redelivered one changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from storage.executor import Executor
from storage.repositories._base import _by_dialect, processed

_CLAIM = _by_dialect(lambda insert_: insert_(processed).on_conflict_do_nothing())


class SqlInbox:
    """Processed event ids in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def claim(self, event_id: str, now: dt.datetime) -> bool:
        """Record the event; False when it was handled before."""
        result = await self._db.execute(
            _CLAIM[self._db.dialect.name], {"event_id": event_id, "at": now}
        )
        return bool(result.rowcount == 1)

    async def forget_before(self, cutoff: dt.datetime) -> int:
        """Forget events older than ``cutoff``; Telegram redelivers for hours, not weeks."""
        result = await self._db.execute(delete(processed).where(processed.c.at < cutoff))
        return int(result.rowcount or 0)
