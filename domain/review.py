"""Review in the chat: the review card's buttons and the decision dialog, /pending,
/reopen, /history, and the daily digest of what waits. The work itself is done by the
use cases of domain/review_cases.py, which other channels call too."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from zoneinfo import ZoneInfo

from domain import dialog, review_cases, review_typed
from domain.erased import name_text, title_text
from domain.errors import InputError, NotAllowed, NotFound
from domain.model import (
    Decision,
    DialogState,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    format_number,
    parse_number,
)
from domain.paging import navigation
from domain.parsing import clean_text
from domain.ports import UnitOfWork
from domain.ports_similar import SimilarFound
from domain.review_card import (
    DECISION_PRESSES,
    PRESET_REASONS,
    CancelDecision,
    ChooseReason,
    ConfirmDecision,
    DecisionPress,
    NameOriginal,
    OnVersion,
    OpenPending,
    PendingPress,
    ReadFull,
    ReviewPress,
    ShowPending,
    card_matches,
    decided_line,
    original_of,
    preset_note,
    preset_of,
    reason_text,
    recorded_matches,
    review_card,
)
from domain.review_cases import REASON_LIMIT, PendingPage, Preset, Reason, ReviewOutdated
from domain.roles import units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Day, Moment, Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, Delivery, Reply

log = logging.getLogger(__name__)

# Also what other modules take from here.
__all__ = ["ACTION_LABELS", "DECISION_CODES", "PRESET_REASONS", "ReviewDesk", "reason_text"]

PAGE_SIZE = 5
# The dialog asks which initiative a duplicate duplicates; its titles on the buttons.
ORIGINAL = "original"
ORIGINAL_TITLE = 40
NUMBER_NOT_KNOWN = _("Number not known")
DIGEST_ITEMS = 10
UNIT_COUNTS = 8

DECISION_CODES = {str(press.action): press.decision for press in DECISION_PRESSES}
DECISION_VERBS: dict[Decision, Text] = {
    Decision.APPROVE: _("approve"),
    Decision.RETURN: _("return for changes"),
    Decision.REJECT: _("reject"),
}
ACTION_LABELS: dict[str, Text] = {
    "created": _("Draft created"),
    "submitted": _("Submitted for review"),
    "resubmitted": _("Resubmitted after changes"),
    "reopen": _("Decision taken back, returned for changes"),
    "discarded": _("Draft discarded"),
    Decision.APPROVE.value: _("Approved"),
    Decision.RETURN.value: _("Returned for changes"),
    Decision.REJECT.value: _("Rejected"),
}


class ReviewDesk:
    """The review dialog around the use cases, and the reminders of what waits."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self._tz = timezone

    def routes(self) -> Routes:
        """/pending, /reopen, /history; the review buttons; a typed reason; a typed
        decision ("duyet SK-000123")."""
        return Routes(
            commands={
                "pending": CommandRoute(lambda turn, _a: self.pending(turn, 0), open=True),
                "reopen": CommandRoute(self.reopen, open=True),
                "history": CommandRoute(self.history, open=True, leaves=False),
            },
            buttons={"r": ButtonRoute(self.button), "p": ButtonRoute(self.pending_button)},
            states={DialogState.REVIEWING: StateRoute(self.text, self.prompt)},
            idle_text=self.typed,
        )

    # -- a decision typed in words -------------------------------------------------

    async def typed(self, turn: Turn, text: str) -> bool:
        """ "duyet SK-000123", "tu choi SK-000123 <lý do>"…: an admin decides the current
        version in one message. Anyone who holds no admin role is answered as before."""
        typed = review_typed.parse(text)
        if typed is None or not await units_held(turn.uow, turn.member.id, RoleKind.ADMIN):
            return False
        try:
            await self._decide_typed(turn, typed)
        except NotAllowed as refusal:
            log.warning("member %s was refused: %s", turn.member, refusal.text.msgid)
            turn.say(refusal.text)
        except InputError as error:
            # Not found, already decided, a newer version, a reason too long.
            turn.say(error.text)
        return True

    async def _decide_typed(self, turn: Turn, typed: review_typed.TypedDecision) -> None:
        if typed.initiative is None:
            turn.say(_("Type the initiative's number after the word, for example "
                       "“approve SK-000123” or “reject SK-000123 reason”."))  # fmt: skip
            return
        initiative = await review_cases.awaiting_decision(turn.uow, turn.member,
                                                          typed.initiative)  # fmt: skip
        if typed.decision is not Decision.APPROVE and typed.reason is None:
            # Nothing is decided: the dialog asks for the reason, as after a press.
            self._ask(turn, initiative, typed.decision, _("Please choose or type a reason first."))
            return
        decided = await review_cases.decide(
            turn.uow, turn.member, initiative.id, initiative.version, typed.decision,
            typed.reason, turn.now,
        )  # fmt: skip
        decided.notices.into(turn.outcome)
        turn.menu(decided_line(decided.entry), _("The author has been told."))

    # -- buttons and text --------------------------------------------------------

    async def button(self, turn: Turn, press: ReviewPress) -> None:
        """A press on a review card or on a decision prompt."""
        await self._refusing(turn, self._press(turn, press))

    async def _refusing(self, turn: Turn, work: Awaitable[None]) -> None:
        """Answer a press the use case refused: not ours to make, not allowed, or late."""
        try:
            await work
        except NotFound:
            raise Forged from None
        except NotAllowed as refusal:
            log.warning("member %s was refused: %s", turn.member, refusal.text.msgid)
            turn.outcome.notice = refusal.text
        except ReviewOutdated as stale:
            await self._stale(turn, stale)

    async def _press(self, turn: Turn, press: ReviewPress) -> None:
        uow, member = turn.uow, turn.member
        if isinstance(press, ReadFull):
            self._full(turn, await review_cases.read_full(uow, member, press.initiative))
            return
        if isinstance(press, ConfirmDecision) and self._in_progress(turn, press):
            await self._decide(turn, press)
            return
        initiative = await review_cases.awaiting_decision(
            uow, member, press.initiative, press.version
        )
        match press:
            case DecisionPress(decision=decision):
                self._ask(turn, initiative, decision)
            case ChooseReason(reason=reason):
                self._expect(turn, press)
                if reason == "duplicate" and await self._ask_original(turn, initiative):
                    return
                turn.conversation.data.pop("ask", None)
                turn.conversation.data["note"] = preset_note(reason)
                self._confirm(turn, initiative)
            case NameOriginal(original=original):
                self._expect(turn, press)
                await self._name_original(turn, initiative, original)
            case CancelDecision():
                turn.pause()
                turn.menu(_("Cancelled. {number} still awaits review.", number=initiative.number))
            case _:
                # A confirmation with no decision in progress.
                raise Forged

    def _in_progress(self, turn: Turn, press: OnVersion | ChooseReason) -> bool:
        """Whether the press continues the decision this admin started on this version."""
        data = turn.conversation.data
        return (
            turn.conversation.state is DialogState.REVIEWING
            and data.get("i") == press.initiative
            and data.get("v") == press.version
        )

    def _expect(self, turn: Turn, press: OnVersion | ChooseReason) -> None:
        if not self._in_progress(turn, press):
            raise Forged

    async def text(self, turn: Turn, text: str) -> None:
        """A typed reason or comment."""
        data = turn.conversation.data
        initiative = await turn.uow.initiatives.get(int(data.get("i", 0)))
        if initiative is None or initiative.status is not InitiativeStatus.PENDING:
            turn.pause()
            turn.menu(_("This initiative is no longer awaiting review."))
            return
        if data.get("ask") == ORIGINAL and not data.get("note"):
            await self._typed_original(turn, initiative, text)
            return
        data["note"] = clean_text(text, limit=REASON_LIMIT)
        self._confirm(turn, initiative)

    async def prompt(self, turn: Turn, *before: Text) -> None:
        """Ask again for what the decision in progress still needs."""
        data = turn.conversation.data
        initiative = await turn.uow.initiatives.get(int(data.get("i", 0)))
        if initiative is None or initiative.status is not InitiativeStatus.PENDING:
            turn.pause()
            turn.menu(*before)
            return
        if data.get("note") or data.get("d") == Decision.APPROVE.value:
            self._confirm(turn, initiative, *before)
        elif data.get("ask") != ORIGINAL or not await self._ask_original(turn, initiative,
                                                                         *before):  # fmt: skip
            self._ask(turn, initiative, Decision(data["d"]), *before)

    # -- a duplicate names its original ----------------------------------------------

    async def _ask_original(self, turn: Turn, initiative: Initiative, *before: Text) -> bool:
        """Which initiative this one duplicates: the similar ones the admin may see, or a
        number typed. False, asking nothing, when none is like it."""
        recorded = await recorded_matches(turn.uow, initiative.id)
        matches = await card_matches(turn.uow, turn.member, recorded) if recorded else []
        if not matches:
            return False
        data = turn.conversation.data
        data.pop("note", None)
        data["ask"] = ORIGINAL
        turn.say(*before, _("Which initiative does {number} duplicate? Choose it, or type its "
                            "number (for example {example}).", number=initiative.number,
                            example=format_number(matches[0].initiative_id)),
                 buttons=_original_rows(initiative, Decision(data["d"]), matches))  # fmt: skip
        return True

    async def _name_original(self, turn: Turn, initiative: Initiative, original: int) -> None:
        """The original chosen or typed (0: not known); one that may not be named is said
        so, and the question asked again."""
        if original:
            try:
                await review_cases.named_original(turn.uow, turn.member, initiative, original)
            except InputError as wrong:
                if not await self._ask_original(turn, initiative, wrong.text):
                    self._ask(turn, initiative, Decision(turn.conversation.data["d"]), wrong.text)
                return
        turn.conversation.data.pop("ask", None)
        turn.conversation.data["note"] = preset_note("duplicate", original or None)
        self._confirm(turn, initiative)

    async def _typed_original(self, turn: Turn, initiative: Initiative, text: str) -> None:
        """A number typed for the original: "SK-000123" or "123"."""
        original = parse_number(text)
        if original is None:
            wrong = _("Please type the number of the initiative it duplicates, for example "
                      "SK-000123, or choose below.")  # fmt: skip
            if not await self._ask_original(turn, initiative, wrong):
                self._ask(turn, initiative, Decision(turn.conversation.data["d"]), wrong)
            return
        await self._name_original(turn, initiative, original)

    def _ask(self, turn: Turn, initiative: Initiative, decision: Decision, *before: Text) -> None:
        turn.conversation.state = DialogState.REVIEWING
        turn.conversation.data = {"i": initiative.id, "v": initiative.version,
                                  "d": decision.value}  # fmt: skip
        if decision is Decision.APPROVE:
            self._confirm(turn, initiative, *before)
            return
        i, v = initiative.id, initiative.version
        rows = [(Button(label, ChooseReason(i, v, code).encode()),)
                for code, label in PRESET_REASONS.items()]  # fmt: skip
        rows.append((Button(_("Cancel"), CancelDecision(i, v).encode()),))
        turn.say(
            *before,
            _("Why {verb} {number}? Choose a reason or type your own.",
              verb=DECISION_VERBS[decision], number=initiative.number),
            buttons=tuple(rows),
        )  # fmt: skip

    def _confirm(self, turn: Turn, initiative: Initiative, *before: Text) -> None:
        data = turn.conversation.data
        decision = Decision(data["d"])
        lines = [*before, _("Confirm: {verb} {number}?", verb=DECISION_VERBS[decision],
                             number=initiative.number)]  # fmt: skip
        reason = reason_text(data.get("note"))
        if reason is not None:
            lines.append(_("Reason: {reason}", reason=reason))
        elif decision is Decision.APPROVE:
            lines.append(_("You may type a comment for the author first."))
        i, v = initiative.id, initiative.version
        turn.say(
            *lines,
            buttons=((Button(_("✅ Confirm"), ConfirmDecision(i, v).encode()),
                      Button(_("Cancel"), CancelDecision(i, v).encode())),),
        )  # fmt: skip

    async def _decide(self, turn: Turn, press: ConfirmDecision) -> None:
        data = turn.conversation.data
        decided = await review_cases.decide(
            turn.uow, turn.member, press.initiative, press.version, Decision(data["d"]),
            _reason(data.get("note")), turn.now,
        )  # fmt: skip
        turn.pause()
        decided.notices.into(turn.outcome)
        turn.menu(decided_line(decided.entry), _("The author has been told."))

    async def _stale(self, turn: Turn, stale: ReviewOutdated) -> None:
        """A press on a card that was decided or replaced: say so, change nothing else."""
        initiative, data = stale.initiative, turn.conversation.data
        if turn.conversation.state is DialogState.REVIEWING and data.get("i") == initiative.id:
            # Only a decision in progress on this very initiative ends here.
            turn.pause()
        turn.outcome.notice = stale.text
        if initiative.status is InitiativeStatus.PENDING or stale.decided is not None:
            # Show the card as it is now: the newer version's, or the decision made.
            turn.outcome.pressed = await review_card(turn.uow, initiative, stale.decided,
                                                          turn.member)  # fmt: skip

    def _full(self, turn: Turn, initiative: Initiative) -> None:
        lines = dialog.card_lines(initiative, full=True)
        if initiative.submitted_at:
            lines.append(_("Submitted: {date} (version {version})",
                           date=Day(initiative.submitted_at.astimezone(self._tz).date()),
                           version=initiative.version))  # fmt: skip
        turn.outcome.replies.append(Reply(tuple(lines), media=tuple(initiative.attachments)))

    # -- /pending ------------------------------------------------------------------

    async def pending(self, turn: Turn, page: int) -> None:
        """/pending: what waits in the admin's scope, oldest first."""
        try:
            listing = await review_cases.pending(turn.uow, turn.member, page, PAGE_SIZE)
        except NotAllowed as refusal:
            turn.say(refusal.text)
            return
        if not listing.total:
            turn.say(_("Nothing awaits review in your units. 👍"))
            return
        turn.say(*_listing_lines(listing, turn.now), buttons=_listing_buttons(listing))

    async def pending_button(self, turn: Turn, press: PendingPress) -> None:
        """Pages of /pending, and opening one entry's card."""
        if isinstance(press, ShowPending):
            await self.pending(turn, press.page)
            return
        await self._refusing(turn, self._open(turn, press.initiative))

    async def _open(self, turn: Turn, initiative_id: int) -> None:
        initiative = await review_cases.awaiting_decision(turn.uow, turn.member, initiative_id)
        # Sent as a card, so that it too shows the decision when someone makes it.
        card = await review_card(turn.uow, initiative, reader=turn.member)
        turn.outcome.deliveries.append(
            Delivery(turn.member, card, card=(initiative.id, initiative.version))
        )

    # -- reminders -------------------------------------------------------------------

    async def reminders(
        self, uow: UnitOfWork, now: dt.datetime, today: dt.date, after: dt.timedelta
    ) -> list[Delivery]:
        """One digest a day per admin of what waits longer than ``after``; waiting twice as
        long, it is raised to the admins one level up as well."""
        chains: dict[int, list[list[Member]]] = {}
        waiting: dict[int, tuple[Member, list[tuple[Initiative, bool]]]] = {}
        for item in await uow.initiatives.waiting_since(now - after):
            if item.unit_id not in chains:
                chains[item.unit_id] = await review_cases.reviewer_chain(uow, item.unit_id)
            chain = chains[item.unit_id]
            since = item.submitted_at or item.created_at
            targets = [(admin, False) for admin in chain[0]] if chain else []
            if now - since >= 2 * after and len(chain) > 1:
                targets += [(admin, True) for admin in chain[1]]
            for admin, raised in targets:
                waiting.setdefault(admin.id, (admin, []))[1].append((item, raised))
        deliveries = []
        for admin, items in waiting.values():
            if await uow.reminders.claim(admin.id, "review_digest", today, now):
                deliveries.append(Delivery(admin, self._digest(now, after, items)))
        return deliveries

    def _digest(
        self, now: dt.datetime, after: dt.timedelta, items: list[tuple[Initiative, bool]]
    ) -> Reply:
        lines: list[Text] = [
            _("⏰ Reminder: {count} initiatives have waited for review more than {days} days.",
              count=len(items), days=after.days),
        ]  # fmt: skip
        for item, raised in items[:DIGEST_ITEMS]:
            days = (now - (item.submitted_at or item.created_at)).days
            line = _("{number} · {title} · waiting {days} days", number=item.number,
                     title=title_text(item.title, limit=40), days=days)  # fmt: skip
            lines.append(_("{line} ⬆️ raised to you", line=line) if raised else line)
        if len(items) > DIGEST_ITEMS:
            lines.append(_("… and {count} more.", count=len(items) - DIGEST_ITEMS))
        buttons = ((Button(_("⏳ Open the list"), ShowPending(0).encode()),),)
        return Reply(tuple(lines), buttons)

    # -- /reopen and /history ----------------------------------------------------------

    async def reopen(self, turn: Turn, argument: str) -> None:
        """/reopen SK-000123 reason: an admin in scope takes back a decision (the evaluation
        council found a duplicate, say); the initiative goes back to its author."""
        number, _sep, reason = argument.strip().partition(" ")
        try:
            reopened = await review_cases.reopen(turn.uow, turn.member, number, reason, turn.now)
        except (NotFound, NotAllowed):
            raise InputError(_("Type /reopen, the number and the reason, for example "
                               "/reopen SK-000123 Trùng sáng kiến đã có.")) from None  # fmt: skip
        reopened.notices.into(turn.outcome)
        turn.say(_("{number} goes back to its author for changes; the author has been told.",
                   number=reopened.initiative.number))  # fmt: skip

    async def history(self, turn: Turn, argument: str) -> None:
        """/history SK-000123: the trail of an initiative, for its author and reviewers."""
        initiative_id = parse_number(argument) if argument else None
        if initiative_id is None:
            raise InputError(_("Type the number after the command, for example "
                               "/history SK-000123."))  # fmt: skip
        try:
            trail = await review_cases.history(turn.uow, turn.member, initiative_id)
        except NotFound:
            # Named as it was typed.
            raise review_cases.unseen(argument.strip()) from None
        initiative = trail.initiative
        lines: list[Text] = [_("🗂 History of {number}: {title}", number=initiative.number,
                               title=title_text(initiative.title))]  # fmt: skip
        for entry in trail.entries:
            lines.append(_("{moment} · {action} (version {version}) · {name}",
                           moment=Moment(entry.at), action=ACTION_LABELS.get(
                               entry.action, Text("{text}", {"text": Verbatim(entry.action)})),
                           version=entry.version, name=name_text(entry.actor_name)))  # fmt: skip
            if reason := reason_text(entry.note):
                lines.append(_("   Reason: {reason}", reason=reason))
        turn.outcome.replies.append(Reply(tuple(lines)))


def _reason(note: str | None) -> Reason | None:
    """The reason of the decision in progress, as the dialog keeps it."""
    if not note:
        return None
    preset = preset_of(note)
    return Preset(preset, original_of(note)) if preset is not None else note


def _original_rows(
    initiative: Initiative, decision: Decision, matches: list[SimilarFound]
) -> tuple[tuple[Button, ...], ...]:
    """A button per similar initiative, "not known", back to the reasons, and cancel."""
    i, v = initiative.id, initiative.version
    back = next(press for press in DECISION_PRESSES if press.decision is decision)(i, v)
    named = [(Button(_("{number} · {title}", number=format_number(m.initiative_id),
                       title=title_text(m.title, limit=ORIGINAL_TITLE)),
                     NameOriginal(i, v, m.initiative_id).encode()),) for m in matches]  # fmt: skip
    return (
        *named,
        (Button(NUMBER_NOT_KNOWN, NameOriginal(i, v, 0).encode()),),
        (Button(_("◀️ Other reasons"), back.encode()),
         Button(_("Cancel"), CancelDecision(i, v).encode())),
    )  # fmt: skip


def _listing_lines(listing: PendingPage, now: dt.datetime) -> list[Text]:
    per_unit = listing.per_unit
    lines: list[Text] = [
        _("⏳ Awaiting review in your units: {total}, page {page}/{pages}",
          total=listing.total, page=listing.page + 1, pages=listing.pages),
        _("By unit: {counts}", counts=Verbatim(" · ".join(
            f"{unit.name}: {count}" for unit, count in per_unit[:UNIT_COUNTS]))),
    ]  # fmt: skip
    if len(per_unit) > UNIT_COUNTS:
        lines.append(_("… and {count} more units.", count=len(per_unit) - UNIT_COUNTS))
    names = {u.id: u.name for u, _count in per_unit}
    for item in listing.items:
        since = item.submitted_at or item.created_at
        lines.append(_("{number} · {title} · {unit} · waiting {days} days",
                       number=item.number, title=title_text(item.title, limit=40),
                       unit=Verbatim(names.get(item.unit_id, "")),
                       days=(now - since).days))  # fmt: skip
    return lines


def _listing_buttons(listing: PendingPage) -> tuple[tuple[Button, ...], ...]:
    rows: list[tuple[Button, ...]] = [
        (Button(_("📄 Open {number}", number=item.number), OpenPending(item.id).encode()),)
        for item in listing.items
    ]
    pages = navigation(listing.page, listing.pages, _("◀️ Older"), _("Newer ▶️"), ShowPending)
    return (*rows, *pages)
