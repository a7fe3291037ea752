"""Linked accounts: one-time codes, wrong tries, and one member absorbing another."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, or_, select, update

from domain.model import InitiativeStatus
from storage.executor import Executor
from storage.repositories._base import (
    conversations,
    identities,
    initiatives,
    link_attempts,
    link_codes,
    members,
    roles,
    take_once,
)

# The channel of a member absorbed into another: no account leads to it any more.
ABSORBED_CHANNEL = "absorbed"


class SqlAccountLinks:
    """Link codes and identities in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def issue(self, member_id: int, code_hash: str, expires_at: dt.datetime,
                    now: dt.datetime) -> None:  # fmt: skip
        """Store a new code for the member, replacing theirs; expired codes go."""
        await self._db.execute(
            delete(link_codes).where(
                or_(link_codes.c.member_id == member_id, link_codes.c.expires_at <= now)
            )
        )
        await self._db.execute(
            insert(link_codes).values(
                code_hash=code_hash, member_id=member_id, expires_at=expires_at
            )
        )

    async def taken(self, code_hash: str, now: dt.datetime) -> int | None:
        """The member who was shown this code, if it is still valid; it is used up."""
        return await take_once(self._db, link_codes, link_codes.c.code_hash, code_hash, now)

    async def failures(self, member_id: int, since: dt.datetime) -> int:
        """Wrong codes the member typed since then."""
        row = (
            await self._db.execute(
                select(link_attempts.c.failures).where(
                    link_attempts.c.member_id == member_id, link_attempts.c.since > since
                )
            )
        ).first()
        return int(row.failures) if row is not None else 0

    async def failed(self, member_id: int, since: dt.datetime, now: dt.datetime) -> None:
        """Count one more wrong code; tries before ``since`` are forgotten."""
        row = (
            await self._db.execute(
                select(link_attempts).where(link_attempts.c.member_id == member_id)
            )
        ).first()
        counting = row is not None and row.since > since
        await self._db.execute(delete(link_attempts).where(link_attempts.c.member_id == member_id))
        await self._db.execute(
            insert(link_attempts).values(
                member_id=member_id,
                failures=row.failures + 1 if row is not None and counting else 1,
                since=row.since if row is not None and counting else now,
            )
        )

    async def channels(self, member_id: int) -> set[str]:
        """The channels of the member's accounts."""
        rows = await self._db.execute(
            select(identities.c.channel).where(identities.c.member_id == member_id)
        )
        return {str(row.channel) for row in rows}

    async def has_record(self, member_id: int) -> bool:
        """Whether the member submitted an initiative (for themselves or someone) or holds
        a role: what makes a member more than a profile and drafts."""
        submitted = select(initiatives.c.id).where(
            or_(initiatives.c.author_id == member_id, initiatives.c.entered_by_id == member_id),
            initiatives.c.status.not_in([InitiativeStatus.DRAFT, InitiativeStatus.DISCARDED]),
        )
        held = select(roles.c.id).where(
            roles.c.member_id == member_id, roles.c.revoked_at.is_(None)
        )
        for query in (submitted, held):
            if (await self._db.execute(query.limit(1))).first() is not None:
                return True
        return False

    async def absorb(self, absorbed_id: int, survivor_id: int, now: dt.datetime) -> None:
        """Give the absorbed member's accounts and drafts to the survivor. The absorbed
        row stays, emptied, for what refers to it (messages already queued, history)."""
        await self._db.execute(
            update(identities)
            .where(identities.c.member_id == absorbed_id)
            .values(member_id=survivor_id)
        )
        for column in (initiatives.c.author_id, initiatives.c.entered_by_id):
            await self._db.execute(
                update(initiatives).where(column == absorbed_id).values({column.name: survivor_id})
            )
        for table in (conversations, link_codes, link_attempts):
            await self._db.execute(delete(table).where(table.c.member_id == absorbed_id))
        await self._db.execute(
            update(members)
            .where(members.c.id == absorbed_id)
            .values(
                channel=ABSORBED_CHANNEL, external_id=str(absorbed_id),
                display_name="", full_name=None, search_name="", phone=None, unit_id=None,
                reachable=False,
                updated_at=now,
            )
        )  # fmt: skip
