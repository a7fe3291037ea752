"""The record of consents to the privacy notice, and forgetting a newcomer who refused."""

from __future__ import annotations

from sqlalchemy import delete, exists, insert, or_, select

from domain.ports_privacy import Consent
from storage.executor import Executor
from storage.repositories._base import (
    broadcasts,
    cards,
    consents,
    conversations,
    erasures,
    events,
    identities,
    initiatives,
    invites,
    link_attempts,
    link_codes,
    linked_chats,
    members,
    nudges,
    outgoing,
    reminders,
    roles,
    web_logins,
    web_sessions,
)


class SqlConsentLog:
    """Consents in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def record(self, consent: Consent) -> None:
        """Add an answer to the record."""
        await self._db.execute(
            insert(consents).values(
                member_id=consent.member_id, version=consent.version,
                action=consent.action.value, channel=consent.channel,
                stated_by_id=consent.stated_by_id, at=consent.at,
            )
        )  # fmt: skip

    async def forget_newcomer(self, member_id: int) -> bool:
        """Delete a member who holds nothing, with their dialog, accounts and the messages
        queued to them; False, and nothing deleted, when anything refers to them."""
        member = members.c.id == member_id
        holds = select(members.c.id).where(member, or_(
            members.c.unit_id.is_not(None),
            members.c.full_name.is_not(None),
            exists().where(initiatives.c.author_id == member_id),
            exists().where(initiatives.c.entered_by_id == member_id),
            exists().where(events.c.actor_id == member_id),
            exists().where(roles.c.member_id == member_id),
            exists().where(roles.c.granted_by_id == member_id),
            exists().where(roles.c.revoked_by_id == member_id),
            exists().where(invites.c.created_by_id == member_id),
            exists().where(invites.c.used_by_id == member_id),
            exists().where(consents.c.member_id == member_id),
            exists().where(consents.c.stated_by_id == member_id),
            exists().where(erasures.c.member_id == member_id),
            exists().where(cards.c.member_id == member_id),
            exists().where(reminders.c.member_id == member_id),
            exists().where(nudges.c.member_id == member_id),
            exists().where(broadcasts.c.created_by_id == member_id),
            exists().where(linked_chats.c.linked_by_id == member_id),
        ))  # fmt: skip
        if (await self._db.execute(holds)).first() is not None:
            return False
        for table in (conversations, identities, link_codes, link_attempts, outgoing,
                      web_logins, web_sessions):  # fmt: skip
            await self._db.execute(delete(table).where(table.c.member_id == member_id))
        await self._db.execute(delete(members).where(member))
        return True
