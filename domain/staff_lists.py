"""The staff web view's lists as plain calls: the initiatives of an admin's units, found
by words of their title or their author's name (diacritics and case ignored) or by
number, and the admin's own announcements with how far each has gone. Each call
re-checks that the actor is an admin now, and lists only what lies in their units."""

from __future__ import annotations

from domain.errors import NotAllowed
from domain.model import InitiativeStatus, Member, RoleKind, parse_number
from domain.paging import Page, fetch_page
from domain.parsing import search_terms
from domain.ports import UnitOfWork
from domain.ports_lists import Listed, ListQuery, SentAnnouncement
from domain.roles import units_held
from domain.text import _

# What a list may be narrowed to: anything sent for review (drafts are nobody's yet).
LISTED_STATUSES = (
    InitiativeStatus.PENDING,
    InitiativeStatus.APPROVED,
    InitiativeStatus.RETURNED,
    InitiativeStatus.REJECTED,
)
ANNOUNCEMENT = "announce"


def list_query(typed: str, status: InitiativeStatus | None = None) -> ListQuery:
    """What a typed search asks for: its folded words, and the number when it reads as
    one ("SK-000123", "123"); a status that is never listed is ignored."""
    return ListQuery(
        words=tuple(search_terms(typed)),
        number=parse_number(typed),
        status=status if status in LISTED_STATUSES else None,
    )


async def _admin_units(uow: UnitOfWork, actor: Member) -> list[int]:
    """The units the actor is an admin of now; refused when none."""
    held = await units_held(uow, actor.id, RoleKind.ADMIN)
    if not held:
        raise NotAllowed(_("Sorry, the web view is for union admins only."))
    return held


async def initiative_list(
    uow: UnitOfWork, actor: Member, query: ListQuery, page: int, size: int
) -> Page[Listed]:
    """A page of the initiatives in the admin's units and below, newest first."""
    roots = await _admin_units(uow, actor)

    async def fetch(offset: int, limit: int) -> tuple[tuple[Listed, ...], int]:
        found = await uow.initiatives.listed_in(roots, query, offset, limit)
        return found.items, found.total

    return await fetch_page(fetch, max(page, 0), size)


async def sent_announcements(
    uow: UnitOfWork, actor: Member, page: int, size: int
) -> Page[SentAnnouncement]:
    """A page of the announcements the admin sent, newest first, with their progress."""
    await _admin_units(uow, actor)

    async def fetch(offset: int, limit: int) -> tuple[list[SentAnnouncement], int]:
        return await uow.outbox.sent_by(actor.id, ANNOUNCEMENT, offset, limit)

    return await fetch_page(fetch, max(page, 0), size)
