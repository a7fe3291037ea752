"""Opening a similar initiative: "📄 Xem SK-000123" under a hint or a review card, or
/xem SK-000123 typed on any channel.

Whoever may read the initiative (its author, its helper, the admins above its unit) sees
all of it; anyone else sees a public summary of a submitted, non-confidential initiative
of their own neighbourhood of units, without its author; everything else is "not found",
the same words whether it does not exist or is not theirs to see.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from domain import dialog
from domain.codes import MAX_CODE_NUMBER
from domain.errors import NotFound
from domain.model import DialogState, Initiative, Member, RoleKind, Unit, parse_number
from domain.review_cases import ReviewStore, may_read, unseen
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes
from domain.similar import MATCHED, OpenSimilar, match_scope, standing
from domain.text import Day, Month, Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Reply

log = logging.getLogger("domain.similar")

# The problem and the solution in a public summary: a few lines of each.
PUBLIC_EXCERPT = 300
# The longest argument echoed back in a refusal.
ECHO = 20


@dataclass(frozen=True, slots=True)
class Opened:
    """An initiative as the reader may see it: ``full`` with its confidential parts, its
    files and its record; else the public summary."""

    initiative: Initiative
    full: bool
    unit: Unit | None


async def _scope_roots(store: ReviewStore, reader: Member) -> list[int]:
    """The subtrees whose initiatives the reader may see summarised: those their own
    drafts, and the drafts they enter as a helper, are compared within."""
    units = [*([reader.unit_id] if reader.unit_id is not None else []),
             *await units_held(store, reader.id, RoleKind.HELPER)]  # fmt: skip
    return [await match_scope(store, unit_id) for unit_id in dict.fromkeys(units)]


async def open_similar(store: ReviewStore, reader: Member, initiative_id: int) -> Opened:
    """The initiative as the reader may see it; ``NotFound`` when they may not see it."""
    initiative = await store.initiatives.get(initiative_id)
    if initiative is None:
        raise unseen(initiative_id)
    unit = await store.units.get(initiative.unit_id)
    if await may_read(store, reader, initiative):
        return Opened(initiative, True, unit)
    public = not initiative.confidential and initiative.status in MATCHED
    if not public or unit is None or not await covers(store, await _scope_roots(store, reader),
                                                     unit):  # fmt: skip
        log.info("member %s may not see initiative %s", reader, initiative_id)
        raise unseen(initiative_id)
    return Opened(initiative, False, unit)


def public_lines(opened: Opened) -> list[Text]:
    """The public summary: what it is, where and how far it got; never who wrote it."""
    item = opened.initiative
    return [
        _("📄 {number} · {standing}", number=item.number,
          standing=standing(item.status, Month(item.updated_at))),
        _("Title: {value}", value=dialog.excerpt(item.title, None)),
        _("Kind: {value}", value=dialog.KIND_LABELS[item.kind] if item.kind else _("—")),
        _("Field: {value}", value=dialog.FIELD_LABELS[item.field] if item.field else _("—")),
        _("Grassroots union: {unit}", unit=Verbatim(opened.unit.name if opened.unit else "")),
        _("Before: {value}", value=dialog.excerpt(item.problem, PUBLIC_EXCERPT)),
        _("Solution: {value}", value=dialog.excerpt(item.solution, PUBLIC_EXCERPT)),
        _("Only its authors and the union's reviewers see it in full."),
    ]  # fmt: skip


class SimilarView:
    """/xem and "📄 Xem": open an initiative shown as similar."""

    def __init__(self, timezone: ZoneInfo, prompt: Prompt) -> None:
        self._tz = timezone
        # Ask again what the dialog in progress expects: a draft's question goes on.
        self._prompt = prompt

    def routes(self) -> Routes:
        """/xem (and /view) and the "📄 Xem" buttons; open to admins who joined no union."""
        view = CommandRoute(self._typed, open=True, leaves=False)
        return Routes(commands={"xem": view, "view": view},
                      buttons={"sm": ButtonRoute(self._press)})  # fmt: skip

    async def _press(self, turn: Turn, press: OpenSimilar) -> None:
        await self._show(turn, press.initiative)

    async def _typed(self, turn: Turn, argument: str) -> None:
        words = argument.split()
        if not words:
            await self._again(turn, _("Type the initiative's number after /xem, for example "
                                      "/xem SK-000123."))  # fmt: skip
            return
        initiative_id = parse_number(words[0])
        if initiative_id is None:
            typed = Verbatim(words[0][:ECHO])
            await self._again(turn, _("“{text}” is not an initiative number. For example: "
                                      "/xem SK-000123.", text=typed))  # fmt: skip
            return
        await self._show(turn, initiative_id)

    async def _show(self, turn: Turn, initiative_id: int) -> None:
        try:
            if initiative_id > MAX_CODE_NUMBER:
                raise unseen(initiative_id)
            opened = await open_similar(turn.uow, turn.member, initiative_id)
        except NotFound as missing:
            await self._again(turn, missing.text)
            return
        if opened.full:
            turn.show(self._full(opened.initiative))
        else:
            turn.say(*public_lines(opened))
        await self._again(turn)

    def _full(self, initiative: Initiative) -> Reply:
        """Everything, as the reviewer's "📄 Read in full" shows it."""
        lines = dialog.card_lines(initiative, full=True)
        if initiative.submitted_at:
            submitted = initiative.submitted_at.astimezone(self._tz).date()
            lines.append(_("Submitted: {date} (version {version})", date=Day(submitted),
                           version=initiative.version))  # fmt: skip
        return Reply(tuple(lines), media=tuple(initiative.attachments))

    async def _again(self, turn: Turn, *before: Text) -> None:
        """Say ``before``; in the middle of a dialog, ask its question again after."""
        if turn.conversation.state is not DialogState.IDLE:
            await self._prompt(turn, *before)
        elif before:
            turn.say(*before)
