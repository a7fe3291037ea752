"""Announcements as plain calls: whom a scope reaches, queueing one, stopping it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from domain.delivery import BroadcastExtras, OutgoingState
from domain.errors import InputError, NotAllowed
from domain.model import Member, RoleKind
from domain.parsing import TEXT_LIMIT, clean_text
from domain.ports import (
    MemberRepository,
    Outbox,
    ProgressRepository,
    RoleRepository,
    UnitOfWorkFactory,
    UnitRepository,
)
from domain.progress import phase_on, phase_pace
from domain.roles import units_held
from domain.text import Duration, Text, _
from domain.ui import Reply, caption_length

# Everyone below the admin's units, or only those in units behind the phase's pace.
Scope = Literal["all", "lag"]
SCOPE_NAMES: tuple[Scope, ...] = ("all", "lag")
ADMINS_ONLY = _("This command is for union admins.")


class AnnounceStore(Protocol):
    """What announcing reads and writes: roles, members, figures and the delivery queue."""

    units: UnitRepository
    roles: RoleRepository
    members: MemberRepository
    progress: ProgressRepository
    outbox: Outbox


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom an announcement to a scope reaches: members other than its sender."""

    scope: Scope
    members: tuple[int, ...]

    @property
    def count(self) -> int:
        """How many members."""
        return len(self.members)


@dataclass(frozen=True, slots=True)
class Announcement:
    """A queued announcement; with nobody reachable it is closed at once."""

    broadcast_id: int
    # Members it was addressed to, and how many of them the bot can reach now.
    count: int
    queued: int

    @property
    def closed(self) -> bool:
        """Nobody could receive it: nothing to stop, and no report to come."""
        return self.queued == 0


@dataclass(frozen=True, slots=True)
class Stopped:
    """An announcement stopped by its sender."""

    broadcast_id: int
    # Messages that will not be sent now, and all the announcement's messages.
    cancelled: int
    total: int


@dataclass(frozen=True, slots=True)
class PaidOffer:
    """What paying for faster bulk sending offers now, on a channel that can."""

    # Messages a second when paid.
    rate: float
    # Messages that may still go paid: by today's spending cap, and by the balance.
    cap_room: int
    balance_room: int
    # What one message costs, in the platform's currency (Telegram's Stars).
    price: Decimal

    @property
    def room(self) -> int:
        """Messages that may go paid now."""
        return min(self.cap_room, self.balance_room)


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a channel sends bulk messages, and what paying would offer (None: it
    cannot, or the union does not pay)."""

    rate: float
    paid: PaidOffer | None = None


class PaidOffers(Protocol):
    """A channel's paid sending, as it stands now."""

    async def offer(self) -> PaidOffer:
        """The paid rate, the room left today and in the balance, and the price."""


class Paces(Protocol):
    """Each channel's pace for an announcement's preview; asked after the transaction
    (it may ask the platform, or count what was spent today)."""

    async def pace(self, channel: str) -> Pace:
        """The channel's pace now."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """How an announcement goes on one channel: seconds free, paid as far as today's cap
    and the balance allow, and all paid; what paying for all costs; what falls short."""

    free: float
    mixed: float
    paid_all: float
    cost: Decimal
    price: Decimal | None
    short: Text | None


def _shortage(offer: PaidOffer, covered: int, rest: int, seconds: float) -> Text:
    """What today's cap or the balance leaves to go at the free pace."""
    if offer.cap_room <= offer.balance_room:
        if not covered:
            return _("Today's spending cap is reached: it would go at the free pace.")
        return _("Today's spending cap leaves {stars} Stars: {paid} messages would go paid, "
                 "the other {rest} at the free pace (about {duration} in all).",
                 stars=covered * offer.price, paid=covered, rest=rest,
                 duration=Duration(seconds))  # fmt: skip
    if not covered:
        return _("The bot's Stars balance cannot pay for it: it would go at the free pace.")
    return _("The bot's Stars balance pays for {paid} messages: the other {rest} would go at "
             "the free pace (about {duration} in all).",
             paid=covered, rest=rest, duration=Duration(seconds))  # fmt: skip


def _plan(count: int, pace: Pace) -> _Plan:
    """How ``count`` messages go at this channel's pace."""
    free = count / pace.rate if pace.rate > 0 else 0.0
    offer = pace.paid
    if offer is None:
        return _Plan(free, free, free, Decimal(0), None, None)
    covered = min(count, offer.room)
    rest = count - covered
    mixed = covered / offer.rate + (free * rest / count)
    short = _shortage(offer, covered, rest, mixed) if rest else None
    return _Plan(free, mixed, count / offer.rate, count * offer.price, offer.price, short)


def sending_time(counts: Mapping[str, int], paces: Mapping[str, Pace]) -> tuple[Text, ...]:
    """How long an announcement to these members (by channel) takes at the free pace and,
    where a channel can pay, at the paid pace, what that costs and what today's cap and
    the balance cover. Channels send at once: the slowest sets the time."""
    plans = [_plan(count, paces[channel]) for channel, count in counts.items() if count]
    if not plans:
        return ()
    free = max(plan.free for plan in plans)
    paying = [plan for plan in plans if plan.price is not None]
    if not paying:
        return (_("Sending it takes about {duration}.", duration=Duration(free)),)
    lines = [
        _("At the free pace it takes about {duration}.", duration=Duration(free)),
        _("The union pays for faster sending: about {duration}, for {stars} Stars ({price} Star "
          "a message).",
          duration=Duration(max(plan.paid_all for plan in plans)),
          stars=sum(plan.cost for plan in paying), price=paying[0].price),
    ]  # fmt: skip
    shortages = [plan.short for plan in paying if plan.short is not None]
    lines.extend(shortages or [_("Today's spending cap and the bot's Stars balance cover it.")])
    return tuple(lines)


async def estimate(paces: Paces, counts: Mapping[str, int]) -> tuple[Text, ...]:
    """``sending_time`` with each channel's pace asked now."""
    return sending_time(counts, {channel: await paces.pace(channel) for channel in counts})


def as_scope(value: object) -> Scope | None:
    """The scope a stored word names, if any."""
    return next((scope for scope in SCOPE_NAMES if scope == value), None)


async def _admin_units(store: AnnounceStore, actor: Member) -> list[int]:
    units = await units_held(store, actor.id, RoleKind.ADMIN)
    if not units:
        raise NotAllowed(ADMINS_ONLY)
    return units


async def _lagging_units(store: AnnounceStore, today: dt.date) -> list[int]:
    """Units with a target that are behind where a straight line to it would be today."""
    phase = await phase_on(store, today)
    if phase is None:
        return []
    pace = Decimal(str(phase_pace(phase, today)))
    return [f.unit.id for f in await store.progress.with_targets(phase.id)
            if f.percent is not None and f.percent < pace]  # fmt: skip


async def announcement_audience(
    store: AnnounceStore, actor: Member, scope: Scope, today: dt.date
) -> Audience:
    """The members an admin's announcement to this scope reaches, below their units."""
    roots = await _admin_units(store, actor)
    reached = set(await store.members.ids_below(roots))
    if scope == "lag":
        reached &= set(await store.members.ids_below(await _lagging_units(store, today)))
    return Audience(scope, tuple(sorted(reached - {actor.id})))


async def announce(
    store: AnnounceStore,
    actor: Member,
    text: str,
    photo: str | None,
    scope: Scope,
    now: dt.datetime,
    today: dt.date,
    *,
    caption_limit: int,
) -> Announcement:
    """Queue an admin's announcement (a photo's file id optional) in the caller's
    transaction; ``caption_limit``: the most characters under a photo on every channel."""
    audience = await announcement_audience(store, actor, scope, today)
    body = clean_text(text, limit=TEXT_LIMIT)
    if photo and caption_length(body) > caption_limit:
        raise InputError(_("With a photo the text can have at most {limit} characters; this one "
                           "has {length}. Shorten it, or remove the photo.",
                           limit=caption_limit, length=caption_length(body)))  # fmt: skip
    broadcast_id = await store.outbox.create(
        "announce", body, list(audience.members), actor.id, now, BroadcastExtras(photo=photo)
    )
    assert broadcast_id is not None  # only keyed broadcasts can be refused
    queued = (await store.outbox.tally(broadcast_id))[OutgoingState.QUEUED]
    if not queued:
        await store.outbox.close(broadcast_id)
    return Announcement(broadcast_id, audience.count, queued)


async def stop_announcement(store: AnnounceStore, actor: Member, broadcast_id: int) -> Stopped:
    """Stop sending an announcement; only the admin who sent it may."""
    await _admin_units(store, actor)
    if await store.outbox.sender_of(broadcast_id) != actor.id:
        raise NotAllowed(_("Only whoever sent the announcement may stop it."))
    cancelled = await store.outbox.cancel(broadcast_id)
    tally = await store.outbox.tally(broadcast_id)
    return Stopped(broadcast_id, cancelled, sum(tally.values()))


FREE_PACE: dict[str, Text] = {
    "cap": _(
        "📣 Today's spending cap for paid broadcasts is reached: your announcement "
        "continues at the free pace."
    ),
    "balance": _(
        "📣 The bot's Stars balance cannot pay for faster sending now: your "
        "announcement continues at the free pace."
    ),
}


async def tell_free_pace(
    store: AnnounceStore, broadcast_id: int, shortage: str, now: dt.datetime
) -> bool:
    """Tell whoever started a broadcast, once, that paid sending stopped (``shortage``:
    "cap" or "balance") and it continues at the free pace; False if told before or
    nobody started it (a weekly commendation)."""
    creator = await store.outbox.sender_of(broadcast_id)
    if creator is None:
        return False
    said = Reply((FREE_PACE.get(shortage, FREE_PACE["balance"]),))
    extra = BroadcastExtras(key=f"free-pace:{broadcast_id}", urgent=True)
    return await store.outbox.create("notice", said, [creator], None, now, extra) is not None


class FreePaceNotices:
    """``tell_free_pace`` in a transaction of its own (for a channel's sender)."""

    def __init__(self, units_of_work: UnitOfWorkFactory, clock: Callable[[], dt.datetime]) -> None:
        self._uow = units_of_work
        self._clock = clock

    async def tell(self, broadcast_id: int, shortage: str) -> None:
        """Queue the notice, unless it was queued before."""
        async with self._uow() as uow:
            if await tell_free_pace(uow, broadcast_id, shortage, self._clock()):
                await uow.commit()
