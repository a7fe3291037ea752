"""A member's copy of their data, in SQL: each part of it read on its own, initiatives a
batch at a time, and never a secret (token hashes, CSRF tokens, file bytes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select

from domain.model import HistoryEntry, Initiative, InitiativeStatus
from domain.ports_privacy import (
    AccountEntry,
    ConsentEntry,
    Profile,
    RoleEntry,
    SentEntry,
    SnapshotEntry,
)
from storage.executor import Executor
from storage.repositories._base import (
    _member,
    _unit,
    _with_flags,
    broadcasts,
    consents,
    events,
    identities,
    initiatives,
    members,
    nudges,
    outgoing,
    reminders,
    roles,
    snapshots,
    units,
    web_sessions,
)
from storage.repositories.initiatives import SqlInitiativeRepository

# The broadcasts that are the weekly commendation (domain.commend queues them so).
_COMMENDATION = "weekly"


class SqlPersonalData:
    """The parts of one member's copy of their data."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def profile(self, member_id: int) -> Profile | None:
        """The member's row; None when there is none."""
        row = (await self._db.execute(select(members).where(members.c.id == member_id))).first()
        if row is None:
            return None
        unit = None
        if row.unit_id is not None:
            found = await self._db.execute(select(units).where(units.c.id == row.unit_id))
            unit_row = found.first()
            unit = _unit(unit_row) if unit_row is not None else None
        return Profile(_member(row), unit, row.created_at, row.updated_at)

    async def consents(self, member_id: int) -> list[ConsentEntry]:
        """Every answer to the privacy notice, oldest first."""
        rows = await self._db.execute(
            select(consents.c.version, consents.c.action, consents.c.channel, consents.c.at)
            .where(consents.c.member_id == member_id)
            .order_by(consents.c.at, consents.c.id)
        )
        return [ConsentEntry(r.version, r.action, r.channel, r.at) for r in rows]

    async def accounts(self, member_id: int) -> list[AccountEntry]:
        """The channel accounts linked to the member."""
        rows = await self._db.execute(
            select(identities)
            .where(identities.c.member_id == member_id)
            .order_by(identities.c.created_at, identities.c.channel)
        )
        return [AccountEntry(r.channel, r.external_id, r.created_at) for r in rows]

    async def roles(self, member_id: int) -> list[RoleEntry]:
        """Roles held or held once, oldest first."""
        rows = await self._db.execute(
            select(roles.c.kind, roles.c.granted_at, roles.c.revoked_at, units.c.code, units.c.name)
            .join(units, units.c.id == roles.c.unit_id)
            .where(roles.c.member_id == member_id)
            .order_by(roles.c.granted_at, roles.c.id)
        )
        return [RoleEntry(r.kind, r.code, r.name, r.granted_at, r.revoked_at) for r in rows]

    async def status_counts(self, member_id: int) -> dict[InitiativeStatus, int]:
        """How many initiatives the member authored, by status."""
        rows = await self._db.execute(
            select(initiatives.c.status, func.count().label("n"))
            .where(initiatives.c.author_id == member_id)
            .group_by(initiatives.c.status)
        )
        return {InitiativeStatus(row.status): int(row.n) for row in rows}

    async def authored(self, member_id: int, after_id: int, limit: int) -> list[Initiative]:
        """The next ``limit`` initiatives the member authored, by id, with their co-authors
        and files (two more statements for the whole batch)."""
        rows = await self._db.execute(
            _with_flags()
            .where(initiatives.c.author_id == member_id, initiatives.c.id > after_id)
            .order_by(initiatives.c.id)
            .limit(limit)
        )
        # A repository per batch: it remembers what it loaded, which a copy never saves.
        return await SqlInitiativeRepository(self._db)._with_children(rows.all())

    async def records(self, initiative_ids: Sequence[int]) -> dict[int, list[HistoryEntry]]:
        """The record of each initiative, oldest first, with who acted as /history names
        them."""
        found: dict[int, list[HistoryEntry]] = {i: [] for i in initiative_ids}
        if not initiative_ids:
            return found
        rows = await self._db.execute(
            select(events, members.c.full_name, members.c.display_name)
            .join(members, members.c.id == events.c.actor_id)
            .where(events.c.initiative_id.in_(list(initiative_ids)))
            .order_by(events.c.id)
        )
        for row in rows:
            found[row.initiative_id].append(HistoryEntry(
                action=row.action, version=row.version, at=row.at, actor_id=row.actor_id,
                actor_name=row.full_name or row.display_name, role=row.role, note=row.note,
            ))  # fmt: skip
        return found

    async def snapshots(self, initiative_ids: Sequence[int]) -> dict[int, list[SnapshotEntry]]:
        """The remembered versions of each initiative, oldest first."""
        found: dict[int, list[SnapshotEntry]] = {i: [] for i in initiative_ids}
        if not initiative_ids:
            return found
        rows = await self._db.execute(
            select(snapshots)
            .where(snapshots.c.initiative_id.in_(list(initiative_ids)))
            .order_by(snapshots.c.initiative_id, snapshots.c.version)
        )
        for row in rows:
            digests = {str(k): str(v) for k, v in row.digests.items()}
            found[row.initiative_id].append(SnapshotEntry(row.version, row.submitted_at, digests))
        return found

    async def names(self, member_ids: Sequence[int]) -> dict[int, str]:
        """Members' names as the chat shows them."""
        if not member_ids:
            return {}
        rows = await self._db.execute(
            select(members.c.id, members.c.full_name, members.c.display_name).where(
                members.c.id.in_(set(member_ids))
            )
        )
        return {r.id: r.full_name or r.display_name for r in rows}

    async def unit_names(self, unit_ids: Sequence[int]) -> dict[int, str]:
        """Units' names by id."""
        if not unit_ids:
            return {}
        rows = await self._db.execute(
            select(units.c.id, units.c.name).where(units.c.id.in_(set(unit_ids)))
        )
        return {r.id: r.name for r in rows}

    async def nudges(self, member_id: int) -> list[SentEntry]:
        """Nudges and reminders sent to the member, oldest first."""
        sent = [
            SentEntry(r.kind, r.day, r.sent_at)
            for table in (nudges, reminders)
            for r in await self._db.execute(
                select(table.c.kind, table.c.day, table.c.sent_at).where(
                    table.c.member_id == member_id
                )
            )
        ]
        return sorted(sent, key=lambda entry: entry.sent_at)

    async def commendations(self, member_id: int) -> list[dt.datetime]:
        """When weekly commendations were queued to the member, oldest first."""
        rows = await self._db.execute(
            select(broadcasts.c.created_at)
            .join(outgoing, outgoing.c.broadcast_id == broadcasts.c.id)
            .where(outgoing.c.member_id == member_id, broadcasts.c.kind == _COMMENDATION)
            .order_by(broadcasts.c.created_at)
        )
        return [row.created_at for row in rows]

    async def messages(self, member_id: int) -> dict[str, int]:
        """Messages queued to the member, counted by where they stand."""
        rows = await self._db.execute(
            select(outgoing.c.state, func.count().label("n"))
            .where(outgoing.c.member_id == member_id)
            .group_by(outgoing.c.state)
        )
        return {str(row.state): int(row.n) for row in rows}

    async def web_sessions(self, member_id: int) -> int:
        """How many sign-ins to the staff web view are on record."""
        count = await self._db.execute(
            select(func.count())
            .select_from(web_sessions)
            .where(web_sessions.c.member_id == member_id)
        )
        return int(count.scalar_one())
