"""The submission dialog: one question per step, answers applied to the draft.

Everything here works on an ``Initiative`` in status draft and returns data to
show; the service saves the draft after every answer.
"""

from __future__ import annotations

import datetime as dt

from domain.errors import InputError
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
    TEXT_LIMIT,
    TITLE_LIMIT,
    CoauthorInput,
    check_coauthor_total,
    clean_text,
    parse_amount,
    parse_coauthors,
    parse_day,
)
from domain.text import Day, Money, Percent, Text, Verbatim, _, n_
from domain.ui import Button, Reply, encode

MAX_ATTACHMENTS = 10
SUMMARY_EXCERPT = 300

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


def button(draft: Initiative, action: str, label: Text, value: str | None = None) -> Button:
    """A button bound to this draft and its current step, so old ones are recognised."""
    parts: list[str | int] = ["d", action, draft.id, draft.step.value]
    if value is not None:
        parts.append(value)
    return Button(label, encode(*parts))


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


def question(draft: Initiative, pending_text: int = 0) -> Reply:
    """The message that asks the draft's current step."""
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
    rows: list[tuple[Button, ...]] = []
    if step is Step.TITLE:
        lines.append(_("What is the name of your initiative? (at most {limit} characters)",
                       limit=TITLE_LIMIT))  # fmt: skip
    elif step is Step.KIND:
        lines.append(_("What kind of solution is it?"))
        rows += [(button(draft, "pick", label, kind.value),) for kind, label in KIND_LABELS.items()]
    elif step is Step.FIELD:
        lines.append(_("In which field is it applied?"))
        buttons = [button(draft, "pick", label, f.value) for f, label in FIELD_LABELS.items()]
        rows += [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    elif step in MULTI_MESSAGE_STEPS:
        if step is Step.PROBLEM:
            lines.append(_("Describe the situation before: what was wrong, slow or wasteful?"))
        else:
            lines.append(_("Describe your solution and how it is carried out."))
        lines.append(_("You can send several messages. Tap “Done” when you have finished."))
        current = draft.problem if step is Step.PROBLEM else draft.solution
        if current:
            lines.append(_("Written so far: {length} of {limit} characters.",
                           length=len(current), limit=TEXT_LIMIT))  # fmt: skip
            rows.append((button(draft, "done", DONE), button(draft, "clear", _("🗑 Start over"))))
    elif step is Step.APPLIED:
        lines.append(_("Has the initiative been applied? If so, since when? "
                       "Tap a button or type the date as dd/mm/yyyy."))  # fmt: skip
        rows.append((button(draft, "pick", _("Not applied yet"), "no"),
                     button(draft, "pick", _("This month"), "month")))  # fmt: skip
    elif step is Step.EFFECT:
        lines.append(_("What effect does it bring? For example: safer work, time saved, "
                       "less waste, better quality."))  # fmt: skip
    elif step is Step.BENEFIT:
        lines.append(_("What is the estimated benefit in đồng? "
                       "For example: 5 tỷ, 200 triệu, 1.200.000đ."))  # fmt: skip
        rows.append((button(draft, "pick", _("Cannot estimate"), "unknown"),))
    elif step is Step.COAUTHORS:
        lines.append(_("Who are your co-authors? Type one name per line, with their "
                       "contribution if you wish, for example: Trần Thị B 30%"))  # fmt: skip
        if draft.coauthors:
            lines.append(_("Co-authors so far: {names}", names=_coauthor_list(draft.coauthors)))
            rows.append((button(draft, "done", DONE), button(draft, "clear", _("🗑 Clear list"))))
        else:
            rows.append((button(draft, "done", _("No co-authors")),))
    elif step is Step.ATTACHMENTS:
        lines.append(_("Send photos or documents that show the initiative (at most {limit}), "
                       "then tap “Done”.", limit=MAX_ATTACHMENTS))  # fmt: skip
        count = len(draft.attachments)
        if count:
            lines.append(n_("{count} file received.", "{count} files received.", count))
            rows.append((button(draft, "done", DONE), button(draft, "clear", _("🗑 Remove all"))))
        else:
            rows.append((button(draft, "done", _("Skip, no files")),))
    elif step is Step.CONFIDENTIAL:
        lines.append(_("Does it contain information that must stay confidential?"))
        rows.append((button(draft, "pick", _("🔒 Yes"), "yes"),
                     button(draft, "pick", _("No"), "no")))  # fmt: skip
    elif step is Step.CONFIDENTIAL_NOTE:
        lines.append(_("What must stay confidential? Only the people who review your "
                       "initiative will see it."))  # fmt: skip
    rows.append(_back_row(draft))
    return Reply(tuple(lines), tuple(rows))


def _coauthor_list(coauthors: list[Coauthor]) -> Text:
    parts = [
        _("{name} ({share})", name=Verbatim(c.name), share=Percent(c.share))
        if c.share is not None
        else _("{name}", name=Verbatim(c.name))
        for c in coauthors
    ]
    return Text("{items}", {"items": tuple(parts)})


def excerpt(text: str | None, limit: int | None) -> Text | Verbatim:
    """User text, cut to ``limit`` characters with an ellipsis."""
    if not text:
        return _("—")
    if limit is not None and len(text) > limit:
        return Verbatim(text[:limit].rstrip() + "…")
    return Verbatim(text)


def card_lines(draft: Initiative, *, full: bool) -> list[Text]:
    """The lines that describe an initiative; long texts are cut unless ``full``."""
    limit = None if full else SUMMARY_EXCERPT
    applied: Text
    if draft.applied is None:
        applied = _("—")
    elif draft.applied and draft.applied_since:
        applied = _("Applied since {date}", date=Day(draft.applied_since))
    else:
        applied = _("Not applied yet")
    benefit: Text | Money
    if draft.benefit_known is None:
        benefit = _("—")
    elif draft.benefit_known and draft.benefit_vnd is not None:
        benefit = Money(draft.benefit_vnd)
    else:
        benefit = _("Cannot estimate")
    secret: Text
    if draft.confidential is None:
        secret = _("—")
    elif draft.confidential:
        secret = _("🔒 Yes: {note}", note=excerpt(draft.confidential_note, limit))
    else:
        secret = _("No")
    return [
        _("📄 {number} · {status}", number=draft.number, status=STATUS_LABELS[draft.status]),
        _("Title: {value}", value=excerpt(draft.title, None)),
        _("Kind: {value}", value=KIND_LABELS[draft.kind] if draft.kind else _("—")),
        _("Field: {value}", value=FIELD_LABELS[draft.field] if draft.field else _("—")),
        _("Before: {value}", value=excerpt(draft.problem, limit)),
        _("Solution: {value}", value=excerpt(draft.solution, limit)),
        _("Applied: {value}", value=applied),
        _("Effect: {value}", value=excerpt(draft.effect, limit)),
        _("Estimated benefit: {value}", value=benefit),
        _("Co-authors: {value}",
          value=_coauthor_list(draft.coauthors) if draft.coauthors else _("None")),
        _("Files: {count}", count=len(draft.attachments)),
        _("Confidential: {value}", value=secret),
    ]  # fmt: skip


def summary(draft: Initiative) -> Reply:
    """The summary card with a button to edit each answer and the final choices."""
    lines = [_("Please check your initiative:"), *card_lines(draft, full=False)]
    edits = [button(draft, "edit", _("✏️ {field}", field=label), step.value)
             for step, label in EDIT_LABELS.items()]  # fmt: skip
    rows = [tuple(edits[i : i + 3]) for i in range(0, len(edits), 3)]
    rows.append((button(draft, "submit", _("📤 Submit for review")),))
    rows.append((button(draft, "save", _("💾 Save draft")),
                 button(draft, "discard", _("🗑 Discard"))))  # fmt: skip
    return Reply(tuple(lines), tuple(rows))


def missing_answer(draft: Initiative) -> Step | None:
    """The first question still unanswered, if any."""
    answered = {
        Step.TITLE: draft.title,
        Step.KIND: draft.kind,
        Step.FIELD: draft.field,
        Step.PROBLEM: draft.problem,
        Step.SOLUTION: draft.solution,
        Step.APPLIED: draft.applied is not None or None,
        Step.EFFECT: draft.effect,
        Step.BENEFIT: draft.benefit_known is not None or None,
        Step.CONFIDENTIAL: draft.confidential is not None or None,
    }
    for step, value in answered.items():
        if not value:
            return step
    if draft.confidential and not draft.confidential_note:
        return Step.CONFIDENTIAL_NOTE
    return None


def answer_text(draft: Initiative, text: str, today: dt.date, replace: bool) -> list[Text] | None:
    """Apply typed text to the current step.

    Returns acknowledgement lines and whether the step is complete is told by
    ``None`` (stay on the step) versus a list (move on).
    """
    step = draft.step
    if step is Step.TITLE:
        draft.title = clean_text(text, limit=TITLE_LIMIT)
        return []
    if step in MULTI_MESSAGE_STEPS:
        piece = clean_text(text, limit=TEXT_LIMIT)
        current = draft.problem if step is Step.PROBLEM else draft.solution
        combined = piece if replace or not current else f"{current}\n{piece}"
        if len(combined) > TEXT_LIMIT:
            raise InputError(
                _("That would make this part {length} characters long; the limit is {limit}. "
                  "Please shorten it.", length=len(combined), limit=TEXT_LIMIT)
            )  # fmt: skip
        if step is Step.PROBLEM:
            draft.problem = combined
        else:
            draft.solution = combined
        return None
    if step is Step.APPLIED:
        draft.applied_since = parse_day(text, today)
        draft.applied = True
        return [_("Applied since {date}.", date=Day(draft.applied_since))]
    if step is Step.EFFECT:
        draft.effect = clean_text(text, limit=TEXT_LIMIT)
        return []
    if step is Step.BENEFIT:
        amount = parse_amount(text)
        draft.benefit_known = amount is not None
        draft.benefit_vnd = amount
        if amount is None:
            return [_("Estimated benefit: cannot estimate.")]
        return [_("Estimated benefit recorded: {amount}. If that is wrong, tap “Back”.",
                  amount=Money(amount))]  # fmt: skip
    if step is Step.COAUTHORS:
        added = parse_coauthors(text)
        existing = [CoauthorInput(name=c.name, share=c.share) for c in draft.coauthors]
        check_coauthor_total(existing, added)
        draft.coauthors = [*draft.coauthors, *(Coauthor(a.name, a.share) for a in added)]
        draft.coauthors_done = False
        return None
    if step is Step.CONFIDENTIAL_NOTE:
        draft.confidential_note = clean_text(text, limit=TEXT_LIMIT)
        return []
    if step is Step.ATTACHMENTS:
        raise InputError(_("Please send a photo or a document, or tap “Done”."))
    if step in (Step.SUMMARY, Step.DISCARD):
        raise InputError(_("Please use the buttons under the message."))
    raise InputError(_("Please choose one of the buttons."))


def answer_pick(draft: Initiative, value: str, today: dt.date) -> list[Text]:
    """Apply a choice button of the current step; raises InputError for a bad value."""
    step = draft.step
    try:
        if step is Step.KIND:
            draft.kind = SolutionKind(value)
            return []
        if step is Step.FIELD:
            draft.field = FieldOfUse(value)
            return []
    except ValueError:
        pass
    if step is Step.APPLIED and value in ("no", "month"):
        draft.applied = value == "month"
        draft.applied_since = today.replace(day=1) if draft.applied else None
        return []
    if step is Step.BENEFIT and value == "unknown":
        draft.benefit_known, draft.benefit_vnd = False, None
        return []
    if step is Step.CONFIDENTIAL and value in ("yes", "no"):
        draft.confidential = value == "yes"
        if not draft.confidential:
            draft.confidential_note = None
        return []
    raise InputError(_("That button does not belong to this question."))


def answer_done(draft: Initiative) -> None:
    """Finish a step that takes several messages; raises if nothing was given yet."""
    step = draft.step
    if step is Step.PROBLEM and not draft.problem:
        raise InputError(_("Please write at least one message first."))
    if step is Step.SOLUTION and not draft.solution:
        raise InputError(_("Please write at least one message first."))
    if step is Step.COAUTHORS:
        draft.coauthors_done = True
        return
    if step not in (*MULTI_MESSAGE_STEPS, Step.ATTACHMENTS):
        raise InputError(_("That button does not belong to this question."))


def clear_step(draft: Initiative) -> Text:
    """Empty the answer of a multi-message step so the member can start over."""
    if draft.step is Step.PROBLEM:
        draft.problem = None
    elif draft.step is Step.SOLUTION:
        draft.solution = None
    elif draft.step is Step.COAUTHORS:
        draft.coauthors = []
    elif draft.step is Step.ATTACHMENTS:
        draft.attachments = []
    else:
        raise InputError(_("That button does not belong to this question."))
    return _("Cleared. You can start again.")


def add_attachment(draft: Initiative, attachment: Attachment) -> Text:
    """Keep a photo or document; at most ten, each once."""
    if draft.step is not Step.ATTACHMENTS:
        raise InputError(_("A file is not expected here."))
    if any(a.file_unique_id == attachment.file_unique_id for a in draft.attachments):
        return _("This file was already added.")
    if len(draft.attachments) >= MAX_ATTACHMENTS:
        raise InputError(
            _("You can attach at most {limit} files; this one was not added.",
              limit=MAX_ATTACHMENTS)
        )  # fmt: skip
    draft.attachments = [*draft.attachments, attachment]
    return _("File {count}/{limit} received.", count=len(draft.attachments), limit=MAX_ATTACHMENTS)


def shorten(text: str, limit: int = BUTTON_LABEL_MAX) -> str:
    """Text cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
