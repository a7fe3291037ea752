"""The delivery queue: a broadcast and one row per recipient, sent at each channel's pace.

Every notification goes this way. A broadcast keeps what the core said (``domain.message``),
and each row its recipient's channel: that channel's sender renders it in the recipient's
language of the moment, for its own limits, once per language of the broadcast.

A row is marked "sending" in a committed transaction (its claim, with others of its
batch) before the message goes out, and "sent" once it went (recorded with others that
went meanwhile). A crash between the two leaves the row "sending"; on the next start such
rows are sent again. So at the instant of a crash, at most the messages a sender holds
(its slots) can arrive twice (a text cut in pieces, all its pieces), and none is ever
missed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from domain.message import encode_reply
from domain.model import ReviewCard
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.text import _
from domain.ui import UNREACHABLE, Capabilities, CardUpdate, Delivery, Reply

MAX_ATTEMPTS = 3
# Broadcast kinds that may go paid (Telegram's allow_paid_broadcast) when the union pays:
# announcements, weekly commendations (the message and the admins' picture) and nudges,
# which carry the milestone messages. Notifications of someone's action never do.
PAID_KINDS = frozenset({"announce", "weekly", "card", "nudge"})


class OutgoingState(StrEnum):
    """Where one recipient's message stands."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    BLOCKED = "blocked"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Outgoing:
    """A message to send to one chat: a member's, or a unit's group (``member_id`` None).

    What it says is its broadcast's (``DeliveryService.content``), rendered as it goes out
    in ``language``, the recipient's at that moment, by ``channel``'s sender.
    """

    id: int
    broadcast_id: int
    member_id: int | None
    chat_id: str
    attempts: int
    channel: str
    # None for a group or channel chat: it reads the bot's default language.
    language: str | None = None
    # A photo goes with the text as its caption: by file id, or a picture to upload.
    photo: str | None = None
    has_image: bool = False
    # The review card (initiative id, version) this message shows.
    card: tuple[int, int] | None = None
    # A notification of someone's action: sent before bulk, like a reply.
    urgent: bool = False
    # A message shown earlier in the chat (a review card), to replace rather than add to.
    edit: int | None = None
    # The broadcast's kind ("announce", "weekly", "notice"...).
    kind: str = ""

    @property
    def may_go_paid(self) -> bool:
        """Bulk of a kind the union may pay to send faster."""
        return not self.urgent and self.edit is None and self.kind in PAID_KINDS


@dataclass(frozen=True)
class BroadcastExtras:
    """What a broadcast may carry beyond its message and members."""

    # A channel file id of a photo, or a picture (PNG) to upload once.
    photo: str | None = None
    image: bytes | None = None
    # Group and channel chats to post to as well.
    chats: Sequence[str] = ()
    # The channel of those chats that no unit has linked (a linked chat is on the channel
    # of whoever linked it).
    chat_channel: str | None = None
    # A broadcast with a key is created once: a second attempt creates nothing.
    key: str | None = None
    card: tuple[int, int] | None = None
    # Review cards shown earlier, as (chat id, message id): each is edited in place, for
    # the member it was shown to, instead of a message going to ``member_ids``.
    edits: Sequence[tuple[str, int]] = ()
    # Sent before any bulk message: a notification of someone's action.
    urgent: bool = False


NO_EXTRAS = BroadcastExtras()


@dataclass(frozen=True)
class Report:
    """How a broadcast goes, for whoever started it."""

    delivery: Delivery
    # Where the progress message with the stop button is, once there is nothing to stop.
    stop_button: tuple[str, int] | None = None


async def queue(
    uow: UnitOfWork,
    deliveries: Sequence[Delivery],
    now: dt.datetime,
    urgent: bool,
    channels: Mapping[str, Capabilities],
    card_updates: Sequence[CardUpdate] = (),
) -> int:
    """Queue notifications and new faces of review cards in the caller's transaction, as
    the core said them: each is rendered for its reader when it goes out. Return how many
    were queued.

    Members who get the same message share one broadcast. A member on a channel that has
    no queue here (none running, or entered by a helper: no chat at all) gets nothing.
    """
    same: dict[tuple[str, tuple[int, int] | None, str | None], tuple[Reply, list[int]]] = {}
    for delivery in deliveries:
        if not channels.get(delivery.member.channel, UNREACHABLE).queued:
            continue
        reply = delivery.reply
        said = json.dumps(encode_reply(reply), ensure_ascii=False, sort_keys=True)
        same.setdefault((said, delivery.card, reply.photo), (reply, []))[1].append(
            delivery.member.id
        )
    kind = "notice" if urgent else "nudge"
    queued = 0
    for (_said, card, photo), (reply, member_ids) in same.items():
        extra = BroadcastExtras(photo=photo, card=card, urgent=urgent)
        await uow.outbox.create(kind, replace(reply, photo=None), member_ids, None, now, extra)
        queued += len(member_ids)
    # One broadcast per card: a member may have been shown the same card twice.
    for update in card_updates:
        extra = BroadcastExtras(edits=((update.chat_id, update.message_id),), urgent=True)
        await uow.outbox.create("edit", update.reply, [], None, now, extra)
        queued += 1
    return queued


class DeliveryService:
    """Queues broadcasts and records how each message fared."""

    def __init__(
        self,
        units_of_work: UnitOfWorkFactory,
        clock: Callable[[], dt.datetime],
        chat_channel: str | None = None,
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        # Where group and channel chats that no unit linked are (see BroadcastExtras).
        self._chat_channel = chat_channel

    async def broadcast(
        self,
        kind: str,
        message: Reply | str,
        member_ids: Sequence[int],
        sender_id: int | None,
        extra: BroadcastExtras = NO_EXTRAS,
    ) -> int | None:
        """Queue a message (a text as typed, or what the core says) to these members (those
        who can be reached); return its id, or None when a broadcast with the same key was
        made before."""
        if extra.chats and extra.chat_channel is None:
            extra = replace(extra, chat_channel=self._chat_channel)
        async with self._uow() as uow:
            broadcast_id = await uow.outbox.create(
                kind, message, member_ids, sender_id, self._clock(), extra
            )
            await uow.commit()
        return broadcast_id

    async def content(self, broadcast_id: int) -> Reply | None:
        """What a broadcast says, to render for each reader; None if it is gone."""
        async with self._uow() as uow:
            return await uow.outbox.content(broadcast_id)

    async def picture(self, outgoing: Outgoing) -> tuple[str | None, bytes | None]:
        """The photo to send with a message: a file id, else the picture to upload."""
        async with self._uow() as uow:
            return await uow.outbox.image(outgoing.broadcast_id)

    async def uploaded(self, outgoing: Outgoing, file_id: str) -> None:
        """A picture was uploaded once; the rest of the broadcast sends its file id."""
        async with self._uow() as uow:
            await uow.outbox.uploaded(outgoing.broadcast_id, file_id)
            await uow.commit()

    async def recover(self) -> int:
        """After a restart: messages caught mid-send go out again."""
        async with self._uow() as uow:
            count = await uow.outbox.recover()
            await uow.commit()
        return count

    async def claim(self, channel: str, limit: int, urgent: bool | None = None) -> list[Outgoing]:
        """Take the next messages of one channel to send, marked as being sent: urgent ones
        first, or only urgent or only bulk ones when asked."""
        async with self._uow() as uow:
            batch = await uow.outbox.claim(channel, limit, urgent)
            await uow.commit()
        return batch

    async def sent_all(self, went: Sequence[tuple[Outgoing, int | None]]) -> None:
        """Messages went out (each with the id of the message it made): recorded together,
        in one short transaction."""
        if not went:
            return
        now = self._clock()
        async with self._uow() as uow:
            await uow.outbox.finish_all([item.id for item, _ in went], OutgoingState.SENT, now)
            for item, message_id in went:
                if item.card is not None and message_id is not None and item.member_id:
                    initiative_id, version = item.card
                    await uow.cards.add(
                        ReviewCard(initiative_id, version, item.member_id, item.chat_id,
                                   message_id),
                        now,
                    )  # fmt: skip
            await uow.commit()

    async def sent(self, outgoing: Outgoing, message_id: int | None = None) -> None:
        """The message went out; a review card's place is recorded for later updates."""
        async with self._uow() as uow:
            await uow.outbox.finish(outgoing.id, OutgoingState.SENT, self._clock(), None)
            if outgoing.card is not None and message_id is not None and outgoing.member_id:
                initiative_id, version = outgoing.card
                await uow.cards.add(
                    ReviewCard(initiative_id, version, outgoing.member_id, outgoing.chat_id,
                               message_id),
                    self._clock(),
                )  # fmt: skip
            await uow.commit()

    async def shown(self, member_id: int, choices: Sequence[str]) -> None:
        """A notification with numbered choices reached a member of a channel without
        buttons: a number they type next picks one."""
        if not choices:
            return
        async with self._uow() as uow:
            await uow.conversations.show_choices(member_id, choices, self._clock())
            await uow.commit()

    async def blocked(self, outgoing: Outgoing) -> None:
        """The member blocked the bot: skip them from now on."""
        async with self._uow() as uow:
            await uow.outbox.finish(outgoing.id, OutgoingState.BLOCKED, self._clock(), "blocked")
            if outgoing.member_id is not None:
                await uow.outbox.unreachable(outgoing.member_id)
            else:  # the bot was removed from a unit's group or channel
                await uow.chats.unlink(outgoing.chat_id)
            await uow.commit()

    async def later(self, outgoing: Outgoing) -> None:
        """The channel asked to wait: back in the queue, the attempt not counted."""
        async with self._uow() as uow:
            await uow.outbox.requeue(outgoing.id, count_attempt=False)
            await uow.commit()

    async def failed(self, outgoing: Outgoing, error: str) -> None:
        """Another error: retried a few times, then recorded as failed."""
        if outgoing.attempts < MAX_ATTEMPTS:
            async with self._uow() as uow:
                await uow.outbox.requeue(outgoing.id, count_attempt=True, error=error[:200])
                await uow.commit()
            return
        await self._finish(outgoing, OutgoingState.FAILED, error[:200])

    async def refused(self, outgoing: Outgoing, error: str) -> None:
        """The channel refused for good (an edit of a message deleted since): not retried."""
        await self._finish(outgoing, OutgoingState.FAILED, error[:200])

    async def _finish(self, outgoing: Outgoing, state: OutgoingState, error: str | None) -> None:
        async with self._uow() as uow:
            await uow.outbox.finish(outgoing.id, state, self._clock(), error)
            await uow.commit()

    async def report(self, broadcast_id: int, final_only: bool) -> Report | None:
        """Progress of a broadcast for whoever started it: as it goes, and once when done
        (with the message whose stop button should go)."""
        shown = None
        async with self._uow() as uow:
            creator_id = await uow.outbox.sender_of(broadcast_id)
            if creator_id is None:
                return None
            tally = await uow.outbox.tally(broadcast_id)
            done = not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]
            if done:
                if not await uow.outbox.close(broadcast_id):
                    return None
                shown = await uow.outbox.progress_message(broadcast_id)
                await uow.commit()
            elif final_only:
                return None
            creator = (await uow.members.by_ids([creator_id])).get(creator_id)
        if creator is None:
            return None
        total = sum(tally.values())
        if done:
            text = _("✅ The announcement is done: {sent} delivered, {blocked} have blocked the "
                     "bot, {failed} failed, {cancelled} stopped.",
                     sent=tally[OutgoingState.SENT], blocked=tally[OutgoingState.BLOCKED],
                     failed=tally[OutgoingState.FAILED],
                     cancelled=tally[OutgoingState.CANCELLED])  # fmt: skip
        else:
            finished = total - tally[OutgoingState.QUEUED] - tally[OutgoingState.SENDING]
            text = _("📣 Sent {done}/{total}", done=finished, total=total)
        return Report(Delivery(creator, Reply((text,))), shown)

    async def show_progress(self, broadcast_id: int, chat_id: str, message_id: int) -> bool:
        """The progress message was shown there; False when the broadcast has ended
        already (then its stop button should go at once)."""
        async with self._uow() as uow:
            running = await uow.outbox.show_progress(broadcast_id, chat_id, message_id)
            await uow.commit()
        return running

    async def reachable(self, channel: str, external_id: str, reachable: bool) -> None:
        """The member blocked the bot (skip them) or came back (send to them again)."""
        async with self._uow() as uow:
            await uow.outbox.set_reachable(channel, external_id, reachable)
            await uow.commit()

    async def backlog(self, urgent_only: bool = False) -> int:
        """How many messages are still to send (only notifications, if asked)."""
        async with self._uow() as uow:
            return await uow.outbox.backlog(urgent_only)

    async def tally(self, broadcast_id: int) -> dict[OutgoingState, int]:
        """How many messages of a broadcast are in each state."""
        async with self._uow() as uow:
            return await uow.outbox.tally(broadcast_id)
