"""Members and their dialog state, each member serialised across processes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy import text as sql_text

from domain.model import Conversation, DialogState, Member
from domain.parsing import normalize_search
from domain.proxy import PROXY_CHANNEL
from storage.executor import Executor
from storage.repositories._base import (
    _by_dialect,
    _member,
    _new_id,
    ancestors,
    conversations,
    identities,
    members,
)

# The statements of a dialog step are built once: building and hashing a statement cost
# more CPU than running it. Values travel as parameters; an UPDATE executed with a
# parameter dict sets the columns the dict names.
_MEMBER_WITH_DIALOG = (
    select(
        members,
        conversations.c.state.label("dialog_state"),
        conversations.c.draft_id.label("dialog_draft_id"),
        conversations.c.data.label("dialog_data"),
        conversations.c.choices.label("dialog_choices"),
    )
    .join(identities, identities.c.member_id == members.c.id)
    .outerjoin(conversations, conversations.c.member_id == members.c.id)
    .where(identities.c.channel == bindparam("b_channel"))
    .where(identities.c.external_id == bindparam("b_external_id"))
)


_UPDATE_MEMBER = update(members).where(members.c.id == bindparam("b_id"))


def _conversation_upsert(insert_: Any) -> Any:
    statement = insert_(conversations)
    return statement.on_conflict_do_update(
        index_elements=["member_id"],
        set_={
            name: statement.excluded[name]
            for name in ("state", "draft_id", "data", "choices", "updated_at")
        },
    )


_SAVE_CONVERSATION = _by_dialect(_conversation_upsert)


def search_name(member: Member) -> str:
    """The name the member is shown by, folded as a search folds what is typed."""
    return normalize_search(member.full_name or member.display_name or "")


class Prefetched:
    """Rows one statement brought for another repository of the same unit of work."""

    def __init__(self) -> None:
        self.conversations: dict[int, Conversation] = {}


def _conversation(
    member_id: int, state: str | None, draft_id: int | None, data: Any, choices: Any
) -> Conversation:
    if state is None:
        return Conversation(member_id=member_id)
    return Conversation(
        member_id=member_id, state=DialogState(state), draft_id=draft_id, data=dict(data or {}),
        choices=tuple(str(c) for c in choices or ()),
    )  # fmt: skip


# hashtextextended gives a 64-bit key: two members share a lock only by a rare collision,
# which costs a little waiting and nothing else. The key is the member an account leads
# to, so the linked accounts of one person share it; an account not seen yet locks
# itself, so its first events make one member.
_MEMBER_LOCK = sql_text(
    "SELECT pg_advisory_xact_lock(hashtextextended(coalesce("
    "(SELECT 'm:' || member_id FROM identities"
    " WHERE channel = CAST(:channel AS text) AND external_id = CAST(:external_id AS text)),"
    " 'a:' || CAST(:channel AS text) || ':' || CAST(:external_id AS text)), 0))"
)


class SqlMemberRepository:
    """Members in SQL."""

    def __init__(self, connection: Executor, prefetched: Prefetched) -> None:
        self._db = connection
        self._prefetched = prefetched

    async def serialize(self, channel: str, external_id: str) -> None:
        """A transaction-scoped advisory lock on PostgreSQL, where several processes may
        handle one member's events; SQLite has one process and one writer already."""
        if self._db.dialect.name == "postgresql":
            await self._db.execute(_MEMBER_LOCK, {"channel": channel, "external_id": external_id})

    async def by_external_id(self, channel: str, external_id: str) -> Member | None:
        """The member this channel account leads to (their own, or one linked to it)."""
        # The dialog state is read with the member: every event needs both.
        parameters = {"b_channel": channel, "b_external_id": external_id}
        row = (await self._db.execute(_MEMBER_WITH_DIALOG, parameters)).first()
        if row is None:
            return None
        self._prefetched.conversations[row.id] = _conversation(
            row.id, row.dialog_state, row.dialog_draft_id, row.dialog_data, row.dialog_choices
        )
        return _member(row)

    async def by_ids(self, member_ids: Sequence[int]) -> dict[int, Member]:
        """Members by id."""
        if not member_ids:
            return {}
        rows = await self._db.execute(select(members).where(members.c.id.in_(set(member_ids))))
        return {row.id: _member(row) for row in rows}

    async def add(self, member: Member, now: dt.datetime) -> Member:
        """Store a new member and return it with its id."""
        result = await self._db.execute(
            insert(members).values(
                channel=member.channel,
                external_id=member.external_id,
                display_name=member.display_name,
                language=member.language,
                full_name=member.full_name,
                search_name=search_name(member),
                phone=member.phone,
                unit_id=member.unit_id,
                nudges=member.nudges,
                named=member.named,
                consent_version=member.consent_version,
                created_at=now,
                updated_at=now,
            )
        )
        member.id = _new_id(result)
        await self._db.execute(
            insert(identities).values(
                channel=member.channel, external_id=member.external_id, member_id=member.id,
                created_at=now,
            )
        )  # fmt: skip
        return member

    async def save(self, member: Member, now: dt.datetime) -> None:
        """Write a member's changes."""
        await self._db.execute(
            _UPDATE_MEMBER,
            {
                "b_id": member.id,
                # The account used last: where the bot writes to a member with several.
                "channel": member.channel,
                "external_id": member.external_id,
                "display_name": member.display_name,
                "language": member.language,
                "full_name": member.full_name,
                "search_name": search_name(member),
                "phone": member.phone,
                "unit_id": member.unit_id,
                "nudges": member.nudges,
                "named": member.named,
                "reachable": member.reachable,
                "consent_version": member.consent_version,
                "updated_at": now,
            },
        )

    async def in_units(self, unit_ids: Sequence[int], limit: int) -> list[Member]:
        """Members of these units, by name."""
        rows = await self._db.execute(
            select(members)
            .where(members.c.unit_id.in_(set(unit_ids)), members.c.full_name.is_not(None))
            .order_by(members.c.full_name)
            .limit(limit)
        )
        return [_member(row) for row in rows]

    async def ids_below(self, unit_ids: Sequence[int]) -> list[int]:
        """Ids of every member in the subtrees of these units."""
        below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id.in_(set(unit_ids)))
        rows = await self._db.execute(select(members.c.id).where(members.c.unit_id.in_(below)))
        return [int(row.id) for row in rows]

    async def reachable_by_channel(self, member_ids: Sequence[int]) -> dict[str, int]:
        """How many of these members each channel can write to now (as the delivery queue
        picks them: reachable, with a chat of their own)."""
        ids = sorted(set(member_ids))
        counts: dict[str, int] = {}
        # In chunks: SQLite takes at most 32.766 parameters in a statement.
        for start in range(0, len(ids), 5000):
            rows = await self._db.execute(
                select(members.c.channel, func.count().label("members"))
                .where(members.c.id.in_(ids[start : start + 5000]),
                       members.c.reachable.is_(True), members.c.channel != PROXY_CHANNEL)
                .group_by(members.c.channel)
            )  # fmt: skip
            for row in rows:
                counts[row.channel] = counts.get(row.channel, 0) + int(row.members)
        return counts


class SqlConversationRepository:
    """Dialog states in SQL."""

    def __init__(self, connection: Executor, prefetched: Prefetched) -> None:
        self._db = connection
        self._prefetched = prefetched

    async def get(self, member_id: int) -> Conversation:
        """The member's dialog state (idle if none stored)."""
        if member_id in self._prefetched.conversations:
            return self._prefetched.conversations.pop(member_id)
        query = select(conversations).where(conversations.c.member_id == member_id)
        row = (await self._db.execute(query)).first()
        if row is None:
            return Conversation(member_id=member_id)
        return _conversation(member_id, row.state, row.draft_id, row.data, row.choices)

    async def show_choices(self, member_id: int, choices: Sequence[str], now: dt.datetime) -> None:
        """Remember the numbered choices a notification just showed; a member with no
        dialog row yet gets an idle one."""
        conversation = await self.get(member_id)
        conversation.choices = tuple(choices)
        await self.save(conversation, now)

    async def save(self, conversation: Conversation, now: dt.datetime) -> None:
        """Write the dialog state."""
        await self._db.execute(
            _SAVE_CONVERSATION[self._db.dialect.name],
            {
                "member_id": conversation.member_id,
                "state": conversation.state.value,
                "draft_id": conversation.draft_id,
                "data": dict(conversation.data),
                "choices": list(conversation.choices) or None,
                "updated_at": now,
            },
        )
