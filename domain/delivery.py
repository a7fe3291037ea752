"""The delivery queue: a broadcast and one row per recipient, sent at Telegram's pace.

A row is marked "sending" in its own committed transaction before the message goes
out and "sent" right after. A crash between the two leaves the row "sending"; on the
next start such rows are sent again. So at the instant of a crash, at most one message
per sending slot can arrive twice, and none is ever missed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.model import ReviewCard
from domain.ports import Renderer, UnitOfWork, UnitOfWorkFactory
from domain.text import _
from domain.ui import UNREACHABLE, Capabilities, Delivery, Reply

MAX_ATTEMPTS = 3


# Inline buttons as rows of (label in the recipient's language, code).
Buttons = tuple[tuple[tuple[str, str], ...], ...]


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
    """A message to send to one chat: a member's, or a unit's group (``member_id`` None)."""

    id: int
    broadcast_id: int
    member_id: int | None
    chat_id: str
    text: str
    attempts: int
    # A photo goes with the text as its caption: by file id, or a picture to upload.
    photo: str | None = None
    has_image: bool = False
    buttons: Buttons = ()
    # The review card (initiative id, version) this message shows.
    card: tuple[int, int] | None = None
    # A notification of someone's action: sent before bulk, like a reply.
    urgent: bool = False


@dataclass(frozen=True)
class BroadcastExtras:
    """What a broadcast may carry beyond text and members."""

    # A channel file id of a photo, or a picture (PNG) to upload once.
    photo: str | None = None
    image: bytes | None = None
    # Group and channel chats to post to as well.
    chats: Sequence[str] = ()
    # A broadcast with a key is created once: a second attempt creates nothing.
    key: str | None = None
    buttons: Buttons = ()
    card: tuple[int, int] | None = None
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
    renderer: Renderer,
    now: dt.datetime,
    urgent: bool,
    channels: Mapping[str, Capabilities],
) -> list[Delivery]:
    """Queue, in the caller's transaction, the messages the queue can carry (text and
    buttons, within one message of a channel that queues); return the others, to be sent
    directly (in pieces, with their files).

    Members who get the same message share one broadcast.
    """
    rest: list[Delivery] = []
    same: dict[tuple[str, Buttons, tuple[int, int] | None], list[int]] = {}
    for delivery in deliveries:
        reply, member = delivery.reply, delivery.member
        text = renderer.lines(reply.text, member.language)
        channel = channels.get(member.channel, UNREACHABLE)
        if (not channel.queued or reply.media or reply.chart or reply.photo
                or reply.card or reply.qr or reply.keyboard or reply.remove_keyboard
                or len(text) > channel.text_limit):  # fmt: skip
            rest.append(delivery)
            continue
        buttons = tuple(tuple((renderer.render(b.label, member.language), b.code) for b in row)
                        for row in reply.buttons)  # fmt: skip
        same.setdefault((text, buttons, delivery.card), []).append(member.id)
    for (text, buttons, card), member_ids in same.items():
        extra = BroadcastExtras(buttons=buttons, card=card, urgent=urgent)
        await uow.outbox.create("notice" if urgent else "nudge", text, member_ids, None, now,
                                extra)  # fmt: skip
    return rest


class DeliveryService:
    """Queues broadcasts and records how each message fared."""

    def __init__(self, units_of_work: UnitOfWorkFactory, clock: Callable[[], dt.datetime]) -> None:
        self._uow = units_of_work
        self._clock = clock

    async def broadcast(
        self,
        kind: str,
        text: str,
        member_ids: Sequence[int],
        sender_id: int | None,
        extra: BroadcastExtras = NO_EXTRAS,
    ) -> int | None:
        """Queue a message to these members (those who can be reached); return its id,
        or None when a broadcast with the same key was made before."""
        async with self._uow() as uow:
            broadcast_id = await uow.outbox.create(
                kind, text, member_ids, sender_id, self._clock(), extra
            )
            await uow.commit()
        return broadcast_id

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

    async def claim(self, limit: int) -> list[Outgoing]:
        """Take the next messages to send, marked as being sent."""
        async with self._uow() as uow:
            batch = await uow.outbox.claim(limit)
            await uow.commit()
        return batch

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
        """Telegram asked to wait: back in the queue, the attempt not counted."""
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
        await self._finish(outgoing, OutgoingState.FAILED, error)

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
