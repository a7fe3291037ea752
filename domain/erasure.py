"""A member's right to have their data erased: /xoadulieu (or /erase) in the chat, and
``python -m bot data erase`` for requests on paper or by phone.

The member's row stays, anonymous, because the figures count their initiatives: their
name, phone, accounts and drafts go; what an admin approved is the union's record and
keeps its content; what was not approved loses its texts and files; recordings go from
everything. The counts, benefit and rankings do not change.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Literal

from domain import typed
from domain.codes import ButtonCode, button_code
from domain.erased import ERASED_CONTENT, ERASED_NAME
from domain.errors import InputError, NotFound
from domain.message import encode_value
from domain.model import DialogState, Member
from domain.ports import UnitOfWork, UnitOfWorkFactory
from domain.ports_privacy import ErasureCounts, ErasurePlan
from domain.privacy import NOTICE_VERSION
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Text, _, n_
from domain.turn import Turn
from domain.ui import Button, Reply

log = logging.getLogger(__name__)

Requester = Literal["member", "operator"]
ERASED_CHANNEL = "erased"
# The word that confirms, as typed: "XÓA", "xoá", "xoa" (diacritics and case ignored).
CONFIRM_WORD = "xoa"
KEEP_WORDS = frozenset({"0", "menu", "khong", "no"})


class AlreadyErased(InputError):
    """The member's data was erased already: nothing is left to erase."""


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did, for the member's last message or the operator's terminal."""

    member_id: int
    counts: ErasureCounts


async def _erasable(uow: UnitOfWork, member_id: int) -> Member:
    """The member to erase; NotFound or AlreadyErased otherwise."""
    member = (await uow.members.by_ids([member_id])).get(member_id)
    if member is None:
        raise NotFound(_("There is no member #{id}.", id=str(member_id)))
    if await uow.erasure.erased_at(member_id) is not None:
        raise AlreadyErased(_("The data of member #{id} was erased already: nothing was "
                              "changed.", id=str(member_id)))  # fmt: skip
    return member


async def erasure_plan(uow: UnitOfWork, member_id: int) -> ErasurePlan:
    """What erasing the member would do, counted."""
    await _erasable(uow, member_id)
    return await uow.erasure.plan(member_id)


async def erase_member(
    uow: UnitOfWork, member_id: int, requested_by: Requester, now: dt.datetime
) -> ErasureReport:
    """Erase the member's personal data in the caller's transaction, and record it."""
    member = await _erasable(uow, member_id)
    # Before consent, the row's display name is the account's id, not a name.
    shown = member.display_name if member.display_name != member.external_id else ""
    names = [member.full_name or "", shown, member.phone or ""]
    erased = (encode_value(ERASED_NAME), encode_value(ERASED_CONTENT))
    counts = await uow.erasure.erase(member_id, names, erased, now)
    await uow.erasure.withdraw(member_id, NOTICE_VERSION, member.channel, now)
    await uow.erasure.record(member_id, requested_by, counts, now)
    # The member's id only: a log line must not keep what was just erased.
    log.info("erased the personal data of member #%s (asked by the %s)", member_id, requested_by)
    return ErasureReport(member_id, counts)


def anonymize(member: Member) -> None:
    """The member as the erasure left their row, for a turn that still holds them."""
    member.channel, member.external_id = ERASED_CHANNEL, f"erased-{member.id}"
    member.display_name, member.full_name, member.phone = "", None, None
    member.nudges = member.named = member.reachable = False
    member.consent_version = None


def plan_lines(plan: ErasurePlan) -> list[Text]:
    """What erasing will do, line by line, with the member's own counts."""
    counted = [
        (
            plan.drafts,
            n_(
                "• {count} draft will be deleted.", "• {count} drafts will be deleted.", plan.drafts
            ),
        ),
        (
            plan.kept,
            n_(
                "• {count} approved initiative stays as the union's record, with its "
                "content, without your name.",
                "• {count} approved initiatives stay as the union's record, with their "
                "content, without your name.",
                plan.kept,
            ),
        ),
        (
            plan.blanked,
            n_(
                "• {count} initiative not approved loses its texts and files.",
                "• {count} initiatives not approved lose their texts and files.",
                plan.blanked,
            ),
        ),
        (
            plan.recordings,
            n_(
                "• {count} voice note or round video will be deleted.",
                "• {count} voice notes and round videos will be deleted.",
                plan.recordings,
            ),
        ),
    ]
    lines = [
        _("🗑 Erase your data?"),
        n_("This withdraws your consent and erases your name, your phone number and the "
           "link to your {count} chat account.",
           "This withdraws your consent and erases your name, your phone number and the "
           "links to your {count} chat accounts.", plan.accounts),
        # What does not happen to this member is not said: "0 drafts" only puzzles.
        *(line for count, line in counted if count),
        _("• The counts, benefit and rankings of your union do not change."),
        _("This cannot be undone. To keep a copy of your data first, send /mydata."),
        _("To confirm, tap “🗑 Erase my data” or type XÓA. To keep everything, tap Cancel "
          "or type 0."),
    ]  # fmt: skip
    return lines


def done_lines(counts: ErasureCounts) -> list[Text]:
    """The member's last message: what was done."""
    return [
        _("✅ Your data has been erased and your consent withdrawn."),
        _("Drafts deleted: {drafts} · approved initiatives kept without your name: {kept} · "
          "initiatives whose texts were erased: {blanked} · files deleted: {files}.",
          drafts=counts.drafts_deleted, kept=counts.initiatives_kept,
          blanked=counts.texts_removed, files=counts.files_removed),
        _("The bot will not write to you again. If you write to it later, you start afresh "
          "as a new member."),
    ]  # fmt: skip


@button_code("e", "go")
@dataclass(frozen=True, slots=True)
class ConfirmErasure(ButtonCode):
    """e:go:12 — erase the data of member 12 (the one who was asked)."""

    member: int


@button_code("e", "no")
@dataclass(frozen=True, slots=True)
class KeepData(ButtonCode):
    """e:no — do not erase."""


ErasurePress = ConfirmErasure | KeepData


class ErasureDesk:
    """/xoadulieu and /erase: what will happen, then the member's confirmation."""

    def routes(self) -> Routes:
        """Open to anyone the bot holds data about, joined or not."""
        ask = CommandRoute(self._ask, open=True)
        return Routes(
            commands={"xoadulieu": ask, "erase": ask},
            buttons={"e": ButtonRoute(self._press)},
            states={DialogState.ERASING: StateRoute(self._typed, self._prompt, cancel=self._keep)},
        )

    async def _ask(self, turn: Turn, _argument: str = "") -> None:
        await self._prompt(turn)

    async def _prompt(self, turn: Turn, *before: Text) -> None:
        """The confirmation, with this member's counts."""
        try:
            plan = await erasure_plan(turn.uow, turn.member.id)
        except InputError as error:
            turn.pause()
            turn.say(*before, error.text)
            return
        turn.conversation.state = DialogState.ERASING
        buttons = ((Button(_("🗑 Erase my data"), ConfirmErasure(turn.member.id).encode()),),
                   (Button(_("Cancel"), KeepData().encode()),))  # fmt: skip
        turn.say(*before, *plan_lines(plan), buttons=buttons)

    async def _typed(self, turn: Turn, text: str) -> None:
        word = typed.fold(text)
        if word == CONFIRM_WORD:
            await self._erase(turn)
        elif word in KEEP_WORDS:
            await self._keep(turn)
        else:
            await self._prompt(turn, _("Type XÓA to erase your data, or 0 to keep it."))

    async def _press(self, turn: Turn, press: ErasurePress) -> None:
        if isinstance(press, KeepData):
            await self._keep(turn)
        elif press.member != turn.member.id:
            # The account that was erased has no member any more: whoever presses now is
            # someone new, with nothing of the erased member's.
            turn.say(_("Those data were erased already: nothing more was changed."))
        elif turn.conversation.state is not DialogState.ERASING:
            turn.say(_("This confirmation is no longer valid: nothing was changed. Send "
                       "/xoadulieu to start again."))  # fmt: skip
        else:
            await self._erase(turn)

    async def _keep(self, turn: Turn) -> None:
        turn.pause()
        if turn.member.has_joined:
            turn.menu(_("Nothing was erased."))
        else:
            turn.say(_("Nothing was erased."))

    async def _erase(self, turn: Turn) -> None:
        report = await erase_member(turn.uow, turn.member.id, "member", turn.now)
        anonymize(turn.member)
        turn.pause()
        turn.conversation.draft_id, turn.conversation.choices = None, ()
        # The erased row is written by the use case alone; the turn saves nothing over it.
        turn.forgotten = True
        # The main menu's keyboard would stay under a chat that is no member's any more.
        turn.outcome.replies.append(Reply(tuple(done_lines(report.counts)), remove_keyboard=True))


async def operator_plan(units_of_work: UnitOfWorkFactory, member_id: int) -> ErasurePlan:
    """What erasing a member would do, for the operator to confirm."""
    async with units_of_work() as uow:
        return await erasure_plan(uow, member_id)


async def erase_for_operator(
    units_of_work: UnitOfWorkFactory, member_id: int, now: dt.datetime
) -> ErasureReport:
    """An erasure asked for on paper or by phone, done by the operator, in one transaction."""
    async with units_of_work() as uow:
        report = await erase_member(uow, member_id, "operator", now)
        await uow.commit()
    return report
