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
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from domain import dialog
from domain.codes import ButtonCode, button_code
from domain.erased import name_text, title_text
from domain.model import Decision, HistoryEntry, Initiative, Member, Step
from domain.ports import (
    InitiativeRepository,
    MemberRepository,
    SubmissionSnapshots,
    UnitRepository,
)
from domain.text import Moment, Text, Verbatim, _
from domain.ui import Button, Reply

# Long answers on the card: the first line, cut at a word, so the card fits a phone's
# screen; “📄 Read in full” has the rest.
SUMMARY_EXCERPT = 80
TITLE_EXCERPT = 100

PresetReason = Literal["unclear", "nodata", "duplicate", "scope"]
PRESET_REASONS: dict[PresetReason, Text] = {
    "unclear": _("The solution is not clear"),
    "nodata": _("Figures on the effect are missing"),
    "duplicate": _("Duplicates an existing initiative"),
    "scope": _("Outside the programme's scope"),
}
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
    """What drawing a card reads."""

    units: UnitRepository
    members: MemberRepository
    initiatives: InitiativeRepository
    snapshots: SubmissionSnapshots


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


ReviewPress = DecisionPress | ReadFull | ChooseReason | ConfirmDecision | CancelDecision
PendingPress = ShowPending | OpenPending
DECISION_PRESSES: tuple[type[DecisionPress], ...] = (Approve, Return, Reject)


def preset_note(reason: PresetReason) -> str:
    """How a preset reason is stored: by its code, shown in each reader's language."""
    return f"preset:{reason}"


def preset_of(note: str | None) -> PresetReason | None:
    """The preset a stored reason names, if it names one."""
    return next((code for code in PRESET_REASONS if note == preset_note(code)), None)


def reason_text(note: str | None) -> Text | None:
    """A stored reason: a preset shown in the reader's language, or the admin's words."""
    if not note:
        return None
    if (preset := preset_of(note)) is not None:
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


async def review_card(
    uow: CardStore, initiative: Initiative, decided: HistoryEntry | None = None
) -> Reply:
    """The card: the version's essentials, with the decision buttons or the decision."""
    unit = await uow.units.get(initiative.unit_id)
    kind, field = initiative.kind, initiative.field
    lines: list[Text] = [
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
    if decided is None:
        return Reply(tuple(lines), _buttons(initiative))
    lines.append(decided_line(decided))
    if reason := reason_text(decided.note):
        lines.append(_("Reason: {reason}", reason=reason))
    return Reply(tuple(lines))
