"""A member a helper entered claims their record: the support team (or an admin) of their
union asks /claimcode for a one-time code and hands it over, on paper if need be; the
member sends it with /link from their own account, which then leads to that record.

The code is a link code (hashed, once, wrong tries limited: see domain.linking) given to
the record, lasting days instead of minutes. The helper's statement that the member agreed
is not the member's own consent: a claimed record asks for it at once, and a refusal hands
the record back to the helper's keeping, without the account.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, fields

from domain import privacy
from domain.codes import ButtonCode, button_code
from domain.errors import NotAllowed
from domain.linking import code_hash, new_code, shown
from domain.model import DialogState, Member, RoleKind
from domain.ports_privacy import ConsentAction
from domain.proxy import PROXY_CHANNEL, ProxyStore, find_members
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes, StateRoute
from domain.text import Moment, Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Button

log = logging.getLogger(__name__)

# Long enough to hand a code over on paper at the next shift or meeting.
CLAIM_LIFETIME = dt.timedelta(days=7)
# Who may hand members their records: the support team and the admins of their union or
# a union above it.
ISSUERS = (RoleKind.HELPER, RoleKind.ADMIN)
CLAIM_PROMPT = _("Whose record is it? Type the name of a member your team entered, or part "
                 "of it.")  # fmt: skip
FOR_ISSUERS = _("This is for the initiative support team and union admins.")


@button_code("cc", "pick")
@dataclass(frozen=True, slots=True)
class PickEntered(ButtonCode):
    """cc:pick:31 — the member entered by a helper who gets a claim code."""

    member: int


async def issuer_units(store: ProxyStore, actor: Member) -> list[int]:
    """The units for which the actor may make claim codes."""
    held = {
        unit_id: None for kind in ISSUERS for unit_id in await units_held(store, actor.id, kind)
    }
    return list(held)


async def claimable(store: ProxyStore, actor: Member, member_id: int) -> Member:
    """The member, entered by a helper and without an account of their own, in a unit
    the actor helps or administers (or one below it)."""
    held = await issuer_units(store, actor)
    if not held:
        raise NotAllowed(FOR_ISSUERS)
    member = (await store.members.by_ids([member_id])).get(member_id)
    unit = await store.units.get(member.unit_id) if member and member.unit_id else None
    if (
        member is None or member.channel != PROXY_CHANNEL
        or unit is None or not await covers(store, held, unit)
    ):  # fmt: skip
        log.warning("member %s may not make a claim code for member %s", actor, member_id)
        raise NotAllowed(_("This is not a member your units entered without the bot."))
    return member


class ClaimDesk:
    """/claimcode for the support team, and a member's claim of their record."""

    def __init__(self, prompt: Prompt) -> None:
        # Ask again what the dialog in progress expects (the service's prompt).
        self._prompt = prompt

    def routes(self) -> Routes:
        """/claimcode (open: admins need not join a union), its choice of member, and the
        name typed."""
        return Routes(
            commands={"claimcode": CommandRoute(self._ask, open=True)},
            buttons={"cc": ButtonRoute(self._picked)},
            states={DialogState.CLAIM_MEMBER: StateRoute(self._search, self._search_again,
                                                         cancel_word=False)},
        )  # fmt: skip

    async def _ask(self, turn: Turn, argument: str) -> None:
        if not await issuer_units(turn.uow, turn.member):
            await self._prompt(turn, FOR_ISSUERS)
            return
        turn.conversation.state = DialogState.CLAIM_MEMBER
        if argument.strip():
            await self._search(turn, argument)
        else:
            turn.say(CLAIM_PROMPT)

    async def _search(self, turn: Turn, text: str) -> None:
        search = await find_members(turn.uow, turn.member, text, kinds=ISSUERS,
                                    entered_only=True)  # fmt: skip
        if not search.found:
            turn.say(
                _("No member your units entered without the bot is called “{name}”.",
                  name=Verbatim(search.name)),
                CLAIM_PROMPT,
            )  # fmt: skip
            return
        rows = tuple((Button(Text("{name}", {"name": Verbatim(m.full_name or "")}),
                             PickEntered(m.id).encode()),) for m in search.found)  # fmt: skip
        turn.say(_("Choose the member who will take over their record:"), buttons=rows)

    async def _search_again(self, turn: Turn, *before: Text) -> None:
        turn.say(*before, CLAIM_PROMPT)

    async def _picked(self, turn: Turn, press: PickEntered) -> None:
        """A code for the member chosen, replacing any earlier one."""
        try:
            member = await claimable(turn.uow, turn.member, press.member)
        except NotAllowed as refused:
            turn.outcome.notice = refused.text
            return
        code = new_code()
        expires = turn.now + CLAIM_LIFETIME
        await turn.uow.links.issue(member.id, code_hash(code), expires, turn.now)
        log.info("member %s made a claim code for member %s", turn.member, member)
        name = Verbatim(member.full_name or "")
        turn.pause()
        turn.menu(
            _("🎫 Claim code for {name}: {code}", name=name, code=Verbatim(shown(code))),
            _("Valid until {moment}, once; a new code replaces it.", moment=Moment(expires)),
            _("Give it only to {name}, in person or on paper: whoever types it takes over "
              "their record.", name=name),
            _("They open this bot on their own phone and send: /link {code}",
              code=Verbatim(shown(code))),
        )  # fmt: skip

    async def take_over(self, turn: Turn, record: Member) -> bool:
        """Whether the code /link took was a claim code; if so, the account becomes the
        member of the record, unless it has a record of its own, and is asked for its own
        consent."""
        if record.channel != PROXY_CHANNEL:
            return False
        member = turn.member
        if await turn.uow.links.has_record(member.id):
            await self._prompt(turn, _(
                "This account already has submitted initiatives or a role, so it cannot take "
                "over a record the support team entered. Please go on using it as before."
            ))  # fmt: skip
            return True
        address, language = (member.channel, member.external_id), member.language
        await turn.uow.links.absorb(member.id, record.id, turn.now)
        await turn.uow.claims.drop_stand_in(record.id, PROXY_CHANNEL)
        log.info("account %s:%s claimed member %s", *address, record)
        for field in fields(Member):
            setattr(member, field.name, getattr(record, field.name))
        # The record was entered in the helper's language; the member chose theirs.
        member.channel, member.external_id, member.language = *address, language
        # The helper's statement is not the member's own: the consent gate holds them
        # until they answer the notice (the statement stays on record).
        member.consent_version = None
        conversation = turn.conversation
        conversation.member_id = record.id
        turn.pause()
        conversation.draft_id, conversation.choices = None, ()
        privacy.ask(
            turn,
            _("✅ This is your record now: {name}, as the support team entered it.",
              name=Verbatim(record.full_name or "")),
            _("The support team stated that you agreed to the privacy notice; now please answer "
              "it yourself. Once you agree, /my shows your initiatives."),
        )  # fmt: skip
        return True


async def hand_back(turn: Turn) -> bool:
    """Whether a refusal of the notice came from a member who claimed a record and has not
    agreed themselves: then it is recorded, the record goes back to the helper's keeping
    as it was entered, and the account leads to it no more."""
    member = turn.member
    if member.consent_version is not None:
        return False
    stated = await turn.uow.claims.stated_version(member.id)
    if stated is None:
        return False
    await privacy.record(turn, ConsentAction.REFUSED)
    stand_in = PROXY_CHANNEL, uuid.uuid4().hex
    log.info("member %s refused the notice: the record goes back to its helper", member)
    account = Member(id=0, channel=member.channel, external_id=member.external_id,
                     display_name=member.external_id, language=member.language)  # fmt: skip
    await turn.uow.claims.hand_back(member.id, stand_in, turn.now)
    member.channel, member.external_id = stand_in
    member.consent_version = stated
    # Saved before the account's new row, which takes over its (channel, external id).
    await turn.uow.members.save(member, turn.now)
    # The account starts afresh, in the language it chose.
    await turn.uow.members.add(account, turn.now)
    turn.pause()
    turn.say(
        _("Your answer is recorded: you do not agree. This account no longer leads to the "
          "record, which stays as the support team entered it."),
        _("To have it erased, ask them for a new code, send it here, then send /xoadulieu. "
          "To use the bot for yourself, send /start."),
    )  # fmt: skip
    return True
