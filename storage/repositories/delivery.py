"""The delivery queue: broadcasts and the messages waiting to be sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, func, insert, literal, select, update

from domain.delivery import BroadcastExtras, Outgoing, OutgoingState
from domain.message import decode_reply, encode_reply, rendered
from domain.ports_lists import SentAnnouncement
from domain.proxy import PROXY_CHANNEL
from domain.text import verbatim
from domain.ui import Reply
from storage.executor import Executor
from storage.repositories._base import (
    _new_id,
    broadcasts,
    cards,
    linked_chats,
    members,
    outgoing,
)

_ROW = ["broadcast_id", "member_id", "chat_id", "state", "attempts", "urgent", "channel"]


class SqlOutbox:
    """The delivery queue in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def create(
        self,
        kind: str,
        message: Reply | str,
        member_ids: Sequence[int],
        sender_id: int | None,
        now: dt.datetime,
        extra: BroadcastExtras,
    ) -> int | None:
        """Queue a message (a text as typed, or what the core says, kept untranslated) to
        the reachable members among these (and to ``extra.chats``, or as ``extra.edits``);
        return the broadcast id, or None when one with ``extra.key`` exists already."""
        if extra.key is not None and await self.keyed(extra.key):
            return None
        said = Reply((verbatim(message),)) if isinstance(message, str) else message
        result = await self._db.execute(
            insert(broadcasts),
            {"kind": kind, "created_by_id": sender_id, "message": encode_reply(said),
             "text": "", "status": "running", "created_at": now, "photo": extra.photo,
             "image": extra.image, "key": extra.key,
             "card_initiative_id": extra.card[0] if extra.card else None,
             "card_version": extra.card[1] if extra.card else None},
        )  # fmt: skip
        broadcast_id = _new_id(result)
        await self._to_members(broadcast_id, member_ids, extra.urgent)
        await self._to_chats(broadcast_id, extra)
        for chat_id, message_id in extra.edits:
            await self._edit(broadcast_id, chat_id, message_id, extra.urgent)
        return broadcast_id

    async def _to_members(self, broadcast_id: int, member_ids: Sequence[int], urgent: bool) -> None:
        """A row for each member who can be reached, on their channel; someone a helper
        entered has no chat at all."""
        ids = sorted(set(member_ids))
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            reachable = select(
                literal(broadcast_id), members.c.id, members.c.external_id,
                literal(OutgoingState.QUEUED.value), literal(0), literal(urgent),
                members.c.channel,
            ).where(
                members.c.id.in_(chunk), members.c.reachable.is_(True),
                members.c.channel != PROXY_CHANNEL,
            )  # fmt: skip
            await self._db.execute(insert(outgoing).from_select(_ROW, reachable))

    async def _to_chats(self, broadcast_id: int, extra: BroadcastExtras) -> None:
        """A row for each group or channel chat, on the channel of whoever linked it (or the
        one given); a chat on no known channel is left out."""
        if not extra.chats:
            return
        chats = sorted(set(extra.chats))
        linked = await self._db.execute(
            select(linked_chats.c.chat_id, members.c.channel)
            .join(members, members.c.id == linked_chats.c.linked_by_id)
            .where(linked_chats.c.chat_id.in_(chats))
        )
        channels = {str(row.chat_id): str(row.channel) for row in linked}
        rows = [{"broadcast_id": broadcast_id, "member_id": None, "chat_id": chat,
                 "state": OutgoingState.QUEUED.value, "attempts": 0, "urgent": extra.urgent,
                 "channel": channels.get(chat, extra.chat_channel)}
                for chat in chats if channels.get(chat, extra.chat_channel)]  # fmt: skip
        if rows:
            await self._db.execute(insert(outgoing), rows)

    async def _edit(self, broadcast_id: int, chat_id: str, message_id: int, urgent: bool) -> None:
        """A row that replaces a review card shown earlier, for the member it was shown to."""
        shown = (
            select(
                literal(broadcast_id), cards.c.member_id, literal(chat_id),
                literal(OutgoingState.QUEUED.value), literal(0), literal(urgent),
                members.c.channel, literal(message_id),
            )
            .join(members, members.c.id == cards.c.member_id)
            .where(cards.c.chat_id == chat_id, cards.c.message_id == message_id,
                   members.c.reachable.is_(True))
            .limit(1)
        )  # fmt: skip
        await self._db.execute(insert(outgoing).from_select([*_ROW, "edit_message_id"], shown))

    async def claim(self, channel: str, limit: int, urgent: bool | None = None) -> list[Outgoing]:
        """Mark up to ``limit`` queued messages of a channel as being sent and return them:
        the urgent ones (notifications) first, then bulk in the order queued (or only one
        of the two)."""
        ids: list[int] = []
        for wanted in (True, False) if urgent is None else (urgent,):
            ids += (
                await self._db.execute(
                    select(outgoing.c.id)
                    .where(outgoing.c.state == OutgoingState.QUEUED.value,
                           outgoing.c.channel == channel, outgoing.c.urgent == wanted)
                    .order_by(outgoing.c.id)
                    .limit(limit - len(ids))
                    .with_for_update(skip_locked=True)
                )
            ).scalars()  # fmt: skip
            if ids:
                break
        if not ids:
            return []
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id.in_(ids))
            .values(state=OutgoingState.SENDING.value, attempts=outgoing.c.attempts + 1)
        )
        rows = await self._db.execute(
            select(outgoing, broadcasts.c.photo, broadcasts.c.kind, broadcasts.c.card_initiative_id,
                   broadcasts.c.card_version, members.c.language,
                   broadcasts.c.image.is_not(None).label("has_image"))
            .join(broadcasts, broadcasts.c.id == outgoing.c.broadcast_id)
            .outerjoin(members, members.c.id == outgoing.c.member_id)
            .where(outgoing.c.id.in_(ids))
            .order_by(outgoing.c.id)
        )  # fmt: skip
        return [_outgoing(row) for row in rows]

    async def content(self, broadcast_id: int) -> Reply | None:
        """What a broadcast says; None if there is no such broadcast."""
        query = select(broadcasts.c.message, broadcasts.c.text, broadcasts.c.buttons).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._db.execute(query)).first()
        if row is None:
            return None
        if row.message is None:  # queued before messages were kept untranslated
            return rendered(row.text, row.buttons)
        return decode_reply(row.message)

    async def keyed(self, key: str) -> bool:
        """Whether a broadcast with this key was made."""
        query = select(broadcasts.c.id).where(broadcasts.c.key == key)
        return (await self._db.execute(query)).first() is not None

    async def image(self, broadcast_id: int) -> tuple[str | None, bytes | None]:
        """The broadcast's photo: its file id once uploaded, else the picture to upload."""
        query = select(broadcasts.c.photo, broadcasts.c.image).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._db.execute(query)).first()
        return (row.photo, row.image) if row is not None else (None, None)

    async def uploaded(self, broadcast_id: int, file_id: str) -> None:
        """The picture is on the channel's servers: send its file id from now on. Its
        bytes stay for readers on a channel that cannot use that id (Zalo's)."""
        await self._db.execute(
            update(broadcasts).where(broadcasts.c.id == broadcast_id).values(photo=file_id)
        )

    async def finish(
        self, outgoing_id: int, state: OutgoingState, now: dt.datetime, error: str | None
    ) -> None:
        """Record how a message ended."""
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id == outgoing_id)
            .values(state=state.value, sent_at=now, error=error)
        )

    async def finish_all(
        self, outgoing_ids: Sequence[int], state: OutgoingState, now: dt.datetime
    ) -> None:
        """Record that these messages ended alike."""
        for start in range(0, len(outgoing_ids), 1000):
            await self._db.execute(
                update(outgoing)
                .where(outgoing.c.id.in_(outgoing_ids[start : start + 1000]))
                .values(state=state.value, sent_at=now, error=None)
            )

    async def requeue(
        self, outgoing_id: int, count_attempt: bool, error: str | None = None
    ) -> None:
        """Put a message back in the queue."""
        attempts = outgoing.c.attempts if count_attempt else outgoing.c.attempts - 1
        await self._db.execute(
            update(outgoing)
            .where(outgoing.c.id == outgoing_id)
            .values(state=OutgoingState.QUEUED.value, attempts=attempts, error=error)
        )

    async def recover(self) -> int:
        """Put messages left mid-send by a crash back in the queue; return how many."""
        result = await self._db.execute(
            update(outgoing)
            .where(outgoing.c.state == OutgoingState.SENDING.value)
            .values(state=OutgoingState.QUEUED.value)
        )
        return int(result.rowcount or 0)

    async def unreachable(self, member_id: int) -> None:
        """The member blocked the bot."""
        await self._db.execute(
            update(members).where(members.c.id == member_id).values(reachable=False)
        )

    async def tally(self, broadcast_id: int) -> dict[OutgoingState, int]:
        """How many messages of a broadcast are in each state."""
        rows = await self._db.execute(
            select(outgoing.c.state, func.count())
            .where(outgoing.c.broadcast_id == broadcast_id)
            .group_by(outgoing.c.state)
        )
        found = {OutgoingState(state): int(count) for state, count in map(tuple, rows)}
        return {state: found.get(state, 0) for state in OutgoingState}

    async def backlog(self, urgent_only: bool = False) -> int:
        """How many messages of all broadcasts are still to send."""
        waiting = [OutgoingState.QUEUED.value, OutgoingState.SENDING.value]
        query = select(func.count()).select_from(outgoing).where(outgoing.c.state.in_(waiting))
        if urgent_only:
            query = query.where(outgoing.c.urgent.is_(True))
        return int((await self._db.execute(query)).scalar_one())

    async def cancel(self, broadcast_id: int) -> int:
        """Stop a broadcast: its queued messages are not sent; return how many."""
        await self._db.execute(
            update(broadcasts).where(broadcasts.c.id == broadcast_id).values(status="cancelled")
        )
        result = await self._db.execute(
            update(outgoing)
            .where(
                outgoing.c.broadcast_id == broadcast_id,
                outgoing.c.state == OutgoingState.QUEUED.value,
            )
            .values(state=OutgoingState.CANCELLED.value)
        )
        return int(result.rowcount or 0)

    async def sent_by(
        self, member_id: int, kind: str, offset: int, limit: int
    ) -> tuple[list[SentAnnouncement], int]:
        """A page of the broadcasts of a kind a member started, newest first, each with
        its messages counted by state, and how many there are."""
        mine = (broadcasts.c.created_by_id == member_id, broadcasts.c.kind == kind)
        total = (
            await self._db.execute(select(func.count()).select_from(broadcasts).where(*mine))
        ).scalar_one()
        rows = (
            await self._db.execute(
                select(broadcasts.c.id, broadcasts.c.message, broadcasts.c.text,
                       broadcasts.c.buttons, broadcasts.c.created_at, broadcasts.c.status)
                .where(*mine).order_by(broadcasts.c.id.desc()).offset(offset).limit(limit)
            )
        ).all()  # fmt: skip
        counted: dict[int, dict[OutgoingState, int]] = {
            row.id: dict.fromkeys(OutgoingState, 0) for row in rows
        }
        if counted:
            rows_by_state = await self._db.execute(
                select(outgoing.c.broadcast_id, outgoing.c.state, func.count())
                .where(outgoing.c.broadcast_id.in_(counted))
                .group_by(outgoing.c.broadcast_id, outgoing.c.state)
            )
            for broadcast_id, state, count in map(tuple, rows_by_state):
                counted[broadcast_id][OutgoingState(state)] = int(count)
        return [
            SentAnnouncement(row.id, rendered(row.text, row.buttons) if row.message is None
                             else decode_reply(row.message), row.created_at, row.status,
                             counted[row.id])
            for row in rows
        ], int(total)  # fmt: skip

    async def sender_of(self, broadcast_id: int) -> int | None:
        """Who started a broadcast."""
        query = select(broadcasts.c.created_by_id).where(broadcasts.c.id == broadcast_id)
        value = (await self._db.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def close(self, broadcast_id: int) -> bool:
        """Mark a broadcast done; False when it was already closed."""
        result = await self._db.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id, broadcasts.c.status == "running")
            .values(status="done")
        )
        return bool(result.rowcount == 1)

    async def show_progress(self, broadcast_id: int, chat_id: str, message_id: int) -> bool:
        """Remember where the broadcast's progress message is; False once it has ended.

        One UPDATE that returns the status: racing ``close``, it either comes first (and
        the sender finds the message) or sees the broadcast ended (and its caller acts)."""
        result = await self._db.execute(
            update(broadcasts)
            .where(broadcasts.c.id == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
            .returning(broadcasts.c.status)
        )
        return result.scalar_one_or_none() == "running"

    async def progress_message(self, broadcast_id: int) -> tuple[str, int] | None:
        """Where the broadcast's progress message is, if it was remembered."""
        query = select(broadcasts.c.progress_chat_id, broadcasts.c.progress_message_id).where(
            broadcasts.c.id == broadcast_id
        )
        row = (await self._db.execute(query)).first()
        if row is None or row.progress_chat_id is None or row.progress_message_id is None:
            return None
        return str(row.progress_chat_id), int(row.progress_message_id)

    async def set_reachable(self, channel: str, external_id: str, reachable: bool) -> bool:
        """A member blocked or unblocked the bot; False for someone unknown."""
        result = await self._db.execute(
            update(members)
            .where(members.c.channel == channel, members.c.external_id == external_id)
            .values(reachable=reachable)
        )
        return bool(result.rowcount)


def _outgoing(row: Row[Any]) -> Outgoing:
    card = ((int(row.card_initiative_id), int(row.card_version))
            if row.card_initiative_id is not None else None)  # fmt: skip
    return Outgoing(
        row.id, row.broadcast_id, row.member_id, row.chat_id, row.attempts, row.channel,
        row.language, row.photo, bool(row.has_image), card, bool(row.urgent),
        row.edit_message_id, row.kind,
    )  # fmt: skip
