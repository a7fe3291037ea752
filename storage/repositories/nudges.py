"""The record of nudges and milestones sent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from domain.model import Initiative, InitiativeStatus, Member
from storage.executor import Executor
from storage.repositories._base import (
    _by_dialect,
    _member,
    _with_flags,
    ancestors,
    initiatives,
    members,
    milestones,
    nudges,
)
from storage.repositories.initiatives import SqlInitiativeRepository
from storage.repositories.members import Prefetched, SqlMemberRepository

_NUDGE = _by_dialect(lambda insert_: insert_(nudges).on_conflict_do_nothing())
_MILESTONE = _by_dialect(lambda insert_: insert_(milestones).on_conflict_do_nothing())


class SqlNudgeLog:
    """Nudges sent and milestones reached, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def nudged_on(self, member_id: int, day: dt.date) -> bool:
        """Whether the member got a nudge on that day."""
        query = select(nudges.c.id).where(nudges.c.member_id == member_id, nudges.c.day == day)
        return (await self._db.execute(query.limit(1))).first() is not None

    async def sent_at(self, member_id: int, key: str) -> dt.datetime | None:
        """When the nudge with this key went to the member, if it did."""
        query = select(nudges.c.sent_at).where(nudges.c.member_id == member_id, nudges.c.key == key)
        value = (await self._db.execute(query)).scalar_one_or_none()
        return value if isinstance(value, dt.datetime) else None

    async def record(
        self, member_id: int, kind: str, key: str, day: dt.date, now: dt.datetime
    ) -> bool:
        """Record a nudge; False when this one was sent before."""
        values = {"member_id": member_id, "kind": kind, "key": key, "day": day, "sent_at": now}
        result = await self._db.execute(_NUDGE[self._db.dialect.name], values)
        return bool(result.rowcount == 1)

    async def stale_drafts(self, cutoff: dt.datetime) -> list[tuple[Initiative, Member]]:
        """Drafts untouched since ``cutoff``, with the member who writes them."""
        rows = (
            await self._db.execute(
                _with_flags().where(
                    initiatives.c.status == InitiativeStatus.DRAFT.value,
                    initiatives.c.updated_at <= cutoff,
                )
            )
        ).all()
        found = await SqlInitiativeRepository(self._db)._with_children(rows)
        writers = await SqlMemberRepository(self._db, Prefetched()).by_ids(
            [i.entered_by_id for i in found]
        )
        return [(i, writers[i.entered_by_id]) for i in found if i.entered_by_id in writers]

    async def reach(
        self, key: str, unit_id: int | None, phase_id: int, percent: int, now: dt.datetime
    ) -> bool:
        """Record a milestone; False when it was reached before."""
        values = {"key": key, "unit_id": unit_id, "phase_id": phase_id, "percent": percent,
                  "reached_at": now}  # fmt: skip
        result = await self._db.execute(_MILESTONE[self._db.dialect.name], values)
        return bool(result.rowcount == 1)

    async def milestones_since(self, since: dt.datetime) -> list[tuple[str, int | None, int, int]]:
        """Milestones reached since then: key, unit (None for the programme), phase, percent."""
        rows = await self._db.execute(
            select(milestones).where(milestones.c.reached_at >= since).order_by(milestones.c.key)
        )
        return [(r.key, r.unit_id, r.phase_id, r.percent) for r in rows]

    async def members_below(self, unit_id: int | None, limit: int) -> list[Member]:
        """Members of the unit's subtree (everyone for None) who accept nudges."""
        query = select(members).where(members.c.nudges.is_(True), members.c.unit_id.is_not(None))
        if unit_id is not None:
            below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id == unit_id)
            query = query.where(members.c.unit_id.in_(below))
        rows = await self._db.execute(query.order_by(members.c.id).limit(limit))
        return [_member(row) for row in rows]
