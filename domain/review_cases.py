"""Review as plain calls: send a version to its reviewers, decide it once, take a decision
back, list what waits, read an initiative and its record.

Any channel calls these (the chat dialog in domain/review.py is one); each checks who may
do it, works in the caller's transaction and returns what happened, with the messages it
causes for other people as ``Notices``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.dialog import ResumeDraft
from domain.errors import InputError, NotAllowed, NotFound, Outdated
from domain.model import (
    DECISION_STATUS,
    Decision,
    HistoryEntry,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    Unit,
    format_number,
    parse_number,
)
from domain.paging import fetch_page
from domain.parsing import clean_text
from domain.ports import (
    InitiativeRepository,
    MemberRepository,
    PendingFilter,
    ProgressRepository,
    ReviewCardRepository,
    RoleRepository,
    SubmissionSnapshots,
    UnitRepository,
    Waiting,
)
from domain.ports_similar import SimilarInitiatives, SimilarRules
from domain.progress import count_change
from domain.review_card import (
    PresetReason,
    decided_line,
    name_of,
    original_of,
    preset_note,
    reason_text,
    record_similar,
    remember_version,
    review_cards,
)
from domain.roles import RoleScope, covers, units_held
from domain.similar import open_button
from domain.text import Text, Verbatim, _
from domain.ui import Button, CardUpdate, Delivery, Reply
from domain.usecase import NO_NOTICES, Notices

# Under the feature's name, which operators (and the benchmarks) filter by.
log = logging.getLogger("domain.review")

REASON_LIMIT = 1000
ADMIN = RoleKind.ADMIN.value
DECISIONS = frozenset(d.value for d in Decision)
# How close is close, until the settings say otherwise.
RULES = SimilarRules()
# What a duplicate cannot name as its original: nobody else has seen these.
NEVER_ORIGINAL = frozenset({InitiativeStatus.DRAFT, InitiativeStatus.DISCARDED})


class ReviewStore(Protocol):
    """The repositories review reads and writes."""

    units: UnitRepository
    roles: RoleRepository
    initiatives: InitiativeRepository
    members: MemberRepository
    cards: ReviewCardRepository
    snapshots: SubmissionSnapshots
    progress: ProgressRepository
    similar: SimilarInitiatives


@dataclass(frozen=True, slots=True)
class Preset:
    """One of the reasons offered as buttons, shown in each reader's language; a duplicate
    may name the initiative it duplicates."""

    reason: PresetReason
    original: int | None = None


# A preset reason, or the reviewer's own words.
Reason = Preset | str


class ReviewOutdated(Outdated):
    """The version was decided or replaced meanwhile; ``decided`` says by whom and when,
    if it was decided, so a channel can show the decided card."""

    def __init__(self, text: Text, initiative: Initiative, decided: HistoryEntry | None) -> None:
        super().__init__(text)
        self.initiative = initiative
        self.decided = decided


@dataclass(frozen=True, slots=True)
class Routed:
    """A submitted version on its way to the reviewers."""

    reviewers: tuple[Member, ...]
    notices: Notices


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision made: the initiative as it is now, the record's entry, who is told."""

    initiative: Initiative
    entry: HistoryEntry
    notices: Notices


@dataclass(frozen=True, slots=True)
class Reopened:
    """A decision taken back: the initiative is returned to its author for changes."""

    initiative: Initiative
    notices: Notices


@dataclass(frozen=True, slots=True)
class PendingPage:
    """One page of what awaits the admin's review, oldest first."""

    items: tuple[Initiative, ...]
    total: int
    # How many wait in each unit, most first.
    per_unit: tuple[tuple[Unit, int], ...]
    # From 0; a page past the end is the last page there is.
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class Trail:
    """An initiative's record, oldest first."""

    initiative: Initiative
    entries: tuple[HistoryEntry, ...]


# -- who may do what ------------------------------------------------------------------


async def reviewer_chain(store: RoleScope, unit_id: int) -> list[list[Member]]:
    """The admins of each unit on the path up from this one that has any, nearest first."""
    unit = await store.units.get(unit_id)
    if unit is None:
        return []
    path = await store.units.path(unit)
    holders = await store.roles.holders([u.id for u in path], RoleKind.ADMIN)
    return [holders[u.id] for u in path if holders[u.id]]


async def reviewers_for(store: RoleScope, unit_id: int) -> list[Member]:
    """The admins of the unit, or of the nearest unit above that has any."""
    chain = await reviewer_chain(store, unit_id)
    return chain[0] if chain else []


async def reviews(store: RoleScope, member: Member, initiative: Initiative) -> bool:
    """Whether the member is an admin of the initiative's unit or of a unit above it."""
    held = await units_held(store, member.id, RoleKind.ADMIN)
    if not held:
        return False
    unit = await store.units.get(initiative.unit_id)
    return unit is not None and await covers(store, held, unit)


async def may_read(store: RoleScope, member: Member, initiative: Initiative) -> bool:
    """Whether the member may see the whole initiative, confidential parts included."""
    if member.id in (initiative.author_id, initiative.entered_by_id):
        return True
    return await reviews(store, member, initiative)


def unseen(initiative_id: int | str) -> NotFound:
    """What someone is told of an initiative that is not there, or not theirs to see."""
    number = format_number(initiative_id) if isinstance(initiative_id, int) else initiative_id
    return NotFound(_("I cannot find an initiative {number} that you may see.",
                      number=Verbatim(number[:20])))  # fmt: skip


# -- sending a version to its reviewers ------------------------------------------------


async def route_to_reviewers(
    store: ReviewStore, initiative: Initiative, now: dt.datetime, rules: SimilarRules = RULES
) -> Routed:
    """A version was just submitted: keep what it says (for the next version's card) and
    the initiatives like it, and send the review card to everyone who must decide, each
    with the similar initiatives they may see."""
    await remember_version(store, initiative, now)
    await record_similar(store, initiative, rules)
    reviewers = await reviewers_for(store, initiative.unit_id)
    if not reviewers:
        log.error("initiative %s of unit %s has no admin on its path",
                  initiative.id, initiative.unit_id)  # fmt: skip
        return Routed((), NO_NOTICES)
    cards = await review_cards(store, initiative, reviewers)
    deliveries = tuple(Delivery(reviewer, card, card=(initiative.id, initiative.version))
                       for reviewer, card in zip(reviewers, cards, strict=True))  # fmt: skip
    return Routed(tuple(reviewers), Notices(deliveries))


# -- deciding ---------------------------------------------------------------------------


async def last_decision(store: ReviewStore, initiative_id: int) -> HistoryEntry | None:
    """The latest decision on record, of any version."""
    decisions = [e for e in await store.initiatives.history(initiative_id)
                 if e.action in DECISIONS]  # fmt: skip
    return decisions[-1] if decisions else None


async def outdated(store: ReviewStore, initiative: Initiative) -> ReviewOutdated:
    """Why a version is no longer to be decided: a newer one came, or who decided it."""
    if initiative.status is InitiativeStatus.PENDING:
        text = _("This card is for an earlier version; a newer one was sent.")
        return ReviewOutdated(text, initiative, None)
    last = await last_decision(store, initiative.id)
    if last is not None and last.version == initiative.version:
        return ReviewOutdated(_("Already decided: {decided}", decided=decided_line(last)),
                              initiative, last)  # fmt: skip
    return ReviewOutdated(_("This initiative is no longer awaiting review."), initiative, None)


async def awaiting_decision(
    store: ReviewStore, actor: Member, initiative_id: int, version: int | None = None
) -> Initiative:
    """The version (by default the current one) the actor is about to decide, refused as
    ``decide`` would refuse it."""
    initiative = await store.initiatives.get(initiative_id)
    if initiative is None:
        raise unseen(initiative_id)
    if not await reviews(store, actor, initiative):
        raise NotAllowed(_("You may not review this initiative."))
    current = version is None or initiative.version == version
    if initiative.status is not InitiativeStatus.PENDING or not current:
        raise await outdated(store, initiative)
    return initiative


async def named_original(
    store: ReviewStore, actor: Member, initiative: Initiative, original_id: int
) -> Initiative:
    """The initiative an admin names as the one ``initiative`` duplicates: another one,
    submitted, and not confidential unless the admin may read it; else refused, without
    telling whether it exists."""
    original = await store.initiatives.get(original_id) if original_id != initiative.id else None
    if (
        original is None
        or original.status in NEVER_ORIGINAL
        or (original.confidential and not await may_read(store, actor, original))
    ):
        raise InputError(_("There is no initiative {number} that you may name as the "
                           "original.", number=format_number(original_id)))  # fmt: skip
    return original


def _note(reason: Reason | None) -> str | None:
    if reason is None:
        return None
    if isinstance(reason, Preset):
        return preset_note(reason.reason, reason.original)
    return clean_text(reason, limit=REASON_LIMIT)


async def decide(
    store: ReviewStore,
    actor: Member,
    initiative_id: int,
    version: int,
    decision: Decision,
    reason: Reason | None,
    now: dt.datetime,
) -> Decided:
    """Approve, return or reject one version, once: whoever comes second gets
    ``ReviewOutdated`` naming who decided. A return or rejection needs a reason."""
    initiative = await awaiting_decision(store, actor, initiative_id, version)
    if isinstance(reason, Preset) and reason.original:
        await named_original(store, actor, initiative, reason.original)
    note = _note(reason)
    if decision is not Decision.APPROVE and not note:
        raise InputError(_("Please choose or type a reason first."))
    status = DECISION_STATUS[decision]
    if not await store.initiatives.decide(initiative.id, version, status, now):
        # Another reviewer decided in between: say who, and show what they decided.
        fresh = await store.initiatives.get(initiative.id)
        raise await outdated(store, fresh or initiative)
    await count_change(store, initiative, initiative.status, status)
    initiative.status = status
    await store.initiatives.record(initiative, actor.id, decision.value, now, note=note,
                                   role=ADMIN)  # fmt: skip
    entry = HistoryEntry(decision.value, version, now, actor.id,
                         actor.full_name or actor.display_name, ADMIN, note)  # fmt: skip
    cards = await _cards_shown(store, initiative, entry, actor.language)
    return Decided(initiative, entry, cards + await _tell_author(store, initiative, decision, note))


async def _cards_shown(
    store: ReviewStore, initiative: Initiative, entry: HistoryEntry, language: str
) -> Notices:
    """Every card shown of this version, to show the decision instead of its buttons."""
    cards = [c for c in await store.cards.of_initiative(initiative.id)
             if c.version == initiative.version]  # fmt: skip
    if not cards:
        return NO_NOTICES
    readers = await store.members.by_ids([c.member_id for c in cards])
    languages = {member_id: reader.language for member_id, reader in readers.items()}
    # Each keeps the similar initiatives its reader was shown.
    replies = await review_cards(store, initiative, [readers.get(c.member_id) for c in cards],
                                 entry)  # fmt: skip
    return Notices(card_updates=tuple(
        CardUpdate(c.chat_id, c.message_id, languages.get(c.member_id, language), reply)
        for c, reply in zip(cards, replies, strict=True)
    ))  # fmt: skip


def _decision_message(
    initiative: Initiative, decision: Decision, note: str | None
) -> tuple[list[Text], tuple[tuple[Button, ...], ...]]:
    reason = reason_text(note)
    title = Verbatim(initiative.title or "")
    # A duplicate's original, one tap away: the author sees what it duplicates.
    original = original_of(note)
    view = ((open_button(original),),) if original is not None else ()
    if decision is Decision.APPROVE:
        lines = [_("🎉 Your initiative {number} “{title}” has been approved. Thank you!",
                   number=initiative.number, title=title)]  # fmt: skip
        if reason is not None:
            lines.append(_("Comment: {reason}", reason=reason))
        return lines, ()
    if decision is Decision.RETURN:
        lines = [
            _("✏️ Changes are requested to your initiative {number} “{title}” before it "
              "can be approved.", number=initiative.number, title=title),
            _("Reason: {reason}", reason=reason or _("—")),
            _("Edit it and send it again; nothing you wrote is lost."),
        ]  # fmt: skip
        edit = Button(_("✏️ Edit and resubmit"), ResumeDraft(initiative.id).encode())
        return lines, ((edit,), *view)
    return [
        _("❌ Your initiative {number} “{title}” has been rejected.",
          number=initiative.number, title=title),
        _("Reason: {reason}", reason=reason or _("—")),
    ], view  # fmt: skip


async def _tell_author(
    store: ReviewStore, initiative: Initiative, decision: Decision, note: str | None
) -> Notices:
    """The author's message, and the helper's who entered it for them."""
    people = await store.members.by_ids([initiative.author_id, initiative.entered_by_id])
    author = people.get(initiative.author_id)
    if author is None:
        return NO_NOTICES
    lines, buttons = _decision_message(initiative, decision, note)
    deliveries = [Delivery(author, Reply(tuple(lines), buttons))]
    helper = people.get(initiative.entered_by_id)
    if helper is not None and initiative.entered_by_id != initiative.author_id:
        # The helper who entered it hears of it too, and may edit a returned one.
        entered = _("(You entered {number} for {name}.)", number=initiative.number,
                    name=name_of(author))  # fmt: skip
        deliveries.append(Delivery(helper, Reply((*lines, entered), buttons)))
    return Notices(tuple(deliveries))


async def reopen(
    store: ReviewStore, actor: Member, number_or_id: str | int, reason: str, now: dt.datetime
) -> Reopened:
    """An admin in scope takes back a decision (the evaluation council found a duplicate,
    say); the initiative goes back to its author for changes, with the reason."""
    initiative_id = number_or_id if isinstance(number_or_id, int) else parse_number(number_or_id)
    initiative = await store.initiatives.get(initiative_id) if initiative_id else None
    if initiative is None:
        raise unseen(str(number_or_id).strip())
    if not await reviews(store, actor, initiative):
        raise NotAllowed(_("You may not review this initiative."))
    if not reason.strip():
        raise InputError(_("Please give the reason after the number."))
    note = clean_text(reason, limit=REASON_LIMIT)
    before = initiative.status
    if not await store.initiatives.reopen(initiative.id, initiative.version, now):
        raise InputError(_("{number} has not been decided, so there is nothing to take back.",
                           number=initiative.number))  # fmt: skip
    await count_change(store, initiative, before, InitiativeStatus.RETURNED)
    initiative.status = InitiativeStatus.RETURNED
    await store.initiatives.record(initiative, actor.id, "reopen", now, note=note, role=ADMIN)
    return Reopened(initiative, await _tell_author(store, initiative, Decision.RETURN, note))


# -- reading ------------------------------------------------------------------------------


async def _review_roots(store: ReviewStore, actor: Member, within: Unit | None) -> list[int]:
    """The units whose queue the admin reads: theirs, or ``within`` when it is one of them
    or below one."""
    roots = await units_held(store, actor.id, RoleKind.ADMIN)
    if not roots:
        raise NotAllowed(_("This command is for union admins."))
    if within is not None:
        if not await covers(store, roots, within):
            raise NotAllowed(_("You may not review this unit."))
        roots = [within.id]
    return roots


async def pending(
    store: ReviewStore,
    actor: Member,
    page: int,
    page_size: int,
    only: PendingFilter | None = None,
    within: Unit | None = None,
) -> PendingPage:
    """What waits in the admin's units (or in ``within``, one of them or below), oldest
    first, a page at a time; ``only`` narrows it."""
    roots = await _review_roots(store, actor, within)
    fetched: list[Waiting] = []

    async def fetch(offset: int, limit: int) -> tuple[Sequence[Initiative], int]:
        fetched.append(await store.initiatives.pending_in(roots, offset, limit, only))
        return fetched[-1].items, fetched[-1].total

    shown = await fetch_page(fetch, max(page, 0), page_size)
    return PendingPage(shown.items, shown.total, fetched[-1].per_unit, shown.page, shown.pages)


async def waiting_page(
    store: ReviewStore,
    actor: Member,
    page: int,
    page_size: int,
    only: PendingFilter | None = None,
    within: Unit | None = None,
) -> PendingPage:
    """What ``pending`` shows, without the count per unit (left empty): what a page of the
    queue needs at national scale, where a count per unit walks every pending initiative."""
    roots = await _review_roots(store, actor, within)

    async def fetch(offset: int, limit: int) -> tuple[Sequence[Initiative], int]:
        return await store.initiatives.waiting_page(roots, offset, limit, only)

    shown = await fetch_page(fetch, max(page, 0), page_size)
    return PendingPage(shown.items, shown.total, (), shown.page, shown.pages)


async def history(store: ReviewStore, actor: Member, initiative_id: int) -> Trail:
    """The record of an initiative, for its author, its helper and its reviewers."""
    initiative = await store.initiatives.get(initiative_id)
    if initiative is None or not await may_read(store, actor, initiative):
        raise unseen(initiative_id)
    return Trail(initiative, tuple(await store.initiatives.history(initiative.id)))


async def read_full(store: ReviewStore, actor: Member, initiative_id: int) -> Initiative:
    """The whole initiative, confidential parts included: only for its author, its helper
    and its reviewers."""
    initiative = await store.initiatives.get(initiative_id)
    if initiative is None:
        raise unseen(initiative_id)
    if not await may_read(store, actor, initiative):
        raise NotAllowed(_("You may not read this initiative."))
    return initiative
