"""A member's preferences: help, the language, and whether reminders come and one is
named in commendations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domain.codes import ButtonCode, button_code
from domain.model import DialogState
from domain.routes import ButtonRoute, CommandRoute, Prompt, Routes
from domain.text import Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Button

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


class Preferences:
    """/help, /lang and /settings, and their buttons."""

    def __init__(self, prompt: Prompt) -> None:
        # Ask again what the dialog in progress expects (the service's prompt).
        self._prompt = prompt

    def routes(self) -> Routes:
        """Open to everyone, and none of them leaves the dialog in progress."""
        return Routes(
            commands={
                "help": CommandRoute(self._help, open=True, leaves=False),
                "lang": CommandRoute(self._languages, open=True, leaves=False),
                "settings": CommandRoute(self._settings_command, open=True, leaves=False),
            },
            buttons={
                "l": ButtonRoute(self._language_button),
                "o": ButtonRoute(self._settings_button),
            },
        )

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
        self._show(turn)

    async def _settings_button(self, turn: Turn, press: Toggle) -> None:
        setattr(turn.member, press.setting, press.state == "on")
        self._show(turn)

    async def _language_button(self, turn: Turn, press: ChooseLanguage) -> None:
        turn.member.language = press.language
        turn.outcome.language = press.language
        await self._prompt(turn, _("Language changed to English."))

    def _show(self, turn: Turn) -> None:
        """/settings: reminders and announcements on or off; named in commendations or not."""
        on, named = turn.member.nudges, turn.member.named
        toggle = Button(_("🔕 Turn reminders off"), Toggle("nudges", "off").encode())
        if not on:
            toggle = Button(_("🔔 Turn reminders on"), Toggle("nudges", "on").encode())
        naming = Button(_("🙈 Do not name me"), Toggle("named", "off").encode())
        if not named:
            naming = Button(_("🏅 Name me again"), Toggle("named", "on").encode())
        turn.say(
            _("⚙️ Settings"),
            _("Reminders and announcements: {state}", state=_("on") if on else _("off")),
            _("Named in weekly commendations when among the most active: {state}",
              state=_("yes") if named else _("no")),
            buttons=((toggle,), (naming,)),
        )  # fmt: skip


HELP: tuple[Text, ...] = (
    _("❓ How to submit an initiative"),
    _("1. Choose “📝 Submit an initiative” (or /new) and answer the questions; every answer is "
      "saved at once, so you can stop and continue later."),
    _("2. Check the summary, correct anything with ✏️, then choose “📤 Submit for review”."),
    _("3. Your union reviews it; follow it in “📋 My initiatives” (/my)."),
    _("Commands: /new new initiative · /my my initiatives · /cancel stop the current step · "
      "/unit change union · /lang language · /link use the bot from two apps"),
)  # fmt: skip
