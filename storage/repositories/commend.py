"""The week's figures for commendations, and the chats linked to units."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    MetaData,
    Row,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.schema import CreateTable, DropTable

from domain.delivery import OutgoingState
from domain.model import Approval, InitiativeStatus, LinkedChat, Unit
from domain.proxy import PROXY_CHANNEL
from storage.executor import Executor
from storage.repositories._base import (
    _unit,
    ancestors,
    events,
    initiatives,
    linked_chats,
    members,
    outgoing,
    units,
)
from storage.repositories.delivery import _ROW

# Who hears a commendation: a member of a unit, reachable on a channel the bot writes to,
# who did not turn announcements off; never someone whose data was erased.
_HEARS = (
    members.c.unit_id.is_not(None),
    members.c.nudges.is_(True),
    members.c.reachable.is_(True),
    members.c.channel != PROXY_CHANNEL,
    members.c.erased_at.is_(None),
)
# Each unit's commendation broadcast, for the length of one transaction.
_REACH = Table(
    "weekly_reach",
    MetaData(),
    Column("unit_id", BigInteger, primary_key=True),
    Column("broadcast_id", BigInteger, nullable=False),
    prefixes=["TEMPORARY"],
)


class SqlWeeklySource:
    """What a week's commendations are made of, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def approvals(
        self, start: dt.datetime, end: dt.datetime, under: int | None = None
    ) -> list[Approval]:
        """Initiatives approved in [start, end) and still approved."""
        approved = select(events.c.initiative_id).where(
            events.c.action == "approve", events.c.at >= start, events.c.at < end
        )
        query = (
            select(initiatives.c.id, initiatives.c.unit_id, initiatives.c.author_id,
                   initiatives.c.title, initiatives.c.benefit_vnd, initiatives.c.confidential,
                   initiatives.c.phase_id, members.c.full_name, members.c.display_name,
                   members.c.named)
            .join(members, members.c.id == initiatives.c.author_id)
            .where(initiatives.c.status == InitiativeStatus.APPROVED.value,
                   initiatives.c.id.in_(approved))
            .order_by(initiatives.c.id)
        )  # fmt: skip
        if under is not None:
            below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id == under)
            query = query.where(initiatives.c.unit_id.in_(below))
        return [
            Approval(r.id, r.unit_id, r.author_id, r.full_name or r.display_name,
                     bool(r.named), r.title or "", int(r.benefit_vnd or 0),
                     r.confidential is not False, r.phase_id)
            for r in await self._db.execute(query)
        ]  # fmt: skip

    async def parents(self) -> dict[int, int | None]:
        """Every unit with its parent."""
        rows = await self._db.execute(select(units.c.id, units.c.parent_id))
        return {int(r.id): r.parent_id for r in rows}

    async def units(self, unit_ids: Sequence[int]) -> dict[int, Unit]:
        """Units by id."""
        found: dict[int, Unit] = {}
        ids = sorted(set(unit_ids))
        for start in range(0, len(ids), 5000):
            rows = await self._db.execute(
                select(units).where(units.c.id.in_(ids[start : start + 5000]))
            )
            found.update((row.id, _unit(row)) for row in rows)
        return found

    async def audience(self) -> dict[int, int]:
        """Per unit, how many of its members the bot can reach who accept announcements."""
        rows = await self._db.execute(
            select(members.c.unit_id, func.count().label("hearing"))
            .where(*_HEARS)
            .group_by(members.c.unit_id)
        )
        return {int(row.unit_id): int(row.hearing) for row in rows}

    async def queue_members(self, broadcasts: Mapping[int, int]) -> int:
        """Queue each unit's broadcast to its members who hear, in one statement: the units'
        broadcasts go in a temporary table, the members never leave the database."""
        if not broadcasts:
            return 0
        await self._db.execute(DropTable(_REACH, if_exists=True))
        await self._db.execute(CreateTable(_REACH))
        pairs = iter(broadcasts.items())
        while chunk := [{"unit_id": u, "broadcast_id": b} for u, b in islice(pairs, 10_000)]:
            await self._db.execute(insert(_REACH), chunk)
        hearing = (
            select(_REACH.c.broadcast_id, members.c.id, members.c.external_id,
                   literal(OutgoingState.QUEUED.value), literal(0), literal(False),
                   members.c.channel)
            .join(_REACH, _REACH.c.unit_id == members.c.unit_id)
            .where(*_HEARS)
        )  # fmt: skip
        result = await self._db.execute(insert(outgoing).from_select(_ROW, hearing))
        await self._db.execute(DropTable(_REACH))
        return int(result.rowcount)


def _linked(row: Row[Any]) -> LinkedChat:
    return LinkedChat(row.id, row.unit_id, row.chat_id, row.title, bool(row.active),
                      row.linked_by_id, row.code_expires_at)  # fmt: skip


class SqlChatLinks:
    """Units' Telegram groups and channels, in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add_code(
        self,
        unit_id: int,
        code_hash: str,
        expires_at: dt.datetime,
        member_id: int,
        now: dt.datetime,
    ) -> None:
        """Record a one-time code that links a chat to the unit."""  # fmt: skip
        await self._db.execute(
            insert(linked_chats),
            {"unit_id": unit_id, "code_hash": code_hash, "code_expires_at": expires_at,
             "linked_by_id": member_id, "linked_at": now, "active": False},
        )  # fmt: skip

    async def by_code(self, code_hash: str) -> LinkedChat | None:
        """The pending link a code stands for."""
        query = select(linked_chats).where(linked_chats.c.code_hash == code_hash)
        row = (await self._db.execute(query)).first()
        return _linked(row) if row is not None else None

    async def link(
        self,
        unit_id: int,
        chat_id: str,
        title: str,
        member_id: int,
        now: dt.datetime,
        code_id: int | None,
    ) -> None:
        """Link a chat to a unit (moving it from another unit); a code is used up."""  # fmt: skip
        await self._db.execute(delete(linked_chats).where(linked_chats.c.chat_id == chat_id))
        values = {"unit_id": unit_id, "chat_id": chat_id, "title": title[:255],
                  "linked_by_id": member_id, "linked_at": now, "active": True,
                  "code_hash": None, "code_expires_at": None}  # fmt: skip
        if code_id is not None:
            await self._db.execute(
                update(linked_chats).where(linked_chats.c.id == code_id).values(**values)
            )
        else:
            await self._db.execute(insert(linked_chats), values)

    async def unlink(self, chat_id: str) -> int | None:
        """The chat is no longer linked; the unit it was linked to, if any."""
        link = await self.by_chat(chat_id)
        if link is None or not link.active:
            return None
        await self._db.execute(
            update(linked_chats).where(linked_chats.c.id == link.id).values(active=False)
        )
        return link.unit_id

    async def of_units(self, unit_ids: Sequence[int]) -> dict[int, list[LinkedChat]]:
        """The chats linked to these units (active ones), by unit."""
        found: dict[int, list[LinkedChat]] = {}
        rows = await self._db.execute(
            select(linked_chats)
            .where(linked_chats.c.unit_id.in_(set(unit_ids)), linked_chats.c.active.is_(True))
            .order_by(linked_chats.c.id)
        )
        for row in rows:
            found.setdefault(int(row.unit_id), []).append(_linked(row))
        return found

    async def by_chat(self, chat_id: str) -> LinkedChat | None:
        """The link of a chat, if it has one."""
        query = select(linked_chats).where(linked_chats.c.chat_id == chat_id)
        row = (await self._db.execute(query)).first()
        return _linked(row) if row is not None else None
