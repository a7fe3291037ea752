"""A member's preferences: help, the language, whether reminders come and one is named in
commendations, and the name and phone number the union has of them, corrected."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from domain import typed
from domain.codes import ButtonCode, button_code
from domain.dialog import BACK
from domain.joining import SHARE_PHONE, read_contact, read_name, read_phone
from domain.model import DialogState
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes, StateRoute
from domain.text import Text, Verbatim, _
from domain.turn import Turn
from domain.typed import Intent
from domain.ui import Button, ContactShared, KeyButton, Reply

log = logging.getLogger(__name__)

Language = Literal["vi", "en"]
LANGUAGES: dict[Language, str] = {"vi": "Tiếng Việt", "en": "English"}


@button_code("l")
@dataclass(frozen=True, slots=True)
class ChooseLanguage(ButtonCode):
    """l:vi — speak to me in this language."""

    language: Language


@button_code("o")
@dataclass(frozen=True, slots=True)
class Toggle(ButtonCode):
    """o:nudges:off — a setting turned on or off."""

    setting: Literal["nudges", "named"]
    state: Literal["on", "off"]


@button_code("pf", "name")
@dataclass(frozen=True, slots=True)
class CorrectName(ButtonCode):
    """pf:name — correct my name."""


@button_code("pf", "phone")
@dataclass(frozen=True, slots=True)
class CorrectPhone(ButtonCode):
    """pf:phone — correct my phone number."""


@button_code("pf", "drop")
@dataclass(frozen=True, slots=True)
class DropPhone(ButtonCode):
    """pf:drop — delete my phone number."""


@button_code("pf", "back")
@dataclass(frozen=True, slots=True)
class BackToSettings(ButtonCode):
    """pf:back — back to /settings, changing nothing."""


ProfilePress = CorrectName | CorrectPhone | DropPhone | BackToSettings
# The steps of a correction: what the member types next.
CORRECTING = frozenset({DialogState.SETTINGS_NAME, DialogState.SETTINGS_PHONE})
UNCHANGED = _("Nothing was changed.")
# A name is typed here: "Huy" is a name, not "hủy"; only these words leave the question.
_LEAVE_NAME = frozenset({Intent.BACK, Intent.MENU})


class Preferences:
    """/help, /lang and /settings, and their buttons."""

    def __init__(self, prompt: Prompt) -> None:
        # Ask again what the dialog in progress expects (the service's prompt).
        self._prompt = prompt

    def routes(self) -> Routes:
        """Commands open to everyone that leave no dialog in progress; the correction's
        buttons and its two steps."""
        return Routes(
            commands={
                "help": CommandRoute(self._help, open=True, leaves=False),
                "lang": CommandRoute(self._languages, open=True, leaves=False),
                "settings": CommandRoute(self._settings_command, open=True, leaves=False),
            },
            buttons={
                "l": ButtonRoute(self._language_button),
                "o": ButtonRoute(self._settings_button),
                "pf": ButtonRoute(self._profile_button),
            },
            states={
                DialogState.SETTINGS_NAME: StateRoute(self._name_text, self._ask_name,
                                                      cancel_word=False, cancel=self._leave),
                DialogState.SETTINGS_PHONE: StateRoute(self._phone_text, self._ask_phone,
                                                       cancel=self._leave,
                                                       contact=self._phone_contact),
            },
        )  # fmt: skip

    async def _help(self, turn: Turn, _argument: str = "") -> None:
        turn.say(*HELP)
        if turn.conversation.state is not DialogState.IDLE:
            await self._prompt(turn)
        elif turn.member.has_joined:
            turn.menu(_("Choose “📝 Submit an initiative” to send a new idea."))

    async def _languages(self, turn: Turn, _argument: str = "") -> None:
        buttons = tuple(
            (Button(Text("{name}", {"name": Verbatim(label)}), ChooseLanguage(code).encode()),)
            for code, label in LANGUAGES.items()
        )
        turn.say(_("Choose your language:"), buttons=buttons)

    async def _settings_command(self, turn: Turn, _argument: str = "") -> None:
        if turn.conversation.state in CORRECTING:
            # /settings again (Zalo's numbered "back") leaves the correction unchanged.
            self._return(turn, UNCHANGED)
        else:
            self._show(turn)

    async def _settings_button(self, turn: Turn, press: Toggle) -> None:
        setattr(turn.member, press.setting, press.state == "on")
        self._show(turn)

    async def _language_button(self, turn: Turn, press: ChooseLanguage) -> None:
        turn.member.language = press.language
        turn.outcome.language = press.language
        await self._prompt(turn, _("Language changed to English."))

    def _show(self, turn: Turn, *before: Text) -> None:
        """/settings: the name and phone to correct; reminders and announcements on or off;
        named in commendations or not."""
        on, named = turn.member.nudges, turn.member.named
        details, correct = self._details(turn)
        toggle = Button(_("🔕 Turn reminders off"), Toggle("nudges", "off").encode())
        if not on:
            toggle = Button(_("🔔 Turn reminders on"), Toggle("nudges", "on").encode())
        naming = Button(_("🙈 Do not name me"), Toggle("named", "off").encode())
        if not named:
            naming = Button(_("🏅 Name me again"), Toggle("named", "on").encode())
        turn.say(
            *before,
            _("⚙️ Settings"),
            *details,
            _("Reminders and announcements: {state}", state=_("on") if on else _("off")),
            _("Named in weekly commendations when among the most active: {state}",
              state=_("yes") if named else _("no")),
            buttons=(*correct, (toggle,), (naming,)),
        )  # fmt: skip

    @staticmethod
    def _details(turn: Turn) -> tuple[list[Text], list[tuple[Button, ...]]]:
        """The member's name and phone, with the buttons that correct them."""
        member = turn.member
        if not _correctable(turn):
            return [NOT_JOINED], []
        phone = Verbatim(member.phone) if member.phone else _("not given")
        lines = [_("Name: {name}", name=Verbatim(member.full_name or "")),
                 _("Phone: {phone}", phone=phone)]  # fmt: skip
        buttons: list[tuple[Button, ...]] = [
            (Button(_("✏️ Correct my name"), CorrectName().encode()),),
            (Button(_("📞 Correct my phone number"), CorrectPhone().encode()),),
        ]
        if member.phone:
            buttons.append((Button(_("🗑 Delete my phone number"), DropPhone().encode()),))
        return lines, buttons

    # -- correcting the name and the phone -------------------------------------------

    async def _profile_button(self, turn: Turn, press: ProfilePress) -> None:
        if not _correctable(turn):
            turn.say(NOT_JOINED)
            return
        match press:
            case CorrectName():
                await self._ask_name(turn)
            case CorrectPhone():
                await self._ask_phone(turn)
            case DropPhone() if turn.member.phone:
                turn.member.phone = None
                log.info("member %s deleted their phone number", turn.member)
                self._return(turn, _("✅ Your phone number was deleted."))
            case _:
                self._return(turn, UNCHANGED)

    async def _ask_name(self, turn: Turn, *before: Text) -> None:
        turn.conversation.state = DialogState.SETTINGS_NAME
        turn.conversation.data = {}
        turn.say(
            *before,
            _("✏️ Your name now: {name}", name=Verbatim(turn.member.full_name or "")),
            _("Type your full name as your union should see it, or 0 to go back."),
            buttons=((Button(BACK, BackToSettings().encode()),),),
        )

    async def _ask_phone(self, turn: Turn, *before: Text) -> None:
        turn.conversation.state = DialogState.SETTINGS_PHONE
        turn.conversation.data = {}
        phone = turn.member.phone
        # Typing works on every channel; sharing the contact only where the channel has
        # that button (as joining asks it), so the text asks for what works everywhere.
        keyboard = ((KeyButton(SHARE_PHONE, request_contact=True),),
                    (KeyButton(BACK, command="settings"),))  # fmt: skip
        turn.show(Reply((
            _("📞 Your phone number now: {phone}",
              phone=Verbatim(phone) if phone else _("not given")),
            _("Type your new phone number (for example 0912 345 678), or 0 to go back."),
        ), keyboard=keyboard), *before)  # fmt: skip

    async def _name_text(self, turn: Turn, text: str) -> None:
        word = typed.intent(text)
        if word is Intent.MENU:
            await self._leave(turn)
        elif word in _LEAVE_NAME:
            self._return(turn, UNCHANGED)
        else:
            name = read_name(text)
            if name == turn.member.full_name:
                self._return(turn, _("That is your name already: nothing was changed."))
                return
            turn.member.full_name = name
            log.info("member %s corrected their name", turn.member)
            turn.pause()
            turn.menu(_("✅ Your name is now: {name}", name=Verbatim(name)))

    async def _phone_text(self, turn: Turn, text: str) -> None:
        if typed.intent(text) in (Intent.BACK, Intent.SKIP, Intent.KEEP):
            self._return(turn, UNCHANGED)
        else:
            self._set_phone(turn, read_phone(text))

    async def _phone_contact(self, turn: Turn, contact: ContactShared) -> None:
        self._set_phone(turn, read_contact(turn, contact))

    @staticmethod
    def _set_phone(turn: Turn, phone: str) -> None:
        turn.member.phone = phone
        log.info("member %s corrected their phone number", turn.member)
        turn.pause()
        # The main menu comes back in place of the phone question's keyboard.
        turn.menu(_("✅ Your phone number is now: {phone}", phone=Verbatim(phone)))

    async def _leave(self, turn: Turn) -> None:
        """/cancel or "menu" during a correction: the main menu, nothing changed."""
        turn.pause()
        turn.menu(UNCHANGED)

    def _return(self, turn: Turn, line: Text) -> None:
        """Back to /settings from a correction, saying ``line`` first."""
        state = turn.conversation.state
        if state in CORRECTING:
            turn.pause()
        if state is DialogState.SETTINGS_PHONE:
            # The phone question's keyboard gives way to the main menu's.
            turn.menu(line)
            self._show(turn)
        else:
            self._show(turn, line)


NOT_JOINED = _("You have not joined a union here yet, so there is no name or phone number "
               "to correct. Type /start to join.")  # fmt: skip


def _correctable(turn: Turn) -> bool:
    """Whether the member has a name to correct: joined, having agreed to the notice."""
    return turn.member.has_joined and turn.member.consent_version is not None


HELP: tuple[Text, ...] = (
    _("❓ How to submit an initiative"),
    _("1. Choose “📝 Submit an initiative” (or /new) and answer the questions; every answer is "
      "saved at once, so you can stop and continue later."),
    _("2. Check the summary, correct anything with ✏️, then choose “📤 Submit for review”."),
    _("3. Your union reviews it; follow it in “📋 My initiatives” (/my)."),
    _("Commands: /new new initiative · /my my initiatives · /cancel stop the current step · "
      "/unit change union · /lang language · /link use the bot from two apps"),
    _("/xem SK-000123 shows an initiative by its number, such as one hinted as similar."),
    _("Your data: /privacy what is stored and why · /mydata see it · /settings correct your "
      "name or phone · /xoadulieu erase it"),
)  # fmt: skip
