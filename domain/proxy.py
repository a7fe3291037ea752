"""Entering an initiative for a member: the support team (tổ hỗ trợ) says whose it is,
finds the member, or names one who does not use the bot, stating that they agreed to the
privacy notice."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from domain import privacy
from domain.codes import ButtonCode, button_code
from domain.errors import InputError, NotAllowed
from domain.joining import SEARCH_RESULTS, valid_name
from domain.model import DialogState, Member, RoleKind, Unit
from domain.parsing import NAME_MAX, NAME_MIN, clean_text, normalize_search, search_terms
from domain.ports import MemberRepository, RoleRepository, UnitRepository
from domain.ports_privacy import Consent, ConsentAction, ConsentLog
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, Routes, StateRoute
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button

log = logging.getLogger(__name__)

# How many members of a helper's units are scanned by name (diacritics folded in Python).
PROXY_SCAN = 5000
# Members entered by a helper who do not use the bot have no chat.
PROXY_CHANNEL = "proxy"
PROXY_PROMPT = _("Type the member's full name, or part of it to search.")
FOR_HELPERS = _("This is for the initiative support team.")


@button_code("h", "self")
@dataclass(frozen=True, slots=True)
class ForMyself(ButtonCode):
    """h:self — the helper's own initiative."""


@button_code("h", "other")
@dataclass(frozen=True, slots=True)
class ForAMember(ButtonCode):
    """h:other — an initiative of a member, to be found by name."""


@button_code("h", "pick")
@dataclass(frozen=True, slots=True)
class PickMember(ButtonCode):
    """h:pick:31 — the member found whose initiative it is."""

    member: int


@button_code("h", "new")
@dataclass(frozen=True, slots=True)
class NewMember(ButtonCode):
    """h:new — a member who does not use the bot, by the name just typed."""


@button_code("h", "agreed")
@dataclass(frozen=True, slots=True)
class StateAgreed(ButtonCode):
    """h:agreed — the member just named agreed to the privacy notice."""


@button_code("h", "refused")
@dataclass(frozen=True, slots=True)
class StateRefused(ButtonCode):
    """h:refused — they did not agree: nothing is stored."""


ProxyPress = ForMyself | ForAMember | PickMember | NewMember | StateAgreed | StateRefused
STATED_AGREED = _("✅ They agreed")
STATED_REFUSED = _("❌ They did not agree")


class ProxyStore(Protocol):
    """What entering for a member reads and writes: the helper's units and their members."""

    units: UnitRepository
    roles: RoleRepository
    members: MemberRepository
    consents: ConsentLog


@dataclass(frozen=True, slots=True)
class MemberSearch:
    """Members of the helper's units called by the name typed."""

    # The name as typed, cleaned: what a member who does not use the bot would be called.
    name: str
    found: tuple[Member, ...]
    # Whether a member who does not use the bot may be entered under this name.
    may_add: bool


async def find_members(
    store: ProxyStore,
    actor: Member,
    typed: str,
    *,
    kinds: tuple[RoleKind, ...] = (RoleKind.HELPER,),
    entered_only: bool = False,
) -> MemberSearch:
    """Members of the actor's units (and the units just below) whose name holds every word
    typed; someone who holds none of ``kinds`` finds no one. ``entered_only``: only
    members a helper entered, who have no account of their own."""
    name = " ".join(clean_text(typed, limit=NAME_MAX).split())
    terms = search_terms(name)
    if not terms:
        raise InputError(_("Please type the member's name."))
    units = await _helped(store, actor, kinds)
    unit_ids = {u.id for u in units}
    for unit in units:
        unit_ids |= {child.id for child in await store.units.children(unit.id, 500)}
    found = [
        m for m in await store.members.in_units(sorted(unit_ids), PROXY_SCAN)
        if all(term in normalize_search(m.full_name or "") for term in terms)
        and (m.channel == PROXY_CHANNEL or not entered_only)
    ][:SEARCH_RESULTS]  # fmt: skip
    may_add = valid_name(name) and any(u.is_grassroots for u in units)
    return MemberSearch(name, tuple(found), may_add)


async def proxy_author(store: ProxyStore, actor: Member, member_id: int) -> Member:
    """The member for whom the actor, a helper of their unit or one above, enters an
    initiative."""
    held = await units_held(store, actor.id, RoleKind.HELPER)
    if not held:
        raise NotAllowed(FOR_HELPERS)
    author = (await store.members.by_ids([member_id])).get(member_id)
    unit = await store.units.get(author.unit_id) if author and author.unit_id else None
    if author is None or unit is None or not await covers(store, held, unit):
        log.warning("helper %s may not enter for member %s", actor, member_id)
        raise NotAllowed(_("This member is not in your units."))
    return author


async def proxy_unit(store: ProxyStore, actor: Member, name: str) -> Unit:
    """The actor's grassroots union, where a member called ``name`` may be entered."""
    unit = next((u for u in await _helped(store, actor) if u.is_grassroots), None)
    if unit is None:
        raise NotAllowed(FOR_HELPERS)
    if not valid_name(name):
        raise InputError(_("Please type your full name ({minimum} to {maximum} letters).",
                           minimum=NAME_MIN, maximum=NAME_MAX))  # fmt: skip
    return unit


async def add_proxy_member(store: ProxyStore, actor: Member, name: str, now: dt.datetime) -> Member:
    """A member who does not use the bot, known by name only, in the actor's grassroots
    union; the actor has stated that the member agreed to the privacy notice, and that
    statement is recorded with the member."""
    unit = await proxy_unit(store, actor, name)
    member = await store.members.add(
        Member(id=0, channel=PROXY_CHANNEL, external_id=uuid.uuid4().hex,
               display_name=name, language=actor.language, full_name=name, unit_id=unit.id,
               consent_version=privacy.NOTICE_VERSION),
        now,
    )  # fmt: skip
    await store.consents.record(
        Consent(member_id=member.id, version=privacy.NOTICE_VERSION,
                action=ConsentAction.STATED, channel=privacy.HELPER_CHANNEL, at=now,
                stated_by_id=actor.id)
    )  # fmt: skip
    log.info("helper %s entered member %s, stating their consent", actor, member)
    return member


async def _helped(
    store: ProxyStore, actor: Member, kinds: tuple[RoleKind, ...] = (RoleKind.HELPER,)
) -> list[Unit]:
    """The units for which the actor holds one of these roles (a helper's, by default)."""
    held = {unit_id: None for kind in kinds for unit_id in await units_held(store, actor.id, kind)}
    return [u for unit_id in held if (u := await store.units.get(unit_id))]


class Proxy:
    """A helper enters an initiative on behalf of a member."""

    def __init__(
        self,
        start_draft: Callable[[Turn, Member | None], Awaitable[None]],
        spell: Callable[[Text], tuple[str, ...]],
    ) -> None:
        # Opens the draft, for the helper or for the member chosen.
        self._start_draft = start_draft
        self._spell = spell

    def routes(self) -> Routes:
        """Whose initiative it is, and the member's name typed."""
        return Routes(
            buttons={"h": ButtonRoute(self._proxy_button)},
            states={
                DialogState.PROXY_MEMBER: StateRoute(self._proxy_search, self._proxy_again,
                                                     cancel_word=False),
                DialogState.PROXY_CONSENT: StateRoute(self._statement_text,
                                                      self._statement_again),
            },
        )  # fmt: skip

    async def begin(self, turn: Turn) -> None:
        """A new initiative: a helper first says whose it is."""
        if not await helper_units(turn):
            await self._start_draft(turn, None)
            return
        buttons = [(Button(_("🤝 For a union member"), ForAMember().encode()),)]
        if turn.member.has_joined:
            buttons.insert(0, (Button(_("🙋 My own"), ForMyself().encode()),))
        turn.say(_("Whose initiative is it?"), buttons=tuple(buttons))

    async def _proxy_button(self, turn: Turn, press: ProxyPress) -> None:
        """A helper chooses the member for whom they enter an initiative."""
        if isinstance(press, PickMember):
            await self._enter_for(turn, press.member)
            return
        if not await helper_units(turn):
            turn.outcome.notice = FOR_HELPERS
            return
        name = turn.conversation.data.get("name")
        match press:
            case ForMyself() if turn.member.has_joined:
                await self._start_draft(turn, None)
            case ForAMember():
                turn.conversation.state = DialogState.PROXY_MEMBER
                turn.conversation.data = {}
                turn.say(PROXY_PROMPT)
            case NewMember() if name and turn.conversation.state is DialogState.PROXY_MEMBER:
                try:
                    await proxy_unit(turn.uow, turn.member, str(name))
                except InputError:
                    # The button is made only for a name and a union that allow it.
                    raise Forged from None
                turn.conversation.state = DialogState.PROXY_CONSENT
                await self._statement_again(turn)
            case StateAgreed() | StateRefused() if (
                name and turn.conversation.state is DialogState.PROXY_CONSENT
            ):
                await self._stated(turn, str(name), isinstance(press, StateAgreed))
            case _:
                raise Forged

    async def _statement_again(self, turn: Turn, *before: Text) -> None:
        """Before a member who does not use the bot is stored, the helper states that
        they agreed to the privacy notice."""
        name = Verbatim(str(turn.conversation.data.get("name", "")))
        turn.say(
            *before,
            _("Before I store {name}: did they agree to the privacy notice? Tell them what it "
              "says (/privacy shows it): what is stored, why, who sees it, and that they can "
              "see, correct or erase it. Your statement is recorded.", name=name),
            buttons=((Button(STATED_AGREED, StateAgreed().encode()),),
                     (Button(STATED_REFUSED, StateRefused().encode()),)),
        )  # fmt: skip

    async def _statement_text(self, turn: Turn, text: str) -> None:
        """A typed "đồng ý" or "không" (or a button's words)."""
        agreed = privacy.read_answer(text, self._spell, (STATED_AGREED, STATED_REFUSED))
        name = str(turn.conversation.data.get("name", ""))
        if agreed is None or not name:
            await self._statement_again(turn, _("Please choose one of the options below."))
        else:
            await self._stated(turn, name, agreed)

    async def _stated(self, turn: Turn, name: str, agreed: bool) -> None:
        if not agreed:
            turn.pause()
            turn.menu(
                _("Then nothing about them is stored. They can join the bot and send their "
                  "initiative themselves, or you can enter it once they agree.")
            )  # fmt: skip
            return
        try:
            author = await add_proxy_member(turn.uow, turn.member, name, turn.now)
        except (InputError, NotAllowed) as refused:
            turn.pause()
            turn.menu(refused.text)
            return
        await self._start_draft(turn, author)

    async def _enter_for(self, turn: Turn, member_id: int) -> None:
        """Open a draft for the member found, if they are in the helper's units."""
        try:
            author = await proxy_author(turn.uow, turn.member, member_id)
        except NotAllowed as refused:
            turn.outcome.notice = refused.text
            return
        await self._start_draft(turn, author)

    async def _proxy_search(self, turn: Turn, text: str) -> None:
        search = await find_members(turn.uow, turn.member, text)
        turn.conversation.data = {"name": search.name}
        rows = [(Button(Text("{name}", {"name": Verbatim(m.full_name or "")}),
                        PickMember(m.id).encode()),) for m in search.found]  # fmt: skip
        if search.may_add:
            rows.append((Button(_("➕ {name} does not use the bot yet", name=Verbatim(search.name)),
                                NewMember().encode()),))  # fmt: skip
        lines = (
            [_("Choose the member:")]
            if search.found
            else [_("No member of your units is called “{name}”.", name=Verbatim(search.name))]
        )
        turn.say(*lines, buttons=tuple(rows))

    async def _proxy_again(self, turn: Turn, *before: Text) -> None:
        turn.say(*before, PROXY_PROMPT)


async def helper_units(turn: Turn) -> list[int]:
    return await units_held(turn.uow, turn.member.id, RoleKind.HELPER)
