"""The review queue as a page shows it: what waits in the admin's units, oldest first,
narrowed by unit, kind, field and time waited; and one initiative opened in full, with
its record. The same checks as the chat's /pending and "📄 Read in full"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from domain.errors import NotAllowed, NotFound
from domain.kept import KeptFile, digest_of
from domain.model import (
    Attachment,
    FieldOfUse,
    Initiative,
    Member,
    RoleKind,
    SolutionKind,
    Unit,
)
from domain.ports import PendingFilter, UnitOfWork
from domain.ports_similar import SimilarFound
from domain.review_card import card_matches
from domain.review_cases import PendingPage, Trail, history, read_full, waiting_page
from domain.roles import units_held
from domain.similar import is_own
from domain.text import _

# Days waited a filter may ask for: more than a year means a year.
MAX_WAITED_DAYS = 366
# Units directly below one that the unit filter offers at most (a province has ~100).
MAX_OFFERED = 500


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the admin narrowed the queue to; None (or 0 days) means any."""

    unit: int | None = None
    kind: SolutionKind | None = None
    field: FieldOfUse | None = None
    waited_days: int = 0


@dataclass(frozen=True, slots=True)
class ShownMatch:
    """A similar initiative as a page lists it: its page opens only for an admin who may
    read it (the rest is its number and status)."""

    found: SimilarFound
    readable: bool


@dataclass(frozen=True, slots=True)
class QueueView:
    """One page of the queue, and the units the admin may narrow it to."""

    listing: PendingPage
    units: tuple[Unit, ...]
    # The name of the unit of each initiative on the page.
    unit_names: dict[int, str]
    # The similar initiatives of each initiative on the page that the admin may see.
    similar: Mapping[int, tuple[ShownMatch, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Opened:
    """An initiative in full, its record, its unit, and the similar initiatives."""

    initiative: Initiative
    trail: Trail
    unit: Unit | None
    similar: tuple[ShownMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """One file of an initiative: what it is, and its bytes when the bot keeps it
    (else the channel that gave it keeps it, by its file id)."""

    attachment: Attachment
    kept: KeptFile | None


async def review_queue(
    uow: UnitOfWork, actor: Member, only: QueueFilter, now: dt.datetime, page: int, size: int
) -> QueueView:
    """A page of what waits in the admin's units (or the one unit asked for, when it is
    theirs), narrowed as asked, oldest first."""
    within = await uow.units.get(only.unit) if only.unit is not None else None
    if only.unit is not None and within is None:
        raise NotAllowed(_("You may not review this unit."))
    days = min(max(only.waited_days, 0), MAX_WAITED_DAYS)
    narrowed = PendingFilter(only.kind, only.field,
                             now - dt.timedelta(days=days) if days else None)  # fmt: skip
    listing = await waiting_page(uow, actor, page, size, narrowed, within)
    shown = {item.unit_id for item in listing.items}
    found = [await uow.units.get(unit_id) for unit_id in sorted(shown)]
    names = {unit.id: unit.name for unit in found if unit is not None}
    similar = await similar_shown(uow, actor, [item.id for item in listing.items])
    return QueueView(listing, await _offered(uow, actor, within), names, similar)


async def similar_shown(
    uow: UnitOfWork, actor: Member, initiative_ids: Sequence[int]
) -> dict[int, tuple[ShownMatch, ...]]:
    """The similar initiatives of each, as its card shows them to this admin, read in one
    query for the whole page; each says whether the admin may open it."""
    if not initiative_ids:
        return {}
    recorded = await uow.similar.recorded(initiative_ids)
    held = frozenset(await units_held(uow, actor.id, RoleKind.ADMIN))
    known: dict[int, bool] = {}
    shown: dict[int, tuple[ShownMatch, ...]] = {}
    for initiative_id, found in recorded.items():
        matches = await card_matches(uow, actor, found) if found else []
        shown[initiative_id] = tuple([
            ShownMatch(m, is_own(actor, m) or await _covered(uow, held, m.unit_id, known))
            for m in matches
        ])  # fmt: skip
    return shown


async def _covered(
    uow: UnitOfWork, held: frozenset[int], unit_id: int, known: dict[int, bool]
) -> bool:
    """Whether the unit is one of ``held`` or lies below one; ``known`` remembers every unit
    walked through, so the matches of a page share their ancestors' answers."""
    walked: list[int] = []
    current: int | None = unit_id
    while current is not None and current not in known and current not in walked:
        if current in held:
            known[current] = True
            break
        walked.append(current)
        unit = await uow.units.get(current)
        current = unit.parent_id if unit is not None else None
    answer = known.get(current, False) if current is not None else False
    known.update(dict.fromkeys(walked, answer))
    return answer


async def _offered(uow: UnitOfWork, actor: Member, within: Unit | None) -> tuple[Unit, ...]:
    """The units the filter offers: the admin's own, the one narrowed to, and those directly
    below it (below their own when not narrowed): one drills down by choosing one."""
    held = await units_held(uow, actor.id, RoleKind.ADMIN)
    own = [u for u in [await uow.units.get(i) for i in held] if u is not None]
    units = {u.id: u for u in own}
    if within is not None:
        units.setdefault(within.id, within)
    for parent in [within] if within is not None else own:
        for unit in await uow.units.children(parent.id, MAX_OFFERED):
            units.setdefault(unit.id, unit)
    return tuple(units.values())


async def open_initiative(uow: UnitOfWork, actor: Member, initiative_id: int) -> Opened:
    """One initiative in full, confidential parts included, for those who may read it."""
    initiative = await read_full(uow, actor, initiative_id)
    trail = await history(uow, actor, initiative_id)
    similar = (await similar_shown(uow, actor, [initiative.id])).get(initiative.id, ())
    return Opened(initiative, trail, await uow.units.get(initiative.unit_id), similar)


async def open_file(
    uow: UnitOfWork, actor: Member, initiative_id: int, number: int, now: dt.datetime
) -> OpenedFile:
    """The ``number``-th file (from 1) of an initiative, for those who may read it in full:
    evidence may be confidential, so the same check as the initiative's page."""
    initiative = await read_full(uow, actor, initiative_id)
    if not 1 <= number <= len(initiative.attachments):
        raise NotFound(_("This initiative has no such file."))
    attachment = initiative.attachments[number - 1]
    digest = digest_of(attachment.file_id)
    if digest is None:
        return OpenedFile(attachment, None)
    kept = await uow.files.get(digest)
    if kept is None or (kept.expires_at is not None and kept.expires_at <= now):
        raise NotFound(_("This file is no longer kept."))
    return OpenedFile(attachment, kept)
