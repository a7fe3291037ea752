"""The submission dialog as a feature: drafts opened, answered, edited, submitted or
discarded, every answer saved as it is given."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from zoneinfo import ZoneInfo

from domain import answers, dialog, dialog_input
from domain.dialog import DraftAct, DraftPress, FreshDraft, ResumeDraft
from domain.errors import InputError
from domain.model import (
    EDITABLE,
    AttachmentKind,
    DialogState,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    Step,
)
from domain.parsing import TEXT_LIMIT
from domain.ports_similar import SimilarRules
from domain.review_card import reason_text
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes, StateRoute
from domain.similar import DEFAULT_RULES, hint
from domain.submission import MissingAnswer, Submission, discard
from domain.text import Text, Verbatim, _, n_
from domain.turn import Forged, Turn
from domain.typed import Intent
from domain.ui import UNSUPPORTED_LABELS, Button, FileShared, Reply

log = logging.getLogger(__name__)

MAX_OPEN_DRAFTS = 20
DRAFT_CHOICES = 5
RECORDINGS = frozenset({AttachmentKind.VOICE, AttachmentKind.VIDEO_NOTE})
# The draft buttons that carry a choice; no other carries one.
VALUED: frozenset[DraftAct] = frozenset({"pick", "edit"})
# What a press on a button of the draft's question does: (turn, draft, the button's value).
ActionHandler = Callable[[Turn, Initiative, str | None], Awaitable[None]]


class Drafting:
    """The submission dialog, from /new to "Gửi duyệt"."""

    def __init__(
        self,
        *,
        timezone: ZoneInfo,
        prompt: Prompt,
        spell: Callable[[Text], tuple[str, ...]],
        press: Callable[[Turn, str], Awaitable[None]],
        cancel: Callable[[Turn], Awaitable[None]],
        begin: Callable[[Turn], Awaitable[None]],
        similar: SimilarRules = DEFAULT_RULES,
    ) -> None:
        self._submission = Submission(timezone, similar)
        # When initiatives like the one being written are hinted after its title and solution.
        self._similar = similar
        # The service's: ask again what is expected; a label in every language; press a
        # button by its code; /cancel; and a new initiative (a helper says whose first).
        self._prompt = prompt
        self._spell = spell
        self._button = press
        self._cancel = cancel
        self._begin = begin

    def routes(self) -> Routes:
        """/new, the draft buttons, the draft's questions, and files shared anywhere."""
        return Routes(
            commands={"new": CommandRoute(lambda turn, _a: self._new(turn), leaves=False)},
            buttons={
                "d": ButtonRoute(self._draft_button, open=False),
                "n": ButtonRoute(self._draft_menu_button, open=False),
            },
            states={
                DialogState.DRAFTING: StateRoute(self._drafting_text, self._draft_prompt,
                                                 cancel_word=False, cancel=self._stop),
            },
            file=self.file,
        )  # fmt: skip

    async def _stop(self, turn: Turn) -> None:
        """/cancel while drafting: leave the dialog; the draft stays saved at its step."""
        draft = await self.active_draft(turn)
        turn.pause()
        if draft is None:
            await self._prompt(turn, _("There is nothing to cancel."))
            return
        turn.menu(_("Stopped. Draft {number} is saved; type /new to continue it.",
                    number=draft.number))  # fmt: skip

    async def _draft_prompt(self, turn: Turn, *before: Text) -> None:
        draft = await self.active_draft(turn)
        if draft is None:
            await self._prompt(turn, *before)
            return
        replacing = bool(turn.conversation.data.get("replace"))
        turn.show(dialog.question(draft, replacing=replacing), *before)

    async def active_draft(self, turn: Turn) -> Initiative | None:
        draft_id = turn.conversation.draft_id
        draft = await turn.uow.initiatives.get(draft_id) if draft_id else None
        if draft is None or draft.status not in EDITABLE:
            turn.pause()
            return None
        return draft

    async def _drafting_text(self, turn: Turn, text: str) -> None:
        draft = await self.active_draft(turn)
        if draft is None:
            await self._prompt(turn)
        else:
            await self._draft_text(turn, draft, text)

    async def _draft_text(self, turn: Turn, draft: Initiative, text: str) -> None:
        tap = dialog_input.typed_tap(draft, text, self._spell)
        if tap is Intent.CANCEL:
            await self._cancel(turn)
            return
        if tap is not None:
            # Exactly as if the button had been pressed, refusals included.
            await self._button(turn, tap)
            return
        replace_text = bool(turn.conversation.data.pop("replace", False))
        acknowledgement = answers.answer_text(draft, text, turn.today, replace_text)
        if acknowledgement is None:
            await self._save_draft(turn, draft)
            turn.show(_continuation(draft))
            return
        await self._advance(turn, draft, draft.step, acknowledgement, written=True)

    async def _save_draft(self, turn: Turn, draft: Initiative) -> None:
        draft.updated_at = turn.now
        await turn.uow.initiatives.save(draft)

    async def _advance(
        self,
        turn: Turn,
        draft: Initiative,
        answered: Step,
        before: Sequence[Text] = (),
        *,
        written: bool = False,
    ) -> None:
        """Go to the next question; ``written``: the answer was just given (not kept), so
        similar initiatives may be hinted before the question."""
        draft.step = dialog.next_step(draft, answered)
        if draft.step is Step.SUMMARY:
            draft.editing = False
        turn.conversation.data = {}
        await self._save_draft(turn, draft)
        if written:
            found = await hint(turn.uow, turn.member, draft, answered, self._similar,
                               buttons=turn.capabilities.buttons)  # fmt: skip
            if found is not None:
                turn.show(found)
        turn.show(dialog.question(draft), *before)

    async def _new(self, turn: Turn) -> None:
        drafts, count = await turn.uow.initiatives.drafts(turn.member.id, DRAFT_CHOICES)
        turn.pause()
        if not count:
            await self._begin(turn)
            return
        buttons = [
            (Button(_("▶️ {number}: {title}", number=d.number,
                      title=Verbatim(dialog.shorten(d.title or "…", 40))),
                    ResumeDraft(d.id).encode()),)
            for d in drafts
        ]  # fmt: skip
        buttons.append((Button(_("🆕 Start a new one"), FreshDraft().encode()),))
        turn.say(
            n_("You have {count} unfinished draft. Continue it or start a new one?",
               "You have {count} unfinished drafts. Continue one or start a new one?", count),
            buttons=tuple(buttons),
        )  # fmt: skip

    async def start_draft(self, turn: Turn, author: Member | None = None) -> None:
        _drafts, count = await turn.uow.initiatives.drafts(turn.member.id, 0)
        if count >= MAX_OPEN_DRAFTS:
            raise InputError(_("You already have {count} drafts. Please finish or discard one "
                               "first (📋 My initiatives).", count=count))  # fmt: skip
        member = turn.member
        owner = author or member
        assert owner.unit_id is not None
        draft = await turn.uow.initiatives.add(
            Initiative(
                id=0,
                author_id=owner.id,
                entered_by_id=member.id,
                unit_id=owner.unit_id,
                status=InitiativeStatus.DRAFT,
                created_at=turn.now,
                updated_at=turn.now,
            )
        )
        role = "author" if author is None else RoleKind.HELPER.value
        await turn.uow.initiatives.record(draft, member.id, "created", turn.now, role=role)
        self._activate(turn, draft)
        if author is not None:
            turn.say(_("You are entering an initiative for {name}; they will be its author.",
                       name=Verbatim(author.full_name or "")))  # fmt: skip
        turn.show(dialog.question(draft), _("New initiative {number}. Your answers are saved "
                                            "as you go.", number=draft.number))  # fmt: skip

    def _activate(self, turn: Turn, draft: Initiative) -> None:
        turn.conversation.state = DialogState.DRAFTING
        turn.conversation.draft_id = draft.id
        turn.conversation.data = {}

    async def _draft_menu_button(self, turn: Turn, press: ResumeDraft | FreshDraft) -> None:
        if isinstance(press, FreshDraft):
            await self._begin(turn)
            return
        draft = await owned(turn, press.draft)
        if draft is None:
            return
        if draft.status not in EDITABLE:
            turn.outcome.notice = _("This initiative can no longer be changed.")
            await self._prompt(turn)
            return
        self._activate(turn, draft)
        if draft.status is InitiativeStatus.RETURNED:
            draft.step, draft.editing = Step.SUMMARY, False
            await self._save_draft(turn, draft)
            lines = [_("Initiative {number} was returned for changes.", number=draft.number)]
            history = await turn.uow.initiatives.history(draft.id)
            returns = [e for e in history if e.action in ("return", "reopen")]
            if returns and (reason := reason_text(returns[-1].note)):
                lines.append(_("Reason: {reason}", reason=reason))
            lines.append(_("Edit what is needed with ✏️, then choose “📤 Submit for review”."))
            turn.show(dialog.question(draft), *lines)
            return
        turn.show(dialog.question(draft), _("Continuing draft {number}.", number=draft.number))

    async def _draft_button(self, turn: Turn, press: DraftPress) -> None:
        draft = await owned(turn, press.draft)
        if draft is None:
            return
        if draft.status not in EDITABLE:
            turn.outcome.notice = _("This initiative has already been submitted or discarded.")
            await self._prompt(turn)
            return
        if draft.step.value != press.step:
            turn.outcome.notice = _("That choice is from an earlier message.")
            if turn.conversation.draft_id == draft.id:
                self._activate(turn, draft)
            await self._prompt(turn)
            return
        self._activate(turn, draft)
        await self._draft_action(turn, draft, press.act, press.value)

    async def _draft_action(
        self, turn: Turn, draft: Initiative, act: DraftAct, value: str | None
    ) -> None:
        """One press on a button of the draft's question; each action belongs to a step."""
        actions: dict[DraftAct, tuple[Step | None, ActionHandler]] = {
            "pick": (None, self._pick),
            "keep": (None, self._keep),
            "done": (None, self._done),
            "clear": (None, self._clear),
            "back": (None, self._back),
            "full": (Step.SUMMARY, self._full_text),
            "edit": (Step.SUMMARY, self._edit),
            "submit": (Step.SUMMARY, self._submit),
            "save": (Step.SUMMARY, self._save_and_leave),
            "discard": (Step.SUMMARY, self._ask_discard),
            "discard_yes": (Step.DISCARD, self._discard),
            "discard_no": (Step.DISCARD, self._keep_draft),
        }
        step, run = actions[act]
        if (step is not None and draft.step is not step) or (act in VALUED) != (value is not None):
            raise Forged
        await run(turn, draft, value)

    async def _pick(self, turn: Turn, draft: Initiative, value: str | None) -> None:
        if value is None:
            raise Forged
        acknowledgement = answers.answer_pick(draft, value, turn.today)
        await self._advance(turn, draft, draft.step, acknowledgement)

    async def _keep(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        answers.answer_keep(draft)
        await self._advance(turn, draft, draft.step)

    async def _done(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        answers.answer_done(draft)
        await self._advance(turn, draft, draft.step, written=True)

    async def _clear(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        cleared = answers.clear_step(draft)
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft), cleared)

    async def _back(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        target = dialog.previous_step(draft)
        if target is None:
            await self._save_and_leave(turn, draft, None)
            return
        draft.step = target
        if target is Step.SUMMARY:
            draft.editing = False
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _full_text(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        turn.show(dialog.full_text(draft))
        turn.show(dialog.question(draft))

    async def _edit(self, turn: Turn, draft: Initiative, value: str | None) -> None:
        if value not in dialog.EDIT_LABELS:
            raise Forged
        draft.step = Step(value)
        draft.editing = True
        replacing = draft.step in dialog.MULTI_MESSAGE_STEPS and dialog.answered(draft, draft.step)
        if replacing:
            # The first message of an edit replaces the old text; later ones add to it.
            turn.conversation.data = {"replace": True}
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft, replacing=replacing))

    async def _save_and_leave(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        await self._save_draft(turn, draft)
        turn.pause()
        turn.menu(_("Draft {number} is saved. Type /new whenever you want to continue.",
                    number=draft.number))  # fmt: skip

    async def _ask_discard(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        draft.step = Step.DISCARD
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _discard(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        await discard(turn.uow, turn.member, draft.id, turn.now)
        turn.pause()
        turn.conversation.draft_id = None
        turn.menu(_("Draft {number} was discarded.", number=draft.number))

    async def _keep_draft(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        draft.step = Step.SUMMARY
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _submit(self, turn: Turn, draft: Initiative, _value: str | None = None) -> None:
        try:
            sent = await self._submission.submit(turn.uow, turn.member, draft.id, turn.now)
        except MissingAnswer as missing:
            draft.step = missing.step
            draft.editing = True
            await self._save_draft(turn, draft)
            turn.show(dialog.question(draft), missing.text)
            return
        sent.notices.into(turn.outcome)
        turn.pause()
        turn.conversation.draft_id = None
        turn.menu(
            _("📤 Initiative {number} has been sent for review to {unit}.",
              number=sent.initiative.number, unit=Verbatim(sent.unit.name if sent.unit else "")),
            _("Thank you! You will be told here when it has been reviewed."),
        )  # fmt: skip

    async def file(self, turn: Turn, shared: FileShared) -> None:
        """A photo or document for the files question, or a recorded answer."""
        draft = await self.active_draft(turn) if turn.conversation.state is (
            DialogState.DRAFTING) else None  # fmt: skip
        recording = shared.attachment.kind in RECORDINGS
        if draft is None:
            raise InputError(
                _("Sorry, I cannot use {what} here.", what=UNSUPPORTED_LABELS["voice"])
                if recording else _("A file is not expected here.")
            )  # fmt: skip
        if not recording:
            acknowledgement = answers.add_attachment(draft, shared.attachment)
        else:
            acknowledgement = answers.add_recording(draft, shared.attachment)
            if draft.step not in dialog.MULTI_MESSAGE_STEPS:
                await self._advance(turn, draft, draft.step, (acknowledgement,))
                return
        await self._save_draft(turn, draft)
        turn.show(_continuation(draft), acknowledgement)


async def owned(turn: Turn, initiative_id: int) -> Initiative | None:
    """The member's initiative with this id; anything else is refused and logged."""
    initiative = await turn.uow.initiatives.get(initiative_id)
    if initiative is None or turn.member.id not in (
        initiative.author_id,
        initiative.entered_by_id,
    ):
        log.warning("refused button for initiative %s from member %s", initiative_id,
                    turn.member)  # fmt: skip
        turn.outcome.notice = _("This choice is not for you.")
        return None
    return initiative


def _continuation(draft: Initiative) -> Reply:
    """A short reply for a step that takes several messages."""
    if draft.step not in dialog.MULTI_MESSAGE_STEPS:
        return dialog.question(draft)
    written = (draft.problem if draft.step is Step.PROBLEM else draft.solution) or ""
    saved = (_("Saved ({length} of {limit} characters). Send more, or choose “{done}”.",
               length=len(written), limit=TEXT_LIMIT, done=dialog.DONE) if written
             else _("Saved. Send more, or choose “{done}”.", done=dialog.DONE))  # fmt: skip
    return Reply(
        (saved,),
        ((dialog.button(draft, "done", dialog.DONE),
          dialog.button(draft, "clear", dialog.START_OVER)),
         (dialog.button(draft, "back", dialog.BACK),)),
    )  # fmt: skip
