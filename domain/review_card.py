"""The review card: what an admin needs to decide one version, and what changed since
the version before it.

What each submitted version said is kept as a digest per field (``field_digests``),
never as a second copy: enough to name the fields a resubmission changed, without
keeping earlier wording, or confidential parts, anywhere else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from domain import dialog
from domain.codes import ButtonCode, button_code
from domain.erased import name_text, title_text
from domain.model import Decision, HistoryEntry, Initiative, Member, Step, format_number
from domain.ports import (
    InitiativeRepository,
    MemberRepository,
    RoleRepository,
    SubmissionSnapshots,
    UnitRepository,
)
from domain.ports_similar import SimilarFound, SimilarInitiatives, SimilarQuery, SimilarRules
from domain.similar import OpenSimilar, match_scope, status_text, visible
from domain.text import Moment, Text, Verbatim, _
from domain.ui import Button, Reply

log = logging.getLogger("domain.review")

# Long answers on the card: the first line, cut at a word, so the card fits a phone's
# screen; “📄 Read in full” has the rest.
SUMMARY_EXCERPT = 80
TITLE_EXCERPT = 100
# Similar initiatives a card names, closest first; and how many are kept per version.
CARD_MATCHES = 3
RECORDED = 10

PresetReason = Literal["unclear", "nodata", "duplicate", "scope"]
PRESET_REASONS: dict[PresetReason, Text] = {
    "unclear": _("The solution is not clear"),
    "nodata": _("Figures on the effect are missing"),
    "duplicate": _("Duplicates an existing initiative"),
    "scope": _("Outside the programme's scope"),
}
# A duplicate's reason naming its original: "preset:duplicate:123".
_DUPLICATE_OF = "preset:duplicate:"
MAX_NUMBER_DIGITS = 12
DECIDED: dict[Decision, Text] = {
    Decision.APPROVE: _("✅ Approved by {name} at {moment}"),
    Decision.RETURN: _("✏️ Returned for changes by {name} at {moment}"),
    Decision.REJECT: _("❌ Rejected by {name} at {moment}"),
}
# Record entries that send a version back to its author; their note says why.
SENT_BACK = frozenset({Decision.RETURN.value, "reopen"})
# The answers a resubmission is compared by, in the order the dialog asks them.
COMPARED: tuple[Step, ...] = dialog.ORDER


class CardStore(Protocol):
    """What drawing a card reads: who may see which similar initiative takes the roles."""

    units: UnitRepository
    roles: RoleRepository
    members: MemberRepository
    initiatives: InitiativeRepository
    snapshots: SubmissionSnapshots
    similar: SimilarInitiatives


# -- the codes of the review buttons ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnVersion(ButtonCode):
    """A press about one version of an initiative."""

    initiative: int
    version: int


@dataclass(frozen=True, slots=True)
class DecisionPress(OnVersion):
    """A decision button on the card; it asks to confirm, and for a reason first."""

    decision: ClassVar[Decision]


@button_code("r", "ok")
@dataclass(frozen=True, slots=True)
class Approve(DecisionPress):
    """r:ok:12:1 — approve version 1 of initiative 12."""

    decision: ClassVar[Decision] = Decision.APPROVE


@button_code("r", "ret")
@dataclass(frozen=True, slots=True)
class Return(DecisionPress):
    """r:ret:12:1 — send version 1 back for changes."""

    decision: ClassVar[Decision] = Decision.RETURN


@button_code("r", "rej")
@dataclass(frozen=True, slots=True)
class Reject(DecisionPress):
    """r:rej:12:1 — reject version 1."""

    decision: ClassVar[Decision] = Decision.REJECT


@button_code("r", "full")
@dataclass(frozen=True, slots=True)
class ReadFull(ButtonCode):
    """r:full:12 — the whole initiative, confidential parts included."""

    initiative: int


@button_code("r", "why")
@dataclass(frozen=True, slots=True)
class ChooseReason(ButtonCode):
    """r:why:12:1:nodata — a preset reason for the decision in progress."""

    initiative: int
    version: int
    reason: PresetReason


@button_code("r", "dup")
@dataclass(frozen=True, slots=True)
class NameOriginal(OnVersion):
    """r:dup:12:1:123 — version 1 of 12 duplicates initiative 123 (0: the number is not
    known, the plain preset reason)."""

    original: int


@button_code("r", "yes")
@dataclass(frozen=True, slots=True)
class ConfirmDecision(OnVersion):
    """r:yes:12:1 — make the decision in progress."""


@button_code("r", "no")
@dataclass(frozen=True, slots=True)
class CancelDecision(OnVersion):
    """r:no:12:1 — drop the decision in progress."""


@button_code("p", "page")
@dataclass(frozen=True, slots=True)
class ShowPending(ButtonCode):
    """p:page:2 — a page of /pending, from 0."""

    page: int


@button_code("p", "open")
@dataclass(frozen=True, slots=True)
class OpenPending(ButtonCode):
    """p:open:12 — the card of one entry of /pending."""

    initiative: int


ReviewPress = (
    DecisionPress | ReadFull | ChooseReason | NameOriginal | ConfirmDecision | CancelDecision
)
PendingPress = ShowPending | OpenPending
DECISION_PRESSES: tuple[type[DecisionPress], ...] = (Approve, Return, Reject)


def preset_note(reason: PresetReason, original: int | None = None) -> str:
    """How a preset reason is stored: by its code, shown in each reader's language; a
    duplicate may name its original ("preset:duplicate:123")."""
    if reason == "duplicate" and original:
        return f"preset:{reason}:{original}"
    return f"preset:{reason}"


def _split(note: str | None) -> tuple[PresetReason | None, int | None]:
    """The preset a stored reason names, and the original a duplicate names."""
    if note is None or not note.startswith(_DUPLICATE_OF):
        return next((code for code in PRESET_REASONS if note == preset_note(code)), None), None
    original = note[len(_DUPLICATE_OF) :]
    if original.isdigit() and len(original) <= MAX_NUMBER_DIGITS and int(original) > 0:
        return "duplicate", int(original)
    return None, None


def preset_of(note: str | None) -> PresetReason | None:
    """The preset a stored reason names, if it names one."""
    return _split(note)[0]


def original_of(note: str | None) -> int | None:
    """The initiative a "duplicate" reason names as the original, if it names one."""
    return _split(note)[1]


def reason_text(note: str | None) -> Text | None:
    """A stored reason: a preset shown in the reader's language, or the admin's words."""
    if not note:
        return None
    preset, original = _split(note)
    if original is not None:
        return _("Duplicates {number}", number=format_number(original))
    if preset is not None:
        return PRESET_REASONS[preset]
    return Text("{text}", {"text": Verbatim(note)})


def name_of(member: Member) -> Text:
    """A member as people know them: the name they gave, else their channel's name (or
    the erased member's placeholder)."""
    return name_text(member.full_name or member.display_name)


def decided_line(entry: HistoryEntry) -> Text:
    """Who decided, and when."""
    template = DECIDED[Decision(entry.action)]
    return Text(template.msgid, {"name": name_text(entry.actor_name), "moment": Moment(entry.at)})


def _digest(value: object) -> str:
    canonical = json.dumps(value, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def field_digests(initiative: Initiative) -> dict[str, str]:
    """One digest per answer: equal digests, same answer. A recording counts with the
    answer it gives, other files with the files."""
    files: dict[str, list[str]] = {}
    for attachment in initiative.attachments:
        answer = attachment.answer or Step.ATTACHMENTS.value
        files.setdefault(answer, []).append(attachment.file_unique_id)
    applied_since = initiative.applied_since.isoformat() if initiative.applied_since else None
    values: dict[Step, object] = {
        Step.TITLE: initiative.title,
        Step.KIND: initiative.kind,
        Step.FIELD: initiative.field,
        Step.PROBLEM: initiative.problem,
        Step.SOLUTION: initiative.solution,
        Step.APPLIED: [initiative.applied, applied_since],
        Step.EFFECT: initiative.effect,
        Step.BENEFIT: [initiative.benefit_known, initiative.benefit_vnd,
                       initiative.benefit_range],
        # Shares as stored (2 decimals): 30 typed and 30.00 read back are the same answer.
        Step.COAUTHORS: [[c.name, None if c.share is None else f"{c.share:.2f}"]
                         for c in initiative.coauthors],
        Step.ATTACHMENTS: None,
        Step.CONFIDENTIAL: [initiative.confidential, initiative.confidential_note],
    }  # fmt: skip
    return {step.value: _digest([values[step], files.get(step.value, [])]) for step in COMPARED}


def changed_fields(before: dict[str, str], after: dict[str, str]) -> list[Step]:
    """The answers that differ; one known to only one side is not counted as changed."""
    return [
        step
        for step in COMPARED
        if step.value in before and step.value in after and before[step.value] != after[step.value]
    ]


async def remember_version(uow: CardStore, initiative: Initiative, at: dt.datetime) -> None:
    """Keep what the version just submitted says, for the next version's card."""
    await uow.snapshots.add(initiative.id, initiative.version, field_digests(initiative), at)


async def record_similar(uow: CardStore, initiative: Initiative, rules: SimilarRules) -> None:
    """Keep the initiatives found like the version just submitted, in its match scope, for
    the cards of this one and of those it resembles. Never in the way of the submission:
    nothing to compare keeps nothing, and a search that fails is logged."""
    title = (initiative.title or "").strip() or None
    solution = (initiative.solution or "").strip() or None
    try:
        found: list[SimilarFound] = []
        if title is not None or solution is not None:
            within = await match_scope(uow, initiative.unit_id)
            query = SimilarQuery(title, solution, within=within, rules=rules,
                                 exclude=initiative.id, limit=RECORDED,
                                 same_solution_in=initiative.unit_id)  # fmt: skip
            found = await uow.similar.find(query)
        await uow.similar.record(initiative.id, initiative.version, found)
    except Exception:
        # A courtesy to the reviewer: the submission goes on without it.
        log.exception("similar initiatives of %s could not be recorded", initiative.id)


async def since_last_version(uow: CardStore, initiative: Initiative) -> list[Text]:
    """For a resubmitted version: why the last one came back, and what changed since."""
    if initiative.version < 2:
        return []
    lines: list[Text] = []
    sent_back = [e for e in await uow.initiatives.history(initiative.id)
                 if e.action in SENT_BACK and e.version < initiative.version]  # fmt: skip
    if sent_back and (reason := reason_text(sent_back[-1].note)):
        lines.append(_("↩️ Returned last time: {reason}", reason=reason))
    previous = initiative.version - 1
    stored = await uow.snapshots.of_versions(initiative.id, [previous, initiative.version])
    if previous not in stored:
        # Submitted before digests were kept: nothing honest to say about changes.
        return lines
    changed = changed_fields(stored[previous], stored.get(initiative.version)
                             or field_digests(initiative))  # fmt: skip
    if changed:
        lines.append(_("✏️ Changed since version {version}: {fields}", version=previous,
                       fields=tuple(dialog.EDIT_LABELS[step] for step in changed)))  # fmt: skip
    else:
        lines.append(_("✏️ Nothing changed since version {version}.", version=previous))
    return lines


async def _people(uow: CardStore, initiative: Initiative) -> list[Text]:
    """The author, and the support team member who entered it for them."""
    people = await uow.members.by_ids([initiative.author_id, initiative.entered_by_id])
    author = people.get(initiative.author_id)
    lines = [_("Author: {name}", name=name_of(author) if author else _("—"))]
    helper = people.get(initiative.entered_by_id)
    if helper is not None and initiative.entered_by_id != initiative.author_id:
        lines.append(_("Entered for the author by: {name} (initiative support team)",
                       name=name_of(helper)))  # fmt: skip
    names = ", ".join(c.name for c in initiative.coauthors)
    if names:
        lines.append(_("Co-authors: {value}", value=Verbatim(names)))
    return lines


def _content(initiative: Initiative, unit_name: str) -> list[Text]:
    # Long answers are cut at a word (dialog.excerpt uses text.clip), recordings named.
    lines = [
        _("Unit: {name}", name=Verbatim(unit_name)),
        _("Before: {value}",
          value=dialog.answer_value(initiative, Step.PROBLEM, SUMMARY_EXCERPT)),
        _("Solution: {value}",
          value=dialog.answer_value(initiative, Step.SOLUTION, SUMMARY_EXCERPT)),
        _("Effect: {value}", value=dialog.answer_value(initiative, Step.EFFECT, SUMMARY_EXCERPT)),
        _("Estimated benefit: {value}", value=dialog.benefit_value(initiative)),
        _("Files: {count}", count=len(dialog.files(initiative))),
    ]  # fmt: skip
    if initiative.confidential:
        lines.append(_("🔒 Contains confidential information"))
    return lines


def _buttons(initiative: Initiative) -> tuple[tuple[Button, ...], ...]:
    i, v = initiative.id, initiative.version
    return (
        (Button(_("✅ Approve"), Approve(i, v).encode()),
         Button(_("✏️ Ask for changes"), Return(i, v).encode())),
        (Button(_("❌ Reject"), Reject(i, v).encode()),
         Button(_("📄 Read in full"), ReadFull(i).encode())),
    )  # fmt: skip


async def _card_lines(uow: CardStore, initiative: Initiative) -> list[Text]:
    """The version's essentials, the same for every reader."""
    unit = await uow.units.get(initiative.unit_id)
    kind, field = initiative.kind, initiative.field
    return [
        _("📥 Initiative {number} awaits review (version {version})",
          number=initiative.number, version=initiative.version),
        *await since_last_version(uow, initiative),
        _("Title: {value}", value=title_text(initiative.title, limit=TITLE_EXCERPT)),
        _("Kind: {kind} · Field: {field}",
          kind=dialog.KIND_LABELS[kind] if kind else _("—"),
          field=dialog.FIELD_LABELS[field] if field else _("—")),
        *await _people(uow, initiative),
        *_content(initiative, unit.name if unit else ""),
    ]  # fmt: skip


def similar_matches(found: Sequence[SimilarFound]) -> Text:
    """ "🔁 Similar: SK-000123 (Approved), SK-000456 (Awaiting review)"."""
    return _("🔁 Similar: {matches}", matches=tuple(
        _("{number} ({status})", number=format_number(f.initiative_id),
          status=status_text(f.status)) for f in found))  # fmt: skip


def _similar_row(found: Sequence[SimilarFound]) -> tuple[Button, ...]:
    return tuple(Button(_("🔁 {number}", number=format_number(f.initiative_id)),
                        OpenSimilar(f.initiative_id).encode()) for f in found)  # fmt: skip


async def card_matches(
    uow: CardStore, reader: Member, recorded: Sequence[SimilarFound]
) -> list[SimilarFound]:
    """The recorded matches a card shows its reader: those they may see, the closest."""
    return (await visible(uow, reader, recorded))[:CARD_MATCHES]


async def recorded_matches(uow: CardStore, initiative_id: int) -> list[SimilarFound]:
    """What was found like the initiative when it (or a later one like it) was submitted."""
    return (await uow.similar.recorded([initiative_id])).get(initiative_id, [])


def _card(
    initiative: Initiative,
    lines: list[Text],
    matches: Sequence[SimilarFound],
    decided: HistoryEntry | None,
) -> Reply:
    shown = [*lines, similar_matches(matches)] if matches else list(lines)
    if decided is None:
        similar = (_similar_row(matches),) if matches else ()
        return Reply(tuple(shown), (*_buttons(initiative), *similar))
    shown.append(decided_line(decided))
    if reason := reason_text(decided.note):
        shown.append(_("Reason: {reason}", reason=reason))
    return Reply(tuple(shown))


async def review_cards(
    uow: CardStore,
    initiative: Initiative,
    readers: Sequence[Member | None],
    decided: HistoryEntry | None = None,
) -> list[Reply]:
    """The card as each reader sees it: the version's essentials, the similar initiatives
    that reader may see, and the decision buttons or the decision. Drawn once; only the
    similar line differs, since a confidential match shows only to those who may read it."""
    lines = await _card_lines(uow, initiative)
    recorded = await recorded_matches(uow, initiative.id) if any(readers) else []
    cards = []
    for reader in readers:
        matches = await card_matches(uow, reader, recorded) if reader and recorded else []
        cards.append(_card(initiative, lines, matches, decided))
    return cards


async def review_card(
    uow: CardStore,
    initiative: Initiative,
    decided: HistoryEntry | None = None,
    reader: Member | None = None,
) -> Reply:
    """The card as ``reader`` sees it (without similar initiatives when no one is named)."""
    return (await review_cards(uow, initiative, [reader], decided))[0]
