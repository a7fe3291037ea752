"""The privacy notice and the member's consent to it: asked at joining, before any name is
stored, and asked again of anyone whose consent is missing or older than the notice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain import typed
from domain.codes import ButtonCode, button_code, parse
from domain.model import DialogState
from domain.ports_privacy import Consent, ConsentAction
from domain.routes import CommandRoute, Prompt, Routes
from domain.text import Text, _
from domain.turn import Forged, Turn
from domain.ui import Button, ButtonPress, Command, Payload, TextMessage

log = logging.getLogger(__name__)

# Changing the notice's text in substance means a new version: everyone is asked again.
NOTICE_VERSION = "2026-12"
# Drafts untouched this long are deleted, after a notice (the retention job's default).
DRAFT_RETENTION_MONTHS = 12
# What a member who has not answered the notice may still do: read it, change language,
# see their data or erase it, and get help.
EXEMPT_COMMANDS = frozenset({"privacy", "lang", "language", "mydata", "xoadulieu", "erase",
                             "help"})  # fmt: skip
# The buttons of those commands (the language chosen, the erasure confirmed), by prefix,
# and the dialog one of them opens (typed "XÓA" confirms an erasure).
EXEMPT_BUTTONS = frozenset({"l", "e"})
EXEMPT_STATES = frozenset({DialogState.ERASING})
# The consent of a member a helper entered was stated by the helper, not given in a chat.
HELPER_CHANNEL = "helper"

AGREE = _("✅ I agree")
REFUSE = _("❌ I do not agree")
THANKS = _("Thank you: your consent is recorded.")
# A deep link opened before the member answered the notice, kept with the dialog until
# they agree and then followed.
START_KEY = "consent_start"

# Folded words that answer the notice, in Vietnamese as people type it and in English.
_AGREE_WORDS = typed.YES_WORDS | {
    "toi dong y", "dong y", "agree", "i agree", "chap nhan", "accept", "co dong y",
}  # fmt: skip
_REFUSE_WORDS = typed.NO_WORDS | {
    "khong dong y", "toi khong dong y", "disagree", "i do not agree", "i don t agree",
    "tu choi", "refuse",
}  # fmt: skip


@button_code("pv", "yes")
@dataclass(frozen=True, slots=True)
class Agree(ButtonCode):
    """pv:yes — I agree to the privacy notice."""


@button_code("pv", "no")
@dataclass(frozen=True, slots=True)
class Refuse(ButtonCode):
    """pv:no — I do not agree."""


ConsentPress = Agree | Refuse
CONSENT_BUTTONS = ((Button(AGREE, Agree().encode()),), (Button(REFUSE, Refuse().encode()),))


def short_notice() -> tuple[Text, ...]:
    """The notice on one phone screen, asked at joining and by the gate."""
    return (
        _("🔒 Before we go on, about your personal data:"),
        _("I am the union's automatic chatbot (not a person) for the programme “One million "
          "initiatives”."),
        _("I store your name, your phone number if you give it, your grassroots union, your "
          "Telegram or Zalo account and what you send (initiatives, photos, voice notes), for "
          "the programme, its figures and commendations."),
        _("Your union's admins and those above see it; confidential parts only the reviewers. "
          "It is kept as long as the programme's records; drafts untouched for {months} months "
          "are deleted after a notice.", months=DRAFT_RETENTION_MONTHS),
        _("/mydata: see and download it · /settings: correct your name or phone · /xoadulieu: "
          "withdraw consent and erase it · /privacy: the full notice."),
        _("Do you agree?"),
    )  # fmt: skip


def full_notice() -> tuple[Text, ...]:
    """The whole notice, for /privacy."""
    return (
        _("🔒 Privacy notice (version {version})", version=NOTICE_VERSION),
        _("Who I am: the union's automatic chatbot, not a person, for the programme “One "
          "million initiatives”. Your union is responsible for the data."),
        _("What I store: your name; your phone number, only if you give it; your grassroots "
          "union; your Telegram or Zalo account; what you send: initiatives and their answers, "
          "photos, documents and voice notes; the roles you hold; your answers to this notice."),
        _("Why: to run the programme: your initiatives are reviewed, counted in your union's "
          "figures and rankings, and may be commended (/settings turns naming off)."),
        _("Who sees it: your grassroots union's admins and the admins and support team of the "
          "unions above it; the confidential part of an initiative only those who review it."),
        _("How long: as long as the programme's records are kept. Drafts untouched for "
          "{months} months are deleted, after a notice.", months=DRAFT_RETENTION_MONTHS),
        _("Your rights: /mydata shows everything stored about you and sends you a copy; "
          "/settings corrects your name or phone; /xoadulieu withdraws your consent and erases "
          "your data (/erase does the same)."),
        _("What erasing keeps: initiatives already approved are the union's record: their "
          "content stays, and the author is shown as “a member who erased their data”. "
          "Initiatives not approved (pending, returned, rejected) lose their texts and files. "
          "Voice notes and round videos always go. Counts, benefits and rankings never change."),
    )  # fmt: skip


def ask(turn: Turn, *before: Text, full: bool = False) -> None:
    """Show the notice with its two answers."""
    turn.say(*before, *(full_notice() if full else short_notice()), buttons=CONSENT_BUTTONS)


def read_answer(
    text: str,
    spell: Callable[[Text], tuple[str, ...]],
    labels: tuple[Text, Text] = (AGREE, REFUSE),
) -> bool | None:
    """True for a typed "đồng ý" (or the yes button's label), False for "không" (or the
    other's), else None."""
    folded = typed.fold(text)
    if folded in _AGREE_WORDS:
        return True
    if folded in _REFUSE_WORDS:
        return False
    choices = [typed.Choice("yes", spell(labels[0])), typed.Choice("no", spell(labels[1]))]
    picked = typed.match(text, choices, exact=True).code
    return None if picked is None else picked == "yes"


def _pressed(payload: Payload, spell: Callable[[Text], tuple[str, ...]]) -> bool | None:
    """The answer a button or a typed word gives, if it gives one."""
    if isinstance(payload, TextMessage):
        return read_answer(payload.text, spell)
    if isinstance(payload, ButtonPress) and _prefix(payload.code) == Agree.prefix:
        try:
            press = parse(payload.code)
        except Forged:
            return None
        return isinstance(press, Agree) if isinstance(press, (Agree, Refuse)) else None
    return None


def _prefix(code: str) -> str:
    return code.split(":", 1)[0]


async def record(turn: Turn, action: ConsentAction) -> None:
    """Record the member's answer to the current notice, on the channel they used; a
    consent also keeps, from now on, the name their app shows."""
    member = turn.member
    await turn.uow.consents.record(
        Consent(member.id, NOTICE_VERSION, action, member.channel, turn.now)
    )
    if action is ConsentAction.GIVEN:
        member.consent_version = NOTICE_VERSION
        # Until now the row held the account's id (see ConversationService._member).
        member.display_name = turn.shown_name[:200] or member.external_id
    log.info("consent %s by member %s, notice %s", action.value, member, NOTICE_VERSION)


class ConsentGate:
    """Holds back a member who joined, or holds a role, without consent to the current
    notice: nothing but the exempt commands happens until they answer, and their dialog
    stays where it was."""

    def __init__(
        self,
        prompt: Prompt,
        spell: Callable[[Text], tuple[str, ...]],
        follow: Callable[[Turn, Payload], Awaitable[None]],
        refused: Callable[[Turn], Awaitable[bool]] | None = None,
    ) -> None:
        # Ask again whatever the dialog expects, once the member agreed.
        self._prompt = prompt
        self._spell = spell
        # Handle a kept deep link as if it had just been opened.
        self._follow = follow
        # Takes a refusal that means more (a claimed record goes back): True if it did.
        self._refused = refused

    @staticmethod
    async def owed(turn: Turn) -> bool:
        """Whether the member must answer the notice before anything else; joining asks
        a newcomer itself."""
        member = turn.member
        if member.consent_version == NOTICE_VERSION:
            return False
        return member.has_joined or bool(await turn.uow.roles.of_member(member.id))

    @staticmethod
    def exempt(turn: Turn, payload: Payload) -> bool:
        """Whether this may happen before the member answers."""
        if isinstance(payload, Command):
            return payload.name in EXEMPT_COMMANDS
        if isinstance(payload, ButtonPress):
            return _prefix(payload.code) in EXEMPT_BUTTONS
        return turn.conversation.state in EXEMPT_STATES

    async def answer(self, turn: Turn, payload: Payload) -> None:
        """Take the member's answer; anything else shows the notice again."""
        if isinstance(payload, Command) and payload.name == "start" and payload.argument.strip():
            turn.conversation.data[START_KEY] = payload.argument.strip()[:64]
        agreed = _pressed(payload, self._spell)
        if agreed:
            await record(turn, ConsentAction.GIVEN)
            start = turn.conversation.data.pop(START_KEY, None)
            if start is None:
                await self._prompt(turn, THANKS)
            else:
                turn.say(THANKS)
                await self._follow(turn, Command("start", str(start)))
        elif agreed is False:
            if self._refused is not None and await self._refused(turn):
                return
            await record(turn, ConsentAction.REFUSED)
            turn.say(
                _("Your answer is recorded: you do not agree. I cannot go on until you agree; "
                  "you can agree at any time with the button below, or erase your data with "
                  "/xoadulieu."),
                buttons=CONSENT_BUTTONS,
            )  # fmt: skip
        else:
            ask(turn)

    @staticmethod
    def remind(turn: Turn) -> None:
        """After an exempt command, ask again, unless the member agreed, was erased, or was
        just asked, or the command awaits its own choice (numbers typed on a channel
        without buttons answer the last choices shown)."""
        replies = turn.outcome.replies
        own = replies and any(_prefix(b.code) in EXEMPT_BUTTONS | {Agree.prefix}
                              for row in replies[-1].buttons for b in row)  # fmt: skip
        if turn.member.consent_version != NOTICE_VERSION and not turn.forgotten and not own:
            ask(turn)


class PrivacyDesk:
    """/privacy: the full notice, at any time."""

    def __init__(self, prompt: Prompt) -> None:
        self._prompt = prompt

    def routes(self) -> Routes:
        """/privacy, open to everyone, leaving no dialog."""
        return Routes(
            commands={"privacy": CommandRoute(self._notice, open=True, leaves=False)},
        )

    async def _notice(self, turn: Turn, _argument: str = "") -> None:
        owed = turn.conversation.state is DialogState.JOIN_CONSENT or await ConsentGate.owed(turn)
        if owed:
            ask(turn, full=True)
            return
        turn.say(*full_notice())
        if turn.conversation.state is not DialogState.IDLE:
            await self._prompt(turn)
