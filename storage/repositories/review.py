"""Where review cards were shown, and which reminders went out."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from domain.model import ReviewCard
from storage.executor import Executor
from storage.repositories._base import _by_dialect, cards, reminders

_REMIND = _by_dialect(lambda insert_: insert_(reminders).on_conflict_do_nothing())


class SqlReviewCardRepository:
    """Review cards in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(self, card: ReviewCard, now: dt.datetime) -> None:
        """Remember a card that was sent."""
        await self._db.execute(
            insert(cards),
            {
                "initiative_id": card.initiative_id,
                "version": card.version,
                "member_id": card.member_id,
                "chat_id": card.chat_id,
                "message_id": card.message_id,
                "created_at": now,
            },
        )

    async def of_initiative(self, initiative_id: int) -> list[ReviewCard]:
        """Every card shown for the initiative, oldest first."""
        rows = await self._db.execute(
            select(cards).where(cards.c.initiative_id == initiative_id).order_by(cards.c.id)
        )
        return [
            ReviewCard(row.initiative_id, row.version, row.member_id, row.chat_id, row.message_id)
            for row in rows
        ]


class SqlReminderLog:
    """Sent reminders in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def claim(self, member_id: int, kind: str, day: dt.date, now: dt.datetime) -> bool:
        """Record a reminder of this kind for the day; False when one was sent already."""
        values = {"member_id": member_id, "kind": kind, "day": day, "sent_at": now}
        result = await self._db.execute(_REMIND[self._db.dialect.name], values)
        return bool(result.rowcount == 1)
