"""The submission dialog: one question per step, answers applied to the draft.

Everything here works on an ``Initiative`` in status draft and returns data to
show; the service saves the draft after every answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from domain.codes import ButtonCode, button_code
from domain.erased import ERASED_CONTENT
from domain.model import (
    Attachment,
    Coauthor,
    FieldOfUse,
    Initiative,
    InitiativeStatus,
    SolutionKind,
    Step,
)
from domain.parsing import (
    CANNOT_ESTIMATE,
    TITLE_LIMIT,
)
from domain.text import Day, Money, Percent, Text, Verbatim, _, clip, n_
from domain.ui import Button, Reply

MAX_ATTACHMENTS = 10
SUMMARY_EXCERPT = 300
# A long answer in the summary: its first line, at most this many characters, so that
# the summary fits a cheap phone's screen (about 20 lines of 36 characters).
CLIP = 50
# Recordings a member may give as one answer.
MAX_RECORDINGS = 3

# The questions in the order they are asked; the note on confidentiality is asked
# only after a "yes".
ORDER: tuple[Step, ...] = (
    Step.TITLE,
    Step.KIND,
    Step.FIELD,
    Step.PROBLEM,
    Step.SOLUTION,
    Step.APPLIED,
    Step.EFFECT,
    Step.BENEFIT,
    Step.COAUTHORS,
    Step.ATTACHMENTS,
    Step.CONFIDENTIAL,
)
MULTI_MESSAGE_STEPS = frozenset({Step.PROBLEM, Step.SOLUTION})
# Questions a voice message (or a round video) may answer.
RECORDED_STEPS = frozenset({Step.PROBLEM, Step.SOLUTION, Step.EFFECT})
# Questions whose answer is a tap: typed text there must name a button.
CHOICE_STEPS = frozenset({Step.KIND, Step.FIELD, Step.CONFIDENTIAL, Step.SUMMARY, Step.DISCARD})

KIND_LABELS: dict[SolutionKind, Text] = {
    SolutionKind.TECHNICAL: _("Technical solution"),
    SolutionKind.MANAGEMENT: _("Management solution"),
    SolutionKind.OPERATIONAL: _("Operational solution"),
    SolutionKind.TECHNOLOGY: _("Applying technical or technological progress"),
    SolutionKind.OTHER: _("Other"),
}
FIELD_LABELS: dict[FieldOfUse, Text] = {
    FieldOfUse.PRODUCTION: _("Production"),
    FieldOfUse.SAFETY: _("Occupational safety"),
    FieldOfUse.COST: _("Cost saving"),
    FieldOfUse.QUALITY: _("Quality"),
    FieldOfUse.SERVICE: _("Customer service"),
    FieldOfUse.DIGITAL: _("Digital transformation"),
    FieldOfUse.OTHER: _("Other"),
}
STATUS_LABELS: dict[InitiativeStatus, Text] = {
    InitiativeStatus.DRAFT: _("Draft"),
    InitiativeStatus.PENDING: _("Awaiting review"),
    InitiativeStatus.APPROVED: _("Approved"),
    InitiativeStatus.RETURNED: _("Returned for changes"),
    InitiativeStatus.REJECTED: _("Rejected"),
    InitiativeStatus.DISCARDED: _("Discarded"),
}
# Labels of the summary's edit buttons, one per question.
EDIT_LABELS: dict[Step, Text] = {
    Step.TITLE: _("Title"),
    Step.KIND: _("Kind"),
    Step.FIELD: _("Field"),
    Step.PROBLEM: _("Before"),
    Step.SOLUTION: _("Solution"),
    Step.APPLIED: _("Applied"),
    Step.EFFECT: _("Effect"),
    Step.BENEFIT: _("Benefit"),
    Step.COAUTHORS: _("Co-authors"),
    Step.ATTACHMENTS: _("Files"),
    Step.CONFIDENTIAL: _("Confidentiality"),
}

BUTTON_LABEL_MAX = 60

BACK = _("⬅️ Back")
DONE = _("✅ Done")
KEEP = _("✔️ Keep as it is")
START_OVER = _("🗑 Start over")
NO_COAUTHORS = _("No co-authors")
NO_FILES = _("Skip, no files")
UNKNOWN_BENEFIT = CANNOT_ESTIMATE
# Ranges of the estimated benefit, for those who cannot give an amount: each is counted
# in the totals at its lower bound.
BENEFIT_RANGES: dict[str, tuple[int, Text]] = {
    "u10m": (0, _("Under 10 million")),
    "10m": (10_000_000, _("10–100 million")),
    "100m": (100_000_000, _("100 million – 1 billion")),
    "1b": (1_000_000_000, _("Over 1 billion")),
}


# What a button of a draft's question does; each belongs to some steps (drafting.py).
DraftAct = Literal["pick", "keep", "done", "clear", "back", "full", "edit", "submit", "save",
                      "discard", "discard_yes", "discard_no"]  # fmt: skip


@button_code("d")
@dataclass(frozen=True, slots=True)
class DraftPress(ButtonCode):
    """d:pick:12:kind:technical — a press on a draft's question: what it does, the draft, the
    step the question asked (an older question's buttons are refused), and the choice."""

    # Not "action": codes of a prefix with several kinds name theirs so.
    act: DraftAct
    draft: int
    step: str
    value: str | None = None


@button_code("n", "resume")
@dataclass(frozen=True, slots=True)
class ResumeDraft(ButtonCode):
    """n:resume:12 — continue this draft, or edit this returned initiative."""

    draft: int


@button_code("n", "fresh")
@dataclass(frozen=True, slots=True)
class FreshDraft(ButtonCode):
    """n:fresh — start a new initiative rather than continue a draft."""


def button(draft: Initiative, act: DraftAct, label: Text, value: str | None = None) -> Button:
    """A button bound to this draft and its current step, so old ones are recognised."""
    return Button(label, DraftPress(act, draft.id, draft.step.value, value).encode())


def _back_row(draft: Initiative) -> tuple[Button, ...]:
    return (button(draft, "back", BACK),)


def next_step(draft: Initiative, answered: Step) -> Step:
    """The step after answering ``answered``: the next question, or the summary."""
    if answered is Step.CONFIDENTIAL and draft.confidential:
        return Step.CONFIDENTIAL_NOTE
    if draft.editing or answered in (Step.CONFIDENTIAL, Step.CONFIDENTIAL_NOTE):
        return Step.SUMMARY
    return ORDER[ORDER.index(answered) + 1]


def previous_step(draft: Initiative) -> Step | None:
    """Where "Back" leads from the current step; None leaves the dialog."""
    step = draft.step
    if step is Step.CONFIDENTIAL_NOTE:
        return Step.CONFIDENTIAL
    if draft.editing or step in (Step.SUMMARY, Step.DISCARD):
        return Step.SUMMARY
    index = ORDER.index(step)
    return ORDER[index - 1] if index > 0 else None


def _progress(step: Step) -> Text:
    index = ORDER.index(step) + 1 if step in ORDER else len(ORDER)
    return _("Question {index}/{total}", index=index, total=len(ORDER))


def question(draft: Initiative, replacing: bool = False) -> Reply:
    """The message that asks the draft's current step, with the answer it has so far.

    ``replacing``: the next message replaces a long answer instead of adding to it.
    """
    step = draft.step
    if step is Step.SUMMARY:
        return summary(draft)
    if step is Step.DISCARD:
        return Reply(
            (_("Discard draft {number}? It cannot be continued afterwards.", number=draft.number),),
            ((button(draft, "discard_yes", _("🗑 Yes, discard")),),
             (button(draft, "discard_no", _("No, keep it")),)),
        )  # fmt: skip
    lines: list[Text] = [_progress(step)] if step in ORDER else []
    if step in MULTI_MESSAGE_STEPS:
        asked, rows = _ask_long(draft, replacing)
    else:
        asked, rows = _ASK[step](draft)
        current = current_answer(draft)
        if current is not None:
            asked.append(_("Current answer: {value}", value=current))
            rows.append((button(draft, "keep", KEEP),))
    lines += asked
    rows.append(_back_row(draft))
    return Reply(tuple(lines), tuple(rows))


Asked = tuple[list[Text], list[tuple[Button, ...]]]


def _ask_title(draft: Initiative) -> Asked:
    return [_("What is the name of your initiative? (at most {limit} characters)",
              limit=TITLE_LIMIT)], []  # fmt: skip


def _ask_kind(draft: Initiative) -> Asked:
    rows: list[tuple[Button, ...]] = [
        (button(draft, "pick", label, kind.value),) for kind, label in KIND_LABELS.items()
    ]
    return [_("What kind of solution is it?")], rows


def _ask_field(draft: Initiative) -> Asked:
    buttons = [button(draft, "pick", label, f.value) for f, label in FIELD_LABELS.items()]
    return [_("In which field is it applied?")], _pairs(buttons)


def _ask_long(draft: Initiative, replacing: bool) -> Asked:
    """The problem or the solution: several messages or voice notes, then “Done”."""
    if draft.step is Step.PROBLEM:
        lines = [_("Describe the situation before: what was wrong, slow or wasteful?")]
    else:
        lines = [_("Describe your solution and how it is carried out.")]
    lines.append(_("You can send several messages, or a voice message."))
    if not answered(draft, draft.step):
        return lines, []
    lines.append(_("Current answer: {value}", value=answer_value(draft, draft.step, CLIP)))
    if replacing:
        lines.append(_("Send the new text to replace it, or choose “{keep}”.", keep=KEEP))
    else:
        lines.append(_("Send more to add to it, or choose “{keep}”.", keep=KEEP))
    return lines, [(button(draft, "keep", KEEP), button(draft, "clear", START_OVER))]


def _ask_applied(draft: Initiative) -> Asked:
    return [_("Has the initiative been applied? If so, since when? "
              "Choose an option, or type the date as dd/mm/yyyy.")], [
        (button(draft, "pick", _("Not applied yet"), "no"),
         button(draft, "pick", _("This month"), "month"))]  # fmt: skip


def _ask_effect(draft: Initiative) -> Asked:
    return [_("What effect does it bring? For example: safer work, time saved, "
              "less waste, better quality. You can also send a voice message.")], []  # fmt: skip


def _ask_benefit(draft: Initiative) -> Asked:
    ranges = [button(draft, "pick", label, code) for code, (_low, label) in BENEFIT_RANGES.items()]
    rows = [*_pairs(ranges), (button(draft, "pick", UNKNOWN_BENEFIT, "unknown"),)]
    return [_("What is the estimated benefit in VND? Choose a range, or type the amount, "
              "for example: 5 billion, 200 million, 1,200,000.")], rows  # fmt: skip


def _ask_coauthors(draft: Initiative) -> Asked:
    lines = [_("Who are your co-authors? Type one name per line, with their "
               "contribution if you wish, for example: Tran Thi B 30%")]  # fmt: skip
    if not draft.coauthors:
        return lines, [(button(draft, "done", NO_COAUTHORS),)]
    lines.append(_("Co-authors so far: {names}", names=_coauthor_list(draft.coauthors)))
    lines.append(_("Type more names, or choose “{done}”.", done=DONE))
    return lines, [(button(draft, "done", DONE), button(draft, "clear", _("🗑 Clear list")))]


def _ask_files(draft: Initiative) -> Asked:
    count = len(files(draft))
    if not count:
        return [_("Send photos or documents that show the initiative (at most {limit}), "
                  "or choose “{skip}”.", limit=MAX_ATTACHMENTS, skip=NO_FILES)], [
            (button(draft, "done", NO_FILES),)]  # fmt: skip
    return [
        _("Send more photos or documents (at most {limit}), or choose “{done}”.",
          limit=MAX_ATTACHMENTS, done=DONE),
        n_("{count} file received.", "{count} files received.", count),
    ], [(button(draft, "done", DONE), button(draft, "clear", _("🗑 Remove all")))]  # fmt: skip


def _ask_confidential(draft: Initiative) -> Asked:
    return [_("Does it contain information that must stay confidential?")], [
        (button(draft, "pick", _("🔒 Yes"), "yes"), button(draft, "pick", _("No"), "no"))
    ]


def _ask_note(draft: Initiative) -> Asked:
    return [_("What must stay confidential? Only the people who review your "
              "initiative will see it.")], []  # fmt: skip


_ASK = {
    Step.TITLE: _ask_title,
    Step.KIND: _ask_kind,
    Step.FIELD: _ask_field,
    Step.APPLIED: _ask_applied,
    Step.EFFECT: _ask_effect,
    Step.BENEFIT: _ask_benefit,
    Step.COAUTHORS: _ask_coauthors,
    Step.ATTACHMENTS: _ask_files,
    Step.CONFIDENTIAL: _ask_confidential,
    Step.CONFIDENTIAL_NOTE: _ask_note,
}


def _pairs(buttons: list[Button]) -> list[tuple[Button, ...]]:
    return [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]


def current_answer(draft: Initiative) -> Text | Verbatim | Money | None:
    """The answer the draft's step already has, short, to keep or replace."""
    step = draft.step
    if not answered(draft, step) or step in (Step.COAUTHORS, Step.ATTACHMENTS):
        return None
    if step is Step.TITLE:
        return Verbatim(clip(draft.title or "", CLIP))
    return _VALUES[step](draft, CLIP)


def _coauthor_list(coauthors: list[Coauthor]) -> Text:
    parts = [
        _("{name} ({share})", name=Verbatim(c.name), share=Percent(c.share))
        if c.share is not None
        else _("{name}", name=Verbatim(c.name))
        for c in coauthors
    ]
    return Text("{items}", {"items": tuple(parts)})


def excerpt(text: str | None, limit: int | None) -> Text | Verbatim:
    """User text, cut to its first line and ``limit`` characters at a word, with "…"."""
    if not text:
        return _("—")
    if limit is None:
        return Verbatim(text)
    return Verbatim(clip(text, limit, first_line=True))


def recordings(draft: Initiative, step: Step) -> list[Attachment]:
    """The voice messages and round videos that answer ``step``."""
    return [a for a in draft.attachments if a.answer == step.value]


def files(draft: Initiative) -> list[Attachment]:
    """The photos and documents that show the initiative (recorded answers aside)."""
    return [a for a in draft.attachments if a.answer is None]


def recorded(items: list[Attachment]) -> Text:
    if all(a.duration is None for a in items):
        # A channel that does not say how long a recording is (Zalo): no made-up 0:00.
        if len(items) == 1:
            return _("🎤 recording")
        return _("🎤 {count} recordings", count=len(items))
    seconds = sum(a.duration or 0 for a in items)
    length = Verbatim(f"{seconds // 60}:{seconds % 60:02d}")
    if len(items) == 1:
        return _("🎤 recording {length}", length=length)
    return _("🎤 {count} recordings, {length}", count=len(items), length=length)


def answer_value(draft: Initiative, step: Step, limit: int | None) -> Text | Verbatim:
    """A written answer (problem, solution, effect), with its recordings if any."""
    text = {Step.PROBLEM: draft.problem, Step.SOLUTION: draft.solution,
            Step.EFFECT: draft.effect}.get(step)  # fmt: skip
    kept = recordings(draft, step)
    if not kept:
        return excerpt(text, limit)
    if not text:
        return recorded(kept)
    return _("{text} · {recording}", text=excerpt(text, limit), recording=recorded(kept))


def _applied_value(draft: Initiative, _limit: int | None) -> Text:
    if draft.applied is None:
        return _("—")
    if draft.applied and draft.applied_since:
        return _("Applied since {date}", date=Day(draft.applied_since))
    return _("Not applied yet")


def benefit_value(draft: Initiative, _limit: int | None = None) -> Text | Money:
    """The estimated benefit: an amount, a range, or that it cannot be estimated."""
    if draft.benefit_known is None:
        return _("—")
    if draft.benefit_known and draft.benefit_range in BENEFIT_RANGES:
        return BENEFIT_RANGES[draft.benefit_range][1]
    if draft.benefit_known and draft.benefit_vnd is not None:
        return Money(draft.benefit_vnd)
    return UNKNOWN_BENEFIT


def _secret_value(draft: Initiative, limit: int | None) -> Text:
    if draft.confidential is None:
        return _("—")
    if draft.confidential:
        return _("🔒 Yes: {note}", note=excerpt(draft.confidential_note, limit))
    return _("No")


_VALUES: dict[Step, Callable[[Initiative, int | None], Text | Verbatim | Money]] = {
    Step.KIND: lambda d, _n: KIND_LABELS[d.kind] if d.kind else _("—"),
    Step.FIELD: lambda d, _n: FIELD_LABELS[d.field] if d.field else _("—"),
    Step.PROBLEM: lambda d, n: answer_value(d, Step.PROBLEM, n),
    Step.SOLUTION: lambda d, n: answer_value(d, Step.SOLUTION, n),
    Step.APPLIED: _applied_value,
    Step.EFFECT: lambda d, n: answer_value(d, Step.EFFECT, n),
    Step.BENEFIT: benefit_value,
    Step.CONFIDENTIAL: lambda d, _n: _("🔒 Yes") if d.confidential else _("No"),
    Step.CONFIDENTIAL_NOTE: lambda d, n: excerpt(d.confidential_note, n),
}


def card_lines(draft: Initiative, *, full: bool, limit: int = SUMMARY_EXCERPT) -> list[Text]:
    """The lines that describe an initiative; long texts are cut unless ``full``."""
    cut = None if full else limit
    return [
        _("📄 {number} · {status}", number=draft.number, status=STATUS_LABELS[draft.status]),
        _("Title: {value}",
          value=ERASED_CONTENT if draft.title == "" else excerpt(draft.title, cut)),
        _("Kind: {value}", value=_VALUES[Step.KIND](draft, cut)),
        _("Field: {value}", value=_VALUES[Step.FIELD](draft, cut)),
        _("Before: {value}", value=answer_value(draft, Step.PROBLEM, cut)),
        _("Solution: {value}", value=answer_value(draft, Step.SOLUTION, cut)),
        _("Applied: {value}", value=_applied_value(draft, cut)),
        _("Effect: {value}", value=answer_value(draft, Step.EFFECT, cut)),
        _("Estimated benefit: {value}", value=benefit_value(draft)),
        _("Co-authors: {value}",
          value=_coauthor_list(draft.coauthors) if draft.coauthors else _("None")),
        _("Files: {count}", count=len(files(draft))),
        _("Confidential: {value}", value=_secret_value(draft, cut)),
    ]  # fmt: skip


def summary(draft: Initiative) -> Reply:
    """The summary card, each long answer cut short, with a button to edit each answer,
    one to read it all, and the final choices."""
    lines = [_("Please check your initiative:"), *card_lines(draft, full=False, limit=CLIP)]
    edits = [button(draft, "edit", _("✏️ {field}", field=label), step.value)
             for step, label in EDIT_LABELS.items()]  # fmt: skip
    rows = [tuple(edits[i : i + 3]) for i in range(0, len(edits), 3)]
    rows.append((button(draft, "full", _("📄 Read in full")),))
    rows.append((button(draft, "submit", _("📤 Submit for review")),))
    rows.append((button(draft, "save", _("💾 Save draft")),
                 button(draft, "discard", _("🗑 Discard"))))  # fmt: skip
    return Reply(tuple(lines), tuple(rows))


def full_text(draft: Initiative) -> Reply:
    """Every answer in full, for the member to read before submitting."""
    return Reply(tuple(card_lines(draft, full=True)))


_ANSWERED: dict[Step, Callable[[Initiative], object]] = {
    Step.TITLE: lambda d: d.title,
    Step.KIND: lambda d: d.kind,
    Step.FIELD: lambda d: d.field,
    Step.PROBLEM: lambda d: d.problem or recordings(d, Step.PROBLEM),
    Step.SOLUTION: lambda d: d.solution or recordings(d, Step.SOLUTION),
    Step.APPLIED: lambda d: d.applied is not None,
    Step.EFFECT: lambda d: d.effect or recordings(d, Step.EFFECT),
    Step.BENEFIT: lambda d: d.benefit_known is not None,
    Step.COAUTHORS: lambda d: d.coauthors or d.coauthors_done,
    Step.ATTACHMENTS: lambda d: files(d),
    Step.CONFIDENTIAL: lambda d: d.confidential is not None,
    Step.CONFIDENTIAL_NOTE: lambda d: d.confidential_note,
}
# The questions that must be answered before submitting.
_REQUIRED = (Step.TITLE, Step.KIND, Step.FIELD, Step.PROBLEM, Step.SOLUTION, Step.APPLIED,
             Step.EFFECT, Step.BENEFIT, Step.CONFIDENTIAL)  # fmt: skip


def answered(draft: Initiative, step: Step) -> bool:
    """Whether the draft already has an answer to ``step``."""
    check = _ANSWERED.get(step)
    return check is not None and bool(check(draft))


def missing_answer(draft: Initiative) -> Step | None:
    """The first question still unanswered, if any."""
    for step in _REQUIRED:
        if not answered(draft, step):
            return step
    if draft.confidential and not draft.confidential_note:
        return Step.CONFIDENTIAL_NOTE
    return None


def shorten(text: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """Text cut to ``limit`` characters with an ellipsis, at a word's end when one is near."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit * 2) // 3:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-–") + "…"
