"""Digests of submitted versions, in SQL: what a resubmission changed, without a copy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from storage.executor import Executor
from storage.repositories._base import _by_dialect, snapshots

_ADD = _by_dialect(lambda insert_: insert_(snapshots).on_conflict_do_nothing())


class SqlSubmissionSnapshots:
    """A digest per field of each submitted version."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(
        self, initiative_id: int, version: int, digests: dict[str, str], at: dt.datetime
    ) -> None:
        """Remember what a version said; a second call for the same version changes nothing."""
        values = {"initiative_id": initiative_id, "version": version, "digests": digests,
                  "submitted_at": at}  # fmt: skip
        await self._db.execute(_ADD[self._db.dialect.name], values)

    async def of_versions(
        self, initiative_id: int, versions: Sequence[int]
    ) -> dict[int, dict[str, str]]:
        """The digests of these versions that were remembered."""
        rows = await self._db.execute(
            select(snapshots.c.version, snapshots.c.digests).where(
                snapshots.c.initiative_id == initiative_id,
                snapshots.c.version.in_(list(versions)),
            )
        )
        return {int(row.version): {str(k): str(v) for k, v in row.digests.items()} for row in rows}
