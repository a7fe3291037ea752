"""Submitting a draft for review, or discarding it, as plain calls.

Any channel calls these (the chat dialog in domain/drafting.py is one): each checks that
the actor wrote or entered the draft and that it may still change, works in the caller's
transaction, and returns what happened with the messages it causes for other people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from domain import dialog
from domain.erased import name_text
from domain.errors import InputError, NotFound, Outdated
from domain.model import (
    EDITABLE,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    Step,
    Unit,
    format_number,
)
from domain.ports import (
    InitiativeRepository,
    ProgressRepository,
)
from domain.ports_similar import SimilarRules
from domain.progress import count_change, phase_on
from domain.review_cases import RULES, ReviewStore, route_to_reviewers
from domain.text import Verbatim, _
from domain.ui import Delivery, Reply
from domain.usecase import Notices


class DraftStore(Protocol):
    """What discarding a draft writes: the draft, its record and the counts."""

    initiatives: InitiativeRepository
    progress: ProgressRepository


class SubmissionStore(ReviewStore, Protocol):
    """What submitting reads and writes: review's, since it routes the reviewers' cards."""


class MissingAnswer(InputError):
    """The draft cannot be submitted yet: ``step`` is the first question left unanswered."""

    def __init__(self, step: Step) -> None:
        super().__init__(_("One answer is still missing:"))
        self.step = step


@dataclass(frozen=True, slots=True)
class Submitted:
    """A version sent for review: the initiative as it is now, the unit that reviews it,
    and the cards to the reviewers (and a word to the author, when a helper sent it)."""

    initiative: Initiative
    unit: Unit | None
    resubmitted: bool
    notices: Notices


@dataclass(frozen=True, slots=True)
class Discarded:
    """A draft given up; it cannot be continued."""

    initiative: Initiative


async def _editable(store: DraftStore, actor: Member, draft_id: int) -> Initiative:
    """The draft the actor wrote or entered, while it may still change."""
    draft = await store.initiatives.get(draft_id)
    if draft is None or actor.id not in (draft.author_id, draft.entered_by_id):
        raise NotFound(_("I cannot find an initiative {number} that you may see.",
                         number=Verbatim(format_number(draft_id))))  # fmt: skip
    if draft.status not in EDITABLE:
        raise Outdated(_("This initiative has already been submitted or discarded."))
    return draft


def _role(actor: Member, draft: Initiative) -> str:
    """In what capacity the actor acts on the draft, for its record."""
    return "author" if actor.id == draft.author_id else RoleKind.HELPER.value


class Submission:
    """Submitting needs the union's clock: the day decides the phase it counts in; and
    how close a similar initiative must be to be recorded for the reviewers."""

    def __init__(self, timezone: ZoneInfo, similar: SimilarRules = RULES) -> None:
        self._tz = timezone
        self._similar = similar

    async def submit(
        self, store: SubmissionStore, actor: Member, draft_id: int, now: dt.datetime
    ) -> Submitted:
        """Send a complete draft, or a returned initiative, to its reviewers."""
        draft = await _editable(store, actor, draft_id)
        missing = dialog.missing_answer(draft)
        if missing is not None:
            raise MissingAnswer(missing)
        resubmitted = draft.status is InitiativeStatus.RETURNED
        on_behalf = draft.author_id != draft.entered_by_id
        if not resubmitted and not on_behalf and actor.unit_id is not None:
            # A returned initiative goes back to the same review; a new one to the
            # author's union as it is now.
            draft.unit_id = actor.unit_id
        before = draft.status
        if draft.phase_id is None:
            phase = await phase_on(store, now.astimezone(self._tz).date())
            draft.phase_id = phase.id if phase else None
        draft.status = InitiativeStatus.PENDING
        draft.version += 1
        draft.submitted_at = draft.updated_at = now
        await count_change(store, draft, before, draft.status)
        await store.initiatives.save(draft)
        action = "resubmitted" if resubmitted else "submitted"
        await store.initiatives.record(draft, actor.id, action, now, role=_role(actor, draft))
        notices = (await route_to_reviewers(store, draft, now, self._similar)).notices
        if actor.id != draft.author_id:
            notices += await _tell_author(store, actor, draft)
        unit = await store.units.get(draft.unit_id)
        return Submitted(draft, unit, resubmitted, notices)


async def _tell_author(store: SubmissionStore, helper: Member, draft: Initiative) -> Notices:
    """A helper submitted for someone: the author hears it went."""
    author = (await store.members.by_ids([draft.author_id])).get(draft.author_id)
    if author is None:
        return Notices()
    told = Reply((_("{helper} of the initiative support team has submitted initiative "
                    "{number} “{title}” for you. You will be told here when it is reviewed.",
                    helper=name_text(helper.full_name or helper.display_name),
                    number=draft.number, title=Verbatim(draft.title or "")),))  # fmt: skip
    return Notices(deliveries=(Delivery(author, told),))


async def discard(store: DraftStore, actor: Member, draft_id: int, now: dt.datetime) -> Discarded:
    """Give up a draft, or a returned initiative, that the actor wrote or entered."""
    draft = await _editable(store, actor, draft_id)
    await count_change(store, draft, draft.status, InitiativeStatus.DISCARDED)
    draft.status = InitiativeStatus.DISCARDED
    draft.updated_at = now
    await store.initiatives.save(draft)
    await store.initiatives.record(draft, actor.id, "discarded", now, role=_role(actor, draft))
    return Discarded(draft)
