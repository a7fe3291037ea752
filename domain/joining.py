"""Joining a grassroots union: find it by name or deep link, confirm, agree to the privacy
notice, give a name and, if one wishes, a phone number."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain import dialog, privacy, typed
from domain.codes import ButtonCode, button_code
from domain.errors import InputError
from domain.invites import is_invite_payload
from domain.model import DialogState, Unit
from domain.parsing import NAME_MAX, NAME_MIN, clean_text, search_terms
from domain.ports_privacy import ConsentAction
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes, StateRoute
from domain.text import Text, Verbatim, _, n_
from domain.turn import Turn
from domain.typed import Intent
from domain.ui import SKIP_PHONE, UNKNOWN_COMMAND, Button, ContactShared, KeyButton, Reply
from domain.unit_import import is_valid_code

SEARCH_RESULTS = 8
# The first words to a newcomer: Zalo asks a bot to say that it is one, before anything.
HELLO = _("Hello! I am the union's automatic chatbot, not a person: I help union members "
          "send their initiatives to their union.")  # fmt: skip
_PHONE = re.compile(r"^\+?\d[\d .\-]{7,15}\d$")

JOIN_YES = _("✅ Yes, join")
JOIN_OTHER = _("🔍 Find another union")
SHARE_PHONE = _("📱 Share my phone number")


@button_code("j", "search")
@dataclass(frozen=True, slots=True)
class SearchUnits(ButtonCode):
    """j:search — look for another union."""


@button_code("j", "keep")
@dataclass(frozen=True, slots=True)
class KeepUnit(ButtonCode):
    """j:keep — stay in the union one is in."""


@button_code("j", "pick")
@dataclass(frozen=True, slots=True)
class PickUnit(ButtonCode):
    """j:pick:12 — a union among those found."""

    unit: int


@button_code("j", "ok")
@dataclass(frozen=True, slots=True)
class JoinUnit(ButtonCode):
    """j:ok:12 — yes, join the union offered."""

    unit: int


@button_code("j", "name")
@dataclass(frozen=True, slots=True)
class UseShownName(ButtonCode):
    """j:name — one's full name is the name the channel shows."""


JoinPress = SearchUnits | KeepUnit | PickUnit | JoinUnit | UseShownName


class Joining:
    """A member finds and joins their grassroots union."""

    def __init__(
        self,
        prompt: Prompt,
        spell: Callable[[Text], tuple[str, ...]],
        accept: Callable[[Turn, str], Awaitable[None]],
    ) -> None:
        # Ask again whatever the member is expected to answer (the service's prompt).
        self._prompt = prompt
        self._spell = spell
        # An invitation's deep link is accepted by the invitations feature.
        self._accept = accept

    def routes(self) -> Routes:
        """/start (a union's or an invitation's deep link), /unit, the phone question's
        /skip, the joining buttons, the questions of joining and a shared contact."""
        return Routes(
            commands={
                "start": CommandRoute(lambda t, a: self.start(t, a.strip()), open=True,
                                      leaves=False),
                "unit": CommandRoute(lambda t, _a: self.ask_unit(t), open=True, leaves=False),
                "skip": CommandRoute(self._skip, leaves=False),
            },
            buttons={"j": ButtonRoute(self._join_button),
                     "pv": ButtonRoute(self._consent_button)},
            states={
                DialogState.JOIN_SEARCH: StateRoute(self._search, self._search_again,
                                                    cancel_word=False),
                DialogState.JOIN_CONFIRM: StateRoute(self._confirm_text, self._confirm_prompt),
                DialogState.JOIN_CONSENT: StateRoute(self._consent_text, self._consent_prompt),
                DialogState.JOIN_NAME: StateRoute(self._set_name, self._name_again,
                                                  cancel_word=False),
                DialogState.JOIN_PHONE: StateRoute(self._phone_text, self._phone_again),
            },
            contact=self.contact,
            # The code printed on a union's poster, sent as a message (Zalo's links carry
            # no start payload, so a worker there types it).
            idle_text=self._typed_code,
        )  # fmt: skip

    async def start(self, turn: Turn, code: str) -> None:
        """/start: from a union's poster, an invitation, or just to begin again."""
        if is_invite_payload(code) and turn.member.consent_version != privacy.NOTICE_VERSION:
            # Accepting stores the role: the notice first, the link kept until answered.
            self._ask_consent(turn, {"start": code})
        elif is_invite_payload(code):
            turn.pause()
            await self._accept(turn, code)
        elif code:
            await self._start_in(turn, code)
        elif not turn.member.has_joined:
            await self.ask_unit(turn, HELLO)
        else:
            await self._welcome_back(turn)

    async def _start_in(self, turn: Turn, code: str) -> None:
        """A union's deep link: offer it, unless the member is in it already."""
        unit = await turn.uow.units.by_code(code) if is_valid_code(code) else None
        if unit is None or not unit.is_grassroots:
            await self.ask_unit(
                turn,
                _("I could not find a grassroots union with the code “{code}”.",
                  code=Verbatim(code[:64])),
            )  # fmt: skip
        elif turn.member.has_joined and turn.member.unit_id == unit.id:
            turn.pause()
            turn.menu(_("You are already a member of {unit}.", unit=await self.path(turn, unit)))
        else:
            await self.offer_unit(turn, unit)

    async def _typed_code(self, turn: Turn, text: str) -> bool:
        """Take a message that is exactly a grassroots union's code, as its poster's link would."""
        unit = await self._grassroots_by_code(turn, text)
        if unit is None:
            return False
        await self._start_in(turn, unit.code)
        return True

    @staticmethod
    async def _grassroots_by_code(turn: Turn, text: str) -> Unit | None:
        """The grassroots union whose code ``text`` is (any case), or None."""
        code = text.strip()
        if not is_valid_code(code):
            return None
        unit = await turn.uow.units.by_code(code)
        return unit if unit is not None and unit.is_grassroots else None

    async def _welcome_back(self, turn: Turn) -> None:
        turn.pause()
        lines = [_("Welcome back, {name}!", name=Verbatim(turn.member.full_name or ""))]
        _drafts, count = await turn.uow.initiatives.drafts(turn.member.id, 0)
        if count:
            lines.append(
                n_(
                    "You have {count} draft; type /new to continue it.",
                    "You have {count} drafts; type /new to continue them.",
                    count,
                )
            )
        turn.menu(*lines)

    async def _skip(self, turn: Turn, _argument: str = "") -> None:
        if turn.conversation.state is DialogState.JOIN_PHONE:
            self.finish(turn)
        else:
            await self._prompt(turn, UNKNOWN_COMMAND)

    async def _search_again(self, turn: Turn, *before: Text) -> None:
        turn.show(self._search_prompt(turn), *before)

    async def _name_again(self, turn: Turn, *before: Text) -> None:
        turn.show(self._name_prompt(turn), *before)

    async def _phone_again(self, turn: Turn, *before: Text) -> None:
        turn.show(self._phone_prompt(), *before)

    async def _confirm_prompt(self, turn: Turn, *before: Text) -> None:
        unit = await turn.uow.units.get(int(turn.conversation.data.get("unit", 0)))
        if unit is not None:
            await self.offer_unit(turn, unit, *before)
        else:
            await self.ask_unit(turn, *before)

    def _search_prompt(self, turn: Turn) -> Reply:
        buttons: tuple[tuple[Button, ...], ...] = ()
        if turn.member.has_joined:
            buttons = ((Button(_("Keep my current union"), KeepUnit().encode()),),)
        return Reply(
            (_("Type part of the name of your grassroots union or your company, "
               "for example “May 10”."),),
            buttons,
        )  # fmt: skip

    async def ask_unit(self, turn: Turn, *before: Text) -> None:
        turn.conversation.state = DialogState.JOIN_SEARCH
        turn.conversation.data = {}
        turn.show(self._search_prompt(turn), *before)

    async def _search(self, turn: Turn, text: str) -> None:
        found = turn.conversation.data.get("found")
        number = typed.number(text)
        if isinstance(found, list) and number is not None and 1 <= number <= len(found):
            # The number of a union in the list just shown, as if its button were tapped.
            unit = await turn.uow.units.get(int(found[number - 1]))
            if unit is not None and unit.is_grassroots:
                await self.offer_unit(turn, unit)
                return
        unit = await self._grassroots_by_code(turn, text)
        if unit is not None:
            await self.offer_unit(turn, unit)
            return
        terms = search_terms(text)
        if sum(len(term) for term in terms) < 2:
            raise InputError(_("Please type at least two letters of the name."))
        units, total = await turn.uow.units.search_grassroots(terms[:8], SEARCH_RESULTS)
        if not units:
            turn.say(_("No grassroots union matches “{query}”. Try a shorter or different word.",
                       query=Verbatim(text.strip()[:64])))  # fmt: skip
            return
        lines = [_("Choose your union:")]
        if total > len(units):
            lines.append(_("Showing {shown} of {total}; type more words to narrow it down.",
                           shown=len(units), total=total))  # fmt: skip
        buttons = tuple(
            (Button(Text("{name}", {"name": Verbatim(dialog.shorten(unit.name))}),
                    PickUnit(unit.id).encode()),)
            for unit in units
        )  # fmt: skip
        turn.conversation.data = {"found": [unit.id for unit in units]}
        turn.say(*lines, buttons=buttons)

    async def path(self, turn: Turn, unit: Unit) -> Verbatim:
        path = await turn.uow.units.path(unit)
        names = [u.name for u in path if u.level != "national"] or [unit.name]
        return Verbatim(" › ".join(names))

    async def offer_unit(self, turn: Turn, unit: Unit, *before: Text) -> None:
        turn.conversation.state = DialogState.JOIN_CONFIRM
        turn.conversation.data = {"unit": unit.id}
        turn.say(
            *before,
            _("Your grassroots union: {path}", path=await self.path(turn, unit)),
            _("Is this your union?"),
            buttons=(
                (Button(JOIN_YES, JoinUnit(unit.id).encode()),),
                (Button(JOIN_OTHER, SearchUnits().encode()),),
            ),
        )

    def _name_prompt(self, turn: Turn) -> Reply:
        buttons: tuple[tuple[Button, ...], ...] = ()
        # The name the app shows, from the event: it is not stored before it is chosen.
        if valid_name(turn.shown_name):
            label = _("Use “{name}”", name=Verbatim(dialog.shorten(turn.shown_name)))
            buttons = ((Button(label, UseShownName().encode()),),)
        return Reply((_("What is your full name?"),), buttons)

    def _phone_prompt(self) -> Reply:
        keyboard = (
            (KeyButton(SHARE_PHONE, request_contact=True),),
            (KeyButton(SKIP_PHONE, command="skip"),),
        )
        # Typing the number works on every channel; sharing the contact only where the
        # channel has that button, so the text asks for what works everywhere.
        return Reply(
            (_("Would you give your phone number, so the union can reach you about your "
               "initiatives? It is optional: type it (for example 0912 345 678), or choose "
               "“{skip}”.", skip=SKIP_PHONE),),
            keyboard=keyboard,
        )  # fmt: skip

    async def _join_button(self, turn: Turn, press: JoinPress) -> None:
        conversation = turn.conversation
        match press:
            case SearchUnits():
                await self.ask_unit(turn)
            case KeepUnit() if turn.member.has_joined:
                turn.pause()
                turn.menu(_("You stay in your current union."))
            case PickUnit(unit=unit_id):
                unit = await turn.uow.units.get(unit_id)
                if unit is None or not unit.is_grassroots:
                    raise InputError(_("That union is no longer available. Please search again."))
                await self.offer_unit(turn, unit)
            case JoinUnit(unit=unit_id) if (
                unit_id == conversation.data.get("unit")
                and conversation.state is DialogState.JOIN_CONFIRM
            ):
                await self._join(turn, unit_id)
            case UseShownName() if conversation.state is DialogState.JOIN_NAME:
                await self._set_name(turn, turn.shown_name)
            case _:
                turn.outcome.notice = _("That choice is from an earlier message.")
                await self._prompt(turn)

    async def _join(self, turn: Turn, unit_id: int) -> None:
        unit = await turn.uow.units.get(unit_id)
        if unit is None:
            await self.ask_unit(turn, _("That union is no longer available."))
            return
        if turn.member.has_joined:
            turn.member.unit_id = unit.id
            turn.pause()
            turn.menu(_("Done: you are now a member of {unit}.",
                        unit=await self.path(turn, unit)))  # fmt: skip
        elif turn.member.consent_version != privacy.NOTICE_VERSION:
            self._ask_consent(turn, {"unit": unit.id})
        else:
            self._ask_name(turn, unit.id)

    def _ask_name(self, turn: Turn, unit_id: int, *before: Text) -> None:
        turn.member.unit_id = unit_id
        turn.conversation.state = DialogState.JOIN_NAME
        turn.conversation.data = {}
        turn.show(self._name_prompt(turn), *before)

    # -- the privacy notice, before anything about the member is stored ------

    @staticmethod
    def _ask_consent(turn: Turn, waiting: dict[str, object]) -> None:
        """Show the notice; ``waiting`` is what to do once the member agrees (the union
        confirmed, or the deep link they opened)."""
        turn.conversation.state = DialogState.JOIN_CONSENT
        turn.conversation.data = waiting
        privacy.ask(turn)

    async def _consent_prompt(self, turn: Turn, *before: Text) -> None:
        privacy.ask(turn, *before)

    async def _consent_text(self, turn: Turn, text: str) -> None:
        """A typed "đồng ý" or "không" (or a button's words)."""
        agreed = privacy.read_answer(text, self._spell)
        if agreed is None:
            await self._prompt(turn, _("Please choose one of the options below."))
        elif agreed:
            await self._agreed(turn)
        else:
            await self._refused(turn)

    async def _consent_button(self, turn: Turn, press: privacy.ConsentPress) -> None:
        if turn.conversation.state is not DialogState.JOIN_CONSENT:
            turn.outcome.notice = _("That choice is from an earlier message.")
            await self._prompt(turn)
        elif isinstance(press, privacy.Agree):
            await self._agreed(turn)
        else:
            await self._refused(turn)

    async def _agreed(self, turn: Turn) -> None:
        """Record the consent, then do what was waiting for it."""
        await privacy.record(turn, ConsentAction.GIVEN)
        waiting = turn.conversation.data
        if "start" in waiting:
            turn.pause()
            turn.say(privacy.THANKS)
            await self.start(turn, str(waiting["start"]))
            return
        unit = await turn.uow.units.get(int(waiting.get("unit", 0)))
        if unit is not None and unit.is_grassroots:
            self._ask_name(turn, unit.id, privacy.THANKS)
        else:
            await self.ask_unit(turn, privacy.THANKS)

    async def _refused(self, turn: Turn) -> None:
        """Nothing about a newcomer who refuses is kept, not even that they came."""
        again = _("If you change your mind, type /start or scan your union's QR code again.")
        if not turn.member.has_joined and await turn.uow.consents.forget_newcomer(turn.member.id):
            turn.forgotten = True
            turn.say(_("All right: nothing about you is stored, and this conversation is "
                       "forgotten."), again)  # fmt: skip
            return
        await privacy.record(turn, ConsentAction.REFUSED)
        turn.pause()
        turn.say(_("All right: your answer is recorded, and nothing more is stored."), again)

    async def _set_name(self, turn: Turn, text: str) -> None:
        turn.member.full_name = read_name(text)
        turn.conversation.state = DialogState.JOIN_PHONE
        turn.show(self._phone_prompt())

    def finish(self, turn: Turn) -> None:
        turn.pause()
        turn.menu(
            _("Welcome, {name}! You are now a member of your union here.",
              name=Verbatim(turn.member.full_name or "")),
            _("Choose “📝 Submit an initiative” whenever you have an idea to improve your work."),
        )  # fmt: skip

    async def contact(self, turn: Turn, contact: ContactShared) -> None:
        if turn.conversation.state is not DialogState.JOIN_PHONE:
            raise InputError(_("A contact is not expected here."))
        turn.member.phone = read_contact(turn, contact)
        self.finish(turn)

    async def _phone_text(self, turn: Turn, text: str) -> None:
        """A typed phone number, or "bỏ qua" / "không" to join without one."""
        if typed.intent(text) is Intent.SKIP or typed.fold(text) in typed.NO_WORDS:
            self.finish(turn)
            return
        turn.member.phone = read_phone(text)
        self.finish(turn)

    async def _confirm_text(self, turn: Turn, text: str) -> None:
        """ "Có", "đúng", "ok" or the button's words join the union offered; "không" or
        "tìm khác" look for another."""
        folded = typed.fold(text)
        choices = [typed.Choice("ok", self._spell(JOIN_YES)),
                   typed.Choice("search", self._spell(JOIN_OTHER))]  # fmt: skip
        picked = typed.match(text, choices).code
        if folded in typed.YES_WORDS or picked == "ok":
            await self._join(turn, int(turn.conversation.data.get("unit", 0)))
        elif folded in typed.NO_WORDS or picked == "search":
            await self.ask_unit(turn)
        else:
            await self._prompt(turn, _("Please choose one of the options below."))


def valid_name(name: str) -> bool:
    return NAME_MIN <= len(name) <= NAME_MAX and any(ch.isalpha() for ch in name)


def read_name(text: str) -> str:
    """A full name as typed, its spaces tidied; InputError when it is not one."""
    name = " ".join(clean_text(text, limit=NAME_MAX).split())
    if not valid_name(name):
        raise InputError(_("Please type your full name ({minimum} to {maximum} letters).",
                           minimum=NAME_MIN, maximum=NAME_MAX))  # fmt: skip
    return name


def read_phone(text: str) -> str:
    """A phone number as typed, kept as its digits; InputError when it is not one."""
    if not _PHONE.match(text.strip()):
        raise InputError(_("That does not look like a phone number."))
    return clean_phone(text)


def read_contact(turn: Turn, contact: ContactShared) -> str:
    """The member's own phone number from a shared contact; InputError for another's."""
    if contact.owner_external_id != turn.member.external_id:
        raise InputError(_("Please share your own phone number with the button below."))
    return read_phone(contact.phone)


def clean_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits
