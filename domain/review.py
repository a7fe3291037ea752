"""Review: cards to the unit's admins, one decision per version, and the record."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from domain import dialog
from domain.errors import InputError
from domain.model import (
    DECISION_STATUS,
    Decision,
    DialogState,
    HistoryEntry,
    Initiative,
    InitiativeStatus,
    Member,
    RoleKind,
    parse_number,
)
from domain.parsing import clean_text
from domain.ports import UnitOfWork
from domain.progress import count_change
from domain.review_card import (
    PRESET_REASONS,
    decided_line,
    name_of,
    reason_text,
    remember_version,
    review_card,
)
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Day, Moment, Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, CardUpdate, Delivery, Reply, encode, number_at

log = logging.getLogger(__name__)

# Also what other modules take from here.
__all__ = ["ACTION_LABELS", "DECISION_CODES", "PRESET_REASONS", "ReviewDesk", "reason_text"]

REASON_LIMIT = 1000
PAGE_SIZE = 5
DIGEST_ITEMS = 10
UNIT_COUNTS = 8

DECISION_CODES = {"ok": Decision.APPROVE, "ret": Decision.RETURN, "rej": Decision.REJECT}
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
    """Routes submitted initiatives to reviewers and records their decisions."""

    def __init__(self, timezone: ZoneInfo) -> None:
        self._tz = timezone

    # -- who may do what -------------------------------------------------------

    async def reviewers_for(self, uow: UnitOfWork, unit_id: int) -> list[Member]:
        """The admins of the unit, or of the nearest unit above that has any."""
        unit = await uow.units.get(unit_id)
        if unit is None:
            return []
        path = await uow.units.path(unit)
        holders = await uow.roles.holders([u.id for u in path], RoleKind.ADMIN)
        for step in path:
            if holders[step.id]:
                return holders[step.id]
        return []

    async def reviews(self, uow: UnitOfWork, member: Member, initiative: Initiative) -> bool:
        """Whether the member is an admin of the initiative's unit or of a unit above it."""
        held = await units_held(uow, member.id, RoleKind.ADMIN)
        if not held:
            return False
        unit = await uow.units.get(initiative.unit_id)
        return unit is not None and await covers(uow, held, unit)

    async def may_read(self, uow: UnitOfWork, member: Member, initiative: Initiative) -> bool:
        """Whether the member may see the whole initiative, confidential parts included."""
        if member.id in (initiative.author_id, initiative.entered_by_id):
            return True
        return await self.reviews(uow, member, initiative)

    # -- cards -----------------------------------------------------------------

    async def card(
        self, uow: UnitOfWork, initiative: Initiative, decided: HistoryEntry | None = None
    ) -> Reply:
        """The review card: what an admin needs to decide, with the decision buttons."""
        return await review_card(uow, initiative, decided)

    def decided_line(self, entry: HistoryEntry) -> Text:
        """Who decided, and when."""
        return decided_line(entry)

    async def route(self, turn: Turn, initiative: Initiative) -> int:
        """A version was just submitted: keep what it says (for the next version's card),
        and send the review card to everyone who must decide; return how many."""
        await remember_version(turn.uow, initiative, turn.now)
        reviewers = await self.reviewers_for(turn.uow, initiative.unit_id)
        if not reviewers:
            log.error("initiative %s of unit %s has no admin on its path",
                      initiative.id, initiative.unit_id)  # fmt: skip
            return 0
        card = await self.card(turn.uow, initiative)
        for reviewer in reviewers:
            turn.outcome.deliveries.append(
                Delivery(reviewer, card, card=(initiative.id, initiative.version))
            )
        return len(reviewers)

    async def _last_decision(self, uow: UnitOfWork, initiative_id: int) -> HistoryEntry | None:
        decisions = [e for e in await uow.initiatives.history(initiative_id)
                     if e.action in DECISION_CODES.values()]  # fmt: skip
        return decisions[-1] if decisions else None

    # -- buttons and text --------------------------------------------------------

    def routes(self) -> Routes:
        """/pending, /reopen, /history; the review buttons; a typed reason."""
        return Routes(
            commands={
                "pending": CommandRoute(lambda turn, _a: self.pending(turn, 0), open=True),
                "reopen": CommandRoute(self.reopen, open=True),
                "history": CommandRoute(self.history, open=True, leaves=False),
            },
            buttons={"r": ButtonRoute(self.button), "p": ButtonRoute(self.pending_button)},
            states={DialogState.REVIEWING: StateRoute(self.text, self.prompt)},
        )

    async def button(self, turn: Turn, parts: Sequence[str]) -> None:
        """A press on a review card or on a decision prompt."""
        action = parts[1]
        initiative = await turn.uow.initiatives.get(number_at(parts, 2))
        if initiative is None:
            raise Forged
        if action == "full" and len(parts) == 3:
            await self._full(turn, initiative)
            return
        version = number_at(parts, 3)
        if not await self.reviews(turn.uow, turn.member, initiative):
            log.warning("member %s may not review initiative %s", turn.member, initiative.id)
            turn.outcome.notice = _("You may not review this initiative.")
            return
        if initiative.status is not InitiativeStatus.PENDING or initiative.version != version:
            await self._stale(turn, initiative)
            return
        if action in DECISION_CODES and len(parts) == 4:
            self._ask(turn, initiative, DECISION_CODES[action])
        elif action == "why" and len(parts) == 5 and parts[4] in PRESET_REASONS:
            self._expect(turn, initiative)
            turn.conversation.data["note"] = f"preset:{parts[4]}"
            self._confirm(turn, initiative)
        elif action == "yes" and len(parts) == 4:
            self._expect(turn, initiative)
            await self._decide(turn, initiative)
        elif action == "no" and len(parts) == 4:
            turn.pause()
            turn.menu(_("Cancelled. {number} still awaits review.", number=initiative.number))
        else:
            raise Forged

    def _expect(self, turn: Turn, initiative: Initiative) -> None:
        """The press must continue the decision this admin started on this version."""
        data = turn.conversation.data
        if (
            turn.conversation.state is not DialogState.REVIEWING
            or data.get("i") != initiative.id
            or data.get("v") != initiative.version
        ):
            raise Forged

    async def text(self, turn: Turn, text: str) -> None:
        """A typed reason or comment."""
        data = turn.conversation.data
        initiative = await turn.uow.initiatives.get(int(data.get("i", 0)))
        if initiative is None or initiative.status is not InitiativeStatus.PENDING:
            turn.pause()
            turn.menu(_("This initiative is no longer awaiting review."))
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
        else:
            self._ask(turn, initiative, Decision(data["d"]), *before)

    def _ask(self, turn: Turn, initiative: Initiative, decision: Decision, *before: Text) -> None:
        turn.conversation.state = DialogState.REVIEWING
        turn.conversation.data = {"i": initiative.id, "v": initiative.version,
                                  "d": decision.value}  # fmt: skip
        if decision is Decision.APPROVE:
            self._confirm(turn, initiative, *before)
            return
        i, v = initiative.id, initiative.version
        rows = [(Button(label, encode("r", "why", i, v, code)),)
                for code, label in PRESET_REASONS.items()]  # fmt: skip
        rows.append((Button(_("Cancel"), encode("r", "no", i, v)),))
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
            buttons=((Button(_("✅ Confirm"), encode("r", "yes", i, v)),
                      Button(_("Cancel"), encode("r", "no", i, v))),),
        )  # fmt: skip

    async def _decide(self, turn: Turn, initiative: Initiative) -> None:
        data = turn.conversation.data
        decision = Decision(data["d"])
        note = data.get("note")
        if decision is not Decision.APPROVE and not note:
            raise InputError(_("Please choose or type a reason first."))
        uow = turn.uow
        turn.pause()
        if not await uow.initiatives.decide(
            initiative.id, initiative.version, DECISION_STATUS[decision], turn.now
        ):
            # Another reviewer decided while this one confirmed: show what they decided.
            fresh = await uow.initiatives.get(initiative.id)
            await self._stale(turn, fresh or initiative)
            return
        await count_change(uow, initiative, initiative.status, DECISION_STATUS[decision])
        initiative.status = DECISION_STATUS[decision]
        await uow.initiatives.record(initiative, turn.member.id, decision.value, turn.now,
                                     note=note, role=RoleKind.ADMIN.value)  # fmt: skip
        entry = HistoryEntry(decision.value, initiative.version, turn.now, turn.member.id,
                             name_of(turn.member).value, RoleKind.ADMIN.value, note)  # fmt: skip
        await self._update_cards(turn, initiative, entry)
        await self._tell_author(turn, initiative, decision, note)
        turn.menu(self.decided_line(entry), _("The author has been told."))

    async def _update_cards(self, turn: Turn, initiative: Initiative, entry: HistoryEntry) -> None:
        cards = [c for c in await turn.uow.cards.of_initiative(initiative.id)
                 if c.version == initiative.version]  # fmt: skip
        if not cards:
            return
        readers = await turn.uow.members.by_ids([c.member_id for c in cards])
        reply = await self.card(turn.uow, initiative, entry)
        for card in cards:
            reader = readers.get(card.member_id)
            language = reader.language if reader else turn.member.language
            turn.outcome.card_updates.append(
                CardUpdate(card.chat_id, card.message_id, language, reply)
            )

    async def _tell_author(
        self, turn: Turn, initiative: Initiative, decision: Decision, note: str | None
    ) -> None:
        author = (await turn.uow.members.by_ids([initiative.author_id])).get(initiative.author_id)
        if author is None:
            return
        reason = reason_text(note)
        lines: list[Text]
        buttons: tuple[tuple[Button, ...], ...] = ()
        if decision is Decision.APPROVE:
            lines = [
                _(
                    "🎉 Your initiative {number} “{title}” has been approved. Thank you!",
                    number=initiative.number,
                    title=Verbatim(initiative.title or ""),
                )
            ]
            if reason is not None:
                lines.append(_("Comment: {reason}", reason=reason))
        elif decision is Decision.RETURN:
            lines = [
                _(
                    "✏️ Changes are requested to your initiative {number} “{title}” before it "
                    "can be approved.",
                    number=initiative.number,
                    title=Verbatim(initiative.title or ""),
                ),
                _("Reason: {reason}", reason=reason or _("—")),
                _("Edit it and send it again; nothing you wrote is lost."),
            ]
            buttons = ((Button(_("✏️ Edit and resubmit"), encode("n", "resume", initiative.id)),),)
        else:
            lines = [
                _(
                    "❌ Your initiative {number} “{title}” has been rejected.",
                    number=initiative.number,
                    title=Verbatim(initiative.title or ""),
                ),
                _("Reason: {reason}", reason=reason or _("—")),
            ]
        turn.outcome.deliveries.append(Delivery(author, Reply(tuple(lines), buttons)))  # fmt: skip
        if initiative.entered_by_id != initiative.author_id:
            # The helper who entered it hears of it too, and may edit a returned one.
            helper = (await turn.uow.members.by_ids([initiative.entered_by_id])).get(
                initiative.entered_by_id
            )
            if helper is not None:
                entered = _("(You entered {number} for {name}.)", number=initiative.number,
                            name=Verbatim(author.full_name or author.display_name))  # fmt: skip
                turn.outcome.deliveries.append(Delivery(helper, Reply((*lines, entered), buttons)))

    async def _stale(self, turn: Turn, initiative: Initiative) -> None:
        """A press on a card that was decided or replaced: say so, change nothing else."""
        data = turn.conversation.data
        if turn.conversation.state is DialogState.REVIEWING and data.get("i") == initiative.id:
            # Only a decision in progress on this very initiative ends here.
            turn.pause()
        last = await self._last_decision(turn.uow, initiative.id)
        if initiative.status is InitiativeStatus.PENDING:
            turn.outcome.notice = _("This card is for an earlier version; a newer one was sent.")
            turn.outcome.pressed = await self.card(turn.uow, initiative)
        elif last is not None and last.version == initiative.version:
            turn.outcome.notice = _("Already decided: {decided}", decided=self.decided_line(last))
            turn.outcome.pressed = await self.card(turn.uow, initiative, last)
        else:
            turn.outcome.notice = _("This initiative is no longer awaiting review.")

    async def _full(self, turn: Turn, initiative: Initiative) -> None:
        if not await self.may_read(turn.uow, turn.member, initiative):
            log.warning("member %s may not read initiative %s", turn.member, initiative.id)
            turn.outcome.notice = _("You may not read this initiative.")
            return
        lines = dialog.card_lines(initiative, full=True)
        if initiative.submitted_at:
            lines.append(_("Submitted: {date} (version {version})",
                           date=Day(initiative.submitted_at.astimezone(self._tz).date()),
                           version=initiative.version))  # fmt: skip
        turn.outcome.replies.append(Reply(tuple(lines), media=tuple(initiative.attachments)))

    async def pending(self, turn: Turn, page: int) -> None:
        """/pending: what waits in the admin's scope, oldest first."""
        roots = await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)
        if not roots:
            turn.say(_("This command is for union admins."))
            return
        items, total, per_unit = await turn.uow.initiatives.pending_in(
            roots, page * PAGE_SIZE, PAGE_SIZE
        )
        if not total:
            turn.say(_("Nothing awaits review in your units. 👍"))
            return
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        if page >= pages:
            # A button from when more was waiting: show the last page there is now.
            page = pages - 1
            items, total, per_unit = await turn.uow.initiatives.pending_in(
                roots, page * PAGE_SIZE, PAGE_SIZE
            )
        lines: list[Text] = [
            _("⏳ Awaiting review in your units: {total}, page {page}/{pages}",
              total=total, page=page + 1, pages=pages),
            _("By unit: {counts}", counts=Verbatim(" · ".join(
                f"{unit.name}: {count}" for unit, count in per_unit[:UNIT_COUNTS]))),
        ]  # fmt: skip
        if len(per_unit) > UNIT_COUNTS:
            lines.append(_("… and {count} more units.", count=len(per_unit) - UNIT_COUNTS))
        names = {u.id: u.name for u, _count in per_unit}
        for item in items:
            since = item.submitted_at or item.created_at
            lines.append(_("{number} · {title} · {unit} · waiting {days} days",
                           number=item.number, title=Verbatim(dialog.shorten(item.title or "", 40)),
                           unit=Verbatim(names.get(item.unit_id, "")),
                           days=(turn.now - since).days))  # fmt: skip
        rows: list[tuple[Button, ...]] = [
            (Button(_("📄 Open {number}", number=item.number), encode("p", "open", item.id)),)
            for item in items
        ]
        navigation = []
        if page > 0:
            navigation.append(Button(_("◀️ Older"), encode("p", "page", page - 1)))
        if page + 1 < pages:
            navigation.append(Button(_("Newer ▶️"), encode("p", "page", page + 1)))
        if navigation:
            rows.append(tuple(navigation))
        turn.say(*lines, buttons=tuple(rows))

    async def pending_button(self, turn: Turn, parts: Sequence[str]) -> None:
        """Pages of /pending, and opening one entry's card."""
        if len(parts) != 3:
            raise Forged
        if parts[1] == "page":
            await self.pending(turn, number_at(parts, 2))
            return
        initiative = await turn.uow.initiatives.get(number_at(parts, 2))
        if parts[1] != "open" or initiative is None:
            raise Forged
        if not await self.reviews(turn.uow, turn.member, initiative):
            turn.outcome.notice = _("You may not review this initiative.")
            return
        if initiative.status is not InitiativeStatus.PENDING:
            await self._stale(turn, initiative)
            return
        # Sent as a card, so that it too shows the decision when someone makes it.
        card = await self.card(turn.uow, initiative)
        turn.outcome.deliveries.append(
            Delivery(turn.member, card, card=(initiative.id, initiative.version))
        )

    async def _reviewer_chain(self, uow: UnitOfWork, unit_id: int) -> list[list[Member]]:
        """Admins of each unit on the path that has any, nearest first."""
        unit = await uow.units.get(unit_id)
        if unit is None:
            return []
        path = await uow.units.path(unit)
        holders = await uow.roles.holders([u.id for u in path], RoleKind.ADMIN)
        return [holders[u.id] for u in path if holders[u.id]]

    async def reminders(
        self, uow: UnitOfWork, now: dt.datetime, today: dt.date, after: dt.timedelta
    ) -> list[Delivery]:
        """One digest a day per admin of what waits longer than ``after``; waiting twice as
        long, it is raised to the admins one level up as well."""
        chains: dict[int, list[list[Member]]] = {}
        waiting: dict[int, tuple[Member, list[tuple[Initiative, bool]]]] = {}
        for item in await uow.initiatives.waiting_since(now - after):
            if item.unit_id not in chains:
                chains[item.unit_id] = await self._reviewer_chain(uow, item.unit_id)
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
                     title=Verbatim(dialog.shorten(item.title or "", 40)), days=days)  # fmt: skip
            lines.append(_("{line} ⬆️ raised to you", line=line) if raised else line)
        if len(items) > DIGEST_ITEMS:
            lines.append(_("… and {count} more.", count=len(items) - DIGEST_ITEMS))
        buttons = ((Button(_("⏳ Open the list"), encode("p", "page", 0)),),)
        return Reply(tuple(lines), buttons)

    async def reopen(self, turn: Turn, argument: str) -> None:
        """/reopen SK-000123 reason: an admin in scope takes back a decision (the evaluation
        council found a duplicate, say); the initiative goes back to its author."""
        number, _sep, reason = argument.strip().partition(" ")
        initiative_id = parse_number(number) if number else None
        initiative = await turn.uow.initiatives.get(initiative_id) if initiative_id else None
        if initiative is None or not await self.reviews(turn.uow, turn.member, initiative):
            raise InputError(_("Type /reopen, the number and the reason, for example "
                               "/reopen SK-000123 Trùng sáng kiến đã có."))  # fmt: skip
        note = clean_text(reason, limit=REASON_LIMIT) if reason.strip() else ""
        if not note:
            raise InputError(_("Please give the reason after the number."))
        before = initiative.status
        if not await turn.uow.initiatives.reopen(initiative.id, initiative.version, turn.now):
            raise InputError(_("{number} has not been decided, so there is nothing to take back.",
                               number=initiative.number))  # fmt: skip
        await count_change(turn.uow, initiative, before, InitiativeStatus.RETURNED)
        initiative.status = InitiativeStatus.RETURNED
        await turn.uow.initiatives.record(initiative, turn.member.id, "reopen", turn.now,
                                          note=note, role=RoleKind.ADMIN.value)  # fmt: skip
        await self._tell_author(turn, initiative, Decision.RETURN, note)
        turn.say(_("{number} goes back to its author for changes; the author has been told.",
                   number=initiative.number))  # fmt: skip

    async def history(self, turn: Turn, argument: str) -> None:
        """/history SK-000123: the trail of an initiative, for its author and reviewers."""
        initiative_id = parse_number(argument) if argument else None
        if initiative_id is None:
            raise InputError(_("Type the number after the command, for example "
                               "/history SK-000123."))  # fmt: skip
        initiative = await turn.uow.initiatives.get(initiative_id)
        if initiative is None or not await self.may_read(turn.uow, turn.member, initiative):
            raise InputError(_("I cannot find an initiative {number} that you may see.",
                               number=Verbatim(argument.strip()[:20])))  # fmt: skip
        lines: list[Text] = [_("🗂 History of {number}: {title}", number=initiative.number,
                               title=Verbatim(initiative.title or ""))]  # fmt: skip
        for entry in await turn.uow.initiatives.history(initiative.id):
            lines.append(_("{moment} · {action} (version {version}) · {name}",
                           moment=Moment(entry.at), action=ACTION_LABELS.get(
                               entry.action, Text("{text}", {"text": Verbatim(entry.action)})),
                           version=entry.version, name=Verbatim(entry.actor_name)))  # fmt: skip
            if reason := reason_text(entry.note):
                lines.append(_("   Reason: {reason}", reason=reason))
        turn.outcome.replies.append(Reply(tuple(lines)))
