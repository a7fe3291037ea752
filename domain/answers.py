"""Answers applied to a draft: typed text, a tap on a choice, "Done", "Keep", clearing,
files and recordings. Each raises InputError, kindly worded, when the answer cannot be
used; the draft is then unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from domain import dialog
from domain.errors import InputError
from domain.model import Attachment, Coauthor, FieldOfUse, Initiative, SolutionKind, Step
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
from domain.text import Day, Money, Text, _


def _long_text(draft: Initiative, text: str, replace: bool) -> list[Text] | None:
    piece = clean_text(text, limit=TEXT_LIMIT)
    current = draft.problem if draft.step is Step.PROBLEM else draft.solution
    combined = piece if replace or not current else f"{current}\n{piece}"
    if len(combined) > TEXT_LIMIT:
        raise InputError(
            _("That would make this part {length} characters long; the limit is {limit}. "
              "Please shorten it.", length=len(combined), limit=TEXT_LIMIT)
        )  # fmt: skip
    if draft.step is Step.PROBLEM:
        draft.problem = combined
    else:
        draft.solution = combined
    return None


def _title_text(draft: Initiative, text: str, _today: dt.date) -> list[Text]:
    draft.title = clean_text(text, limit=TITLE_LIMIT)
    return []


def _applied_text(draft: Initiative, text: str, today: dt.date) -> list[Text]:
    draft.applied_since = parse_day(text, today)
    draft.applied = True
    return [_("Applied since {date}.", date=Day(draft.applied_since))]


def _effect_text(draft: Initiative, text: str, _today: dt.date) -> list[Text]:
    draft.effect = clean_text(text, limit=TEXT_LIMIT)
    return []


def _benefit_text(draft: Initiative, text: str, _today: dt.date) -> list[Text]:
    amount = parse_amount(text, dialog.UNKNOWN_BENEFIT)
    draft.benefit_known = amount is not None
    draft.benefit_vnd = amount
    draft.benefit_range = None
    if amount is None:
        return [_("Estimated benefit: cannot estimate.")]
    return [_("Estimated benefit recorded: {amount}. If that is wrong, choose “{back}”.",
              amount=Money(amount), back=dialog.BACK)]  # fmt: skip


def _coauthors_text(draft: Initiative, text: str, _today: dt.date) -> list[Text] | None:
    added = parse_coauthors(text)
    existing = [CoauthorInput(name=c.name, share=c.share) for c in draft.coauthors]
    check_coauthor_total(existing, added)
    draft.coauthors = [*draft.coauthors, *(Coauthor(a.name, a.share) for a in added)]
    draft.coauthors_done = False
    return None


def _note_text(draft: Initiative, text: str, _today: dt.date) -> list[Text]:
    draft.confidential_note = clean_text(text, limit=TEXT_LIMIT)
    return []


def _files_text(draft: Initiative, _text: str, _today: dt.date) -> list[Text]:
    label = dialog.DONE if dialog.files(draft) else dialog.NO_FILES
    raise InputError(_("Please send a photo or a document, or choose “{button}”.", button=label))


_TEXT_ANSWERS: dict[Step, Callable[[Initiative, str, dt.date], list[Text] | None]] = {
    Step.TITLE: _title_text,
    Step.APPLIED: _applied_text,
    Step.EFFECT: _effect_text,
    Step.BENEFIT: _benefit_text,
    Step.COAUTHORS: _coauthors_text,
    Step.CONFIDENTIAL_NOTE: _note_text,
    Step.ATTACHMENTS: _files_text,
}


def answer_text(draft: Initiative, text: str, today: dt.date, replace: bool) -> list[Text] | None:
    """Apply typed text to the current step.

    Returns acknowledgement lines to move on, or None to stay on the step (a step
    that takes several messages).
    """
    step = draft.step
    if step in dialog.MULTI_MESSAGE_STEPS:
        return _long_text(draft, text, replace)
    answer = _TEXT_ANSWERS.get(step)
    if answer is not None:
        return answer(draft, text, today)
    raise InputError(_("Please choose one of the options, or type its name or number."))


def answer_pick(draft: Initiative, value: str, today: dt.date) -> list[Text]:
    """Apply a choice button of the current step; raises InputError for a bad value."""
    step = draft.step
    if step is Step.KIND and value in set(SolutionKind):
        draft.kind = SolutionKind(value)
    elif step is Step.FIELD and value in set(FieldOfUse):
        draft.field = FieldOfUse(value)
    elif step is Step.APPLIED and value in ("no", "month"):
        draft.applied = value == "month"
        draft.applied_since = today.replace(day=1) if draft.applied else None
    elif step is Step.BENEFIT and value == "unknown":
        draft.benefit_known, draft.benefit_vnd, draft.benefit_range = False, None, None
    elif step is Step.BENEFIT and value in dialog.BENEFIT_RANGES:
        draft.benefit_known, draft.benefit_range = True, value
        draft.benefit_vnd = dialog.BENEFIT_RANGES[value][0]
    elif step is Step.CONFIDENTIAL and value in ("yes", "no"):
        draft.confidential = value == "yes"
        if not draft.confidential:
            draft.confidential_note = None
    else:
        raise InputError(_("That choice does not belong to this question."))
    return []


def answer_done(draft: Initiative) -> None:
    """Finish a step that takes several messages; raises if nothing was given yet."""
    step = draft.step
    if step in dialog.MULTI_MESSAGE_STEPS and not dialog.answered(draft, step):
        raise InputError(_("Please write at least one message first."))
    if step is Step.COAUTHORS:
        draft.coauthors_done = True
        return
    if step not in (*dialog.MULTI_MESSAGE_STEPS, Step.ATTACHMENTS):
        raise InputError(_("That choice does not belong to this question."))


def answer_keep(draft: Initiative) -> None:
    """Go on with the answer the step already has."""
    if not dialog.answered(draft, draft.step):
        raise InputError(_("There is no answer to keep yet. Please answer the question."))


def clear_step(draft: Initiative) -> Text:
    """Empty the answer of a multi-message step so the member can start over."""
    step = draft.step
    if step is Step.PROBLEM:
        draft.problem = None
    elif step is Step.SOLUTION:
        draft.solution = None
    elif step is Step.COAUTHORS:
        draft.coauthors = []
    elif step is not Step.ATTACHMENTS:
        raise InputError(_("That choice does not belong to this question."))
    # Recordings go with the answer they give; photos and documents with the files step.
    answer = None if step is Step.ATTACHMENTS else step.value
    draft.attachments = [a for a in draft.attachments if a.answer != answer]
    return _("Cleared. You can start again.")


def add_attachment(draft: Initiative, attachment: Attachment) -> Text:
    """Keep a photo or document; at most ten, each once."""
    if draft.step is not Step.ATTACHMENTS:
        raise InputError(_("A file is not expected here."))
    if any(a.file_unique_id == attachment.file_unique_id for a in draft.attachments):
        return _("This file was already added.")
    count = len(dialog.files(draft))
    if count >= dialog.MAX_ATTACHMENTS:
        raise InputError(
            _("You can attach at most {limit} files; this one was not added.",
              limit=dialog.MAX_ATTACHMENTS)
        )  # fmt: skip
    draft.attachments = [*draft.attachments, attachment]
    return _("File {count}/{limit} received.", count=count + 1, limit=dialog.MAX_ATTACHMENTS)


def add_recording(draft: Initiative, recording: Attachment) -> Text:
    """Keep a voice message or round video as (part of) the answer to the current step."""
    step = draft.step
    if step not in dialog.RECORDED_STEPS:
        raise InputError(_("A voice message can answer the questions about the situation "
                           "before, the solution and the effect. Here, please type."))  # fmt: skip
    if any(a.file_unique_id == recording.file_unique_id for a in draft.attachments):
        return _("This recording was already added.")
    if len(dialog.recordings(draft, step)) >= dialog.MAX_RECORDINGS:
        raise InputError(_("At most {limit} recordings per answer; this one was not added.",
                           limit=dialog.MAX_RECORDINGS))  # fmt: skip
    draft.attachments = [*draft.attachments, replace(recording, answer=step.value)]
    return _("Recording received: {recording}.", recording=dialog.recorded([recording]))
