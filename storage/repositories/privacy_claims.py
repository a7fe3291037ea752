"""The accounts of a member a helper entered, claimed by the member or handed back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select

from domain.ports_privacy import ConsentAction
from storage.executor import Executor
from storage.repositories._base import consents, identities


class SqlClaims:
    """Claims of helper-entered records in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def stated_version(self, member_id: int) -> str | None:
        """The version of a helper's statement, when it is the member's latest answer but
        refusals (one who claimed, refused and claims again is still on the statement)."""
        row = (
            await self._db.execute(
                select(consents.c.action, consents.c.version)
                .where(
                    consents.c.member_id == member_id,
                    consents.c.action != ConsentAction.REFUSED,
                )
                .order_by(consents.c.at.desc(), consents.c.id.desc())
                .limit(1)
            )
        ).first()
        return str(row.version) if row is not None and row.action == ConsentAction.STATED else None

    async def drop_stand_in(self, member_id: int, channel: str) -> None:
        """Forget the stand-in identity: the member's own accounts lead to them now."""
        await self._db.execute(
            delete(identities).where(
                identities.c.member_id == member_id, identities.c.channel == channel
            )
        )

    async def hand_back(self, member_id: int, stand_in: tuple[str, str], now: dt.datetime) -> None:
        """Detach the member's accounts (their next message starts afresh) and restore
        the stand-in identity."""
        await self._db.execute(delete(identities).where(identities.c.member_id == member_id))
        channel, external_id = stand_in
        await self._db.execute(
            insert(identities).values(
                channel=channel, external_id=external_id, member_id=member_id, created_at=now
            )
        )
