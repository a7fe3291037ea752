"""What a member types at a question of the submission dialog, where a tap would do.

Typed command words ("xong", "quay lại", "hủy", "bỏ qua", "giữ nguyên"), the name of
a choice ("ky thuat") or its number ("2") become the button they stand for, so the
dialog behaves as if it had been tapped; they are never stored as an answer.
"""

from __future__ import annotations

from collections.abc import Callable

from domain import answers, codes, dialog, typed
from domain.dialog import DraftPress
from domain.errors import InputError
from domain.model import Initiative, Step
from domain.text import Text, Verbatim, _
from domain.typed import Intent
from domain.ui import Button

# Renders a button's label in every interface language.
Spell = Callable[[Text], tuple[str, ...]]
# Where a yes or a no is asked, the codes' actions and values that mean it.
_YES = frozenset({("pick", "yes"), ("discard_yes", None)})
_NO = frozenset({("pick", "no"), ("discard_no", None)})


def _action(code: str) -> tuple[str, str | None]:
    """What a button of the draft's question does, and the choice it carries."""
    press = codes.parse(code)
    return (press.act, press.value) if isinstance(press, DraftPress) else ("", None)


def _find(buttons: list[Button], *actions: str) -> str | None:
    for action in actions:
        for candidate in buttons:
            if _action(candidate.code)[0] == action:
                return candidate.code
    return None


def _command(draft: Initiative, word: Intent, buttons: list[Button]) -> str:
    """The button a command word stands for here, or why it does not fit."""
    if word is Intent.DONE:
        found = _find(buttons, "done", "keep")
        if found is None and draft.step in dialog.MULTI_MESSAGE_STEPS:
            answers.answer_done(draft)  # says what is missing
        if found is None:
            raise InputError(_("Nothing to finish here: please type your answer."))
        return found
    if word is Intent.BACK:
        found = _find(buttons, "back", "discard_no")
        if found is None:
            raise InputError(_("To change an answer, choose ✏️ next to the part to change."))
        return found
    if word is Intent.KEEP:
        found = _find(buttons, "keep")
        if found is None:
            raise InputError(_("There is no answer to keep yet. Please answer the question."))
        return found
    # Skipping: keep the answer there is, or go on without co-authors or files.
    found = _find(buttons, "keep")
    if found is None and draft.step in (Step.COAUTHORS, Step.ATTACHMENTS):
        found = _find(buttons, "done")
    if found is None:
        raise InputError(_("This question cannot be skipped. Please answer it."))
    return found


def _yes_no(text: str, buttons: list[Button]) -> str | None:
    folded = typed.fold(text)
    wanted = _YES if folded in typed.YES_WORDS else _NO if folded in typed.NO_WORDS else None
    if wanted is None:
        return None
    return next((b.code for b in buttons if _action(b.code) in wanted), None)


def _choice(draft: Initiative, text: str, buttons: list[Button], spell: Spell) -> str:
    """At a question answered by a tap: the button named or numbered, or why not."""
    number = typed.number(text)
    if number is not None:
        if 1 <= number <= len(buttons):
            return buttons[number - 1].code
        raise InputError(_("Please choose a number from 1 to {count}.", count=len(buttons)))
    found = _yes_no(text, buttons)
    if found is not None:
        return found
    result = typed.match(text, [typed.Choice(b.code, spell(b.label)) for b in buttons])
    if result.code is not None:
        return result.code
    if result.ambiguous:
        raise InputError(_("“{text}” fits several choices. Please choose one of them.",
                           text=Verbatim(dialog.shorten(text.strip(), 40))))  # fmt: skip
    raise InputError(_("Please choose one of the options, or type its name or number."))


def typed_tap(draft: Initiative, text: str, spell: Spell) -> str | Intent | None:
    """The button typed text stands for at the draft's question (its code), a cancel,
    or None when the text is the answer itself."""
    buttons = [b for row in dialog.question(draft).buttons for b in row]
    word = typed.intent(text)
    if word in (Intent.CANCEL, Intent.MENU):
        return Intent.CANCEL
    if word is not None:
        return _command(draft, word, buttons)
    if draft.step in dialog.CHOICE_STEPS:
        return _choice(draft, text, buttons, spell)
    if typed.fold(text) in typed.NO_WORDS:
        # "không" where the button says there are no co-authors, or no files.
        none = [b.code for b in buttons if b.label in (dialog.NO_COAUTHORS, dialog.NO_FILES)]
        if none:
            return none[0]
    # Where the answer is typed, only a button's whole label is a tap ("chua ap dung");
    # a longer text is an answer, and its labels need not be rendered to tell.
    if len(text) > typed.MAX_TYPED_CHOICE:
        return None
    return typed.match(text, [typed.Choice(b.code, spell(b.label)) for b in buttons],
                       exact=True).code  # fmt: skip
