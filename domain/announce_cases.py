"""Announcements as plain calls: whom a scope reaches, queueing one, stopping it."""

from __future__ import annotations

import datetime as dt
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
    UnitRepository,
)
from domain.progress import phase_on, phase_pace
from domain.roles import units_held
from domain.text import _
from domain.ui import caption_length

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
