"""Entering an initiative for a member: the support team (tổ hỗ trợ) says whose it is,
finds the member, or names one who does not use the bot."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

from domain.errors import InputError
from domain.joining import SEARCH_RESULTS, valid_name
from domain.model import DialogState, Member, RoleKind
from domain.parsing import NAME_MAX, clean_text, normalize_search, search_terms
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, Routes, StateRoute
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, encode, number_at

log = logging.getLogger(__name__)

# How many members of a helper's units are scanned by name (diacritics folded in Python).
PROXY_SCAN = 5000
# Members entered by a helper who do not use the bot have no chat.
PROXY_CHANNEL = "proxy"
PROXY_PROMPT = _("Type the member's full name, or part of it to search.")


class Proxy:
    """A helper enters an initiative on behalf of a member."""

    def __init__(self, start_draft: Callable[[Turn, Member | None], Awaitable[None]]) -> None:
        # Opens the draft, for the helper or for the member chosen.
        self._start_draft = start_draft

    def routes(self) -> Routes:
        """Whose initiative it is, and the member's name typed."""
        return Routes(
            buttons={"h": ButtonRoute(self._proxy_button)},
            states={DialogState.PROXY_MEMBER: StateRoute(self._proxy_search, self._proxy_again,
                                                         cancel_word=False)},
        )  # fmt: skip

    async def begin(self, turn: Turn) -> None:
        """A new initiative: a helper first says whose it is."""
        if not await helper_units(turn):
            await self._start_draft(turn, None)
            return
        buttons = [(Button(_("🤝 For a union member"), encode("h", "other")),)]
        if turn.member.has_joined:
            buttons.insert(0, (Button(_("🙋 My own"), encode("h", "self")),))
        turn.say(_("Whose initiative is it?"), buttons=tuple(buttons))

    async def _proxy_button(self, turn: Turn, parts: Sequence[str]) -> None:
        """A helper chooses the member for whom they enter an initiative."""
        held = await helper_units(turn)
        if not held:
            turn.outcome.notice = _("This is for the initiative support team.")
            return
        action = parts[1]
        if action == "self" and len(parts) == 2 and turn.member.has_joined:
            await self._start_draft(turn, None)
        elif action == "other" and len(parts) == 2:
            turn.conversation.state = DialogState.PROXY_MEMBER
            turn.conversation.data = {}
            turn.say(PROXY_PROMPT)
        elif action == "pick" and len(parts) == 3:
            author_id = number_at(parts, 2)
            author = (await turn.uow.members.by_ids([author_id])).get(author_id)
            if author is None or not await self._in_helper_scope(turn, author, held):
                log.warning("helper %s may not enter for member %s", turn.member, parts[2])
                turn.outcome.notice = _("This member is not in your units.")
                return
            await self._start_draft(turn, author)
        elif action == "new" and len(parts) == 2 and turn.conversation.data.get("name"):
            await self._new_proxy_member(turn, held, str(turn.conversation.data["name"]))
        else:
            raise Forged

    async def _in_helper_scope(self, turn: Turn, member: Member, held: list[int]) -> bool:
        unit = await turn.uow.units.get(member.unit_id) if member.unit_id else None
        return unit is not None and await covers(turn.uow, held, unit)

    async def _proxy_search(self, turn: Turn, text: str) -> None:
        name = " ".join(clean_text(text, limit=NAME_MAX).split())
        terms = search_terms(name)
        if not terms:
            raise InputError(_("Please type the member's name."))
        held = await helper_units(turn)
        units = [u for unit_id in held if (u := await turn.uow.units.get(unit_id))]
        unit_ids = {u.id for u in units}
        for unit in units:
            unit_ids |= {child.id for child in await turn.uow.units.children(unit.id, 500)}
        found = [
            m for m in await turn.uow.members.in_units(sorted(unit_ids), PROXY_SCAN)
            if all(term in normalize_search(m.full_name or "") for term in terms)
        ][:SEARCH_RESULTS]  # fmt: skip
        turn.conversation.data = {"name": name}
        rows = [(Button(Text("{name}", {"name": Verbatim(m.full_name or "")}),
                        encode("h", "pick", m.id)),) for m in found]  # fmt: skip
        if valid_name(name) and any(u.is_grassroots for u in units):
            rows.append((Button(_("➕ {name} does not use the bot yet", name=Verbatim(name)),
                                encode("h", "new")),))  # fmt: skip
        lines = (
            [_("Choose the member:")]
            if found
            else [_("No member of your units is called “{name}”.", name=Verbatim(name))]
        )
        turn.say(*lines, buttons=tuple(rows))

    async def _new_proxy_member(self, turn: Turn, held: list[int], name: str) -> None:
        """A member who does not use the bot: known by name only, in the helper's union."""
        units = [u for unit_id in held if (u := await turn.uow.units.get(unit_id))]
        unit = next((u for u in units if u.is_grassroots), None)
        if unit is None or not valid_name(name):
            raise Forged
        author = await turn.uow.members.add(
            Member(id=0, channel=PROXY_CHANNEL, external_id=uuid.uuid4().hex,
                   display_name=name, language=turn.member.language, full_name=name,
                   unit_id=unit.id),
            turn.now,
        )  # fmt: skip
        await self._start_draft(turn, author)

    async def _proxy_again(self, turn: Turn, *before: Text) -> None:
        turn.say(*before, PROXY_PROMPT)


async def helper_units(turn: Turn) -> list[int]:
    return await units_held(turn.uow, turn.member.id, RoleKind.HELPER)
