"""The conversation service: every inbound event becomes one short transaction.

A member's dialog state is a row, loaded and saved on every event, so a restart,
a second process or another channel continues the same conversation.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from zoneinfo import ZoneInfo

from domain import codes, typed
from domain.announce_cases import Paces
from domain.commend import Schedule
from domain.delivery import queue
from domain.errors import InputError
from domain.exports import prepare_documents
from domain.features import Engine, FeatureSettings, register
from domain.joining import HELLO
from domain.model import (
    DialogState,
    Member,
)
from domain.numbered import chosen, last_choices
from domain.ports import Renderer, UnitOfWork, UnitOfWorkFactory
from domain.ports_similar import SimilarRules
from domain.preferences import LANGUAGES
from domain.privacy import ConsentGate
from domain.privacy_copy import PersonalCopies, prepare_copies
from domain.proxy import helper_units
from domain.reports import Exporter
from domain.routes import CommandRoute, Routes, merge
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.typed import Intent
from domain.ui import (
    MAIN_MENU,
    UNKNOWN_COMMAND,
    UNREACHABLE,
    UNSUPPORTED_LABELS,
    ButtonPress,
    Capabilities,
    Command,
    ContactShared,
    FileShared,
    Inbound,
    Outcome,
    Payload,
    TextMessage,
    Unsupported,
)
from domain.web_access import app_page, page_menu

log = logging.getLogger(__name__)

# Commands after which a chat's menu button is checked, besides every main menu: an admin
# who has joined no unit sees no main menu.
_MENU_MOMENTS = frozenset({"start", "help"})


def _numbered(inbound: Inbound, turn: Turn) -> Payload:
    """On a channel without buttons, a number typed after numbered choices is the choice."""
    payload, choices = inbound.payload, turn.conversation.choices
    if not isinstance(payload, TextMessage) or not choices:
        return payload
    number = typed.number(payload.text)
    if number is None or not 1 <= number <= len(choices):
        return payload
    return chosen(choices[number - 1]) or payload


def _labels(channels: Mapping[str, Capabilities]) -> dict[str, str]:
    """The channels a member can be written to, by their apps' names."""
    return {name: c.label or name for name, c in channels.items() if c.queued}


def _moved(before: Member, member: Member) -> bool:
    """Whether the member wrote from another of their linked accounts than last time."""
    return (before.channel, before.external_id) != (member.channel, member.external_id)


class ConversationService:
    """Turns inbound events into replies, saving the dialog at every answer."""

    def __init__(
        self,
        units_of_work: UnitOfWorkFactory,
        *,
        clock: Callable[[], dt.datetime],
        timezone: ZoneInfo,
        default_language: str = "vi",
        invite_link: Callable[[str], str] = lambda payload: payload,
        invite_lifetime: dt.timedelta = dt.timedelta(days=7),
        schedule: Schedule | None = None,
        renderer: Renderer | None = None,
        channels: Mapping[str, Capabilities] | None = None,
        web_address: str = "",
        exporter: Exporter | None = None,
        copies: PersonalCopies | None = None,
        paces: Paces | None = None,
        similar: SimilarRules | None = None,
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        # Makes the Excel reports that /export sends, once the turn is over.
        self._exporter = exporter
        # Makes the copies of their data that /mydata sends, once the turn is over.
        self._copies = copies
        self._tz = timezone
        self._default_language = default_language
        # What each channel can do; the core asks this, never a channel's name.
        self._channels = dict(channels or {})
        # Spells button labels in every language, to recognise one typed instead of tapped.
        self._renderer = renderer
        self._web_address = web_address
        caption_limit = min((c.caption_limit for c in self._channels.values() if c.queued),
                            default=0)  # fmt: skip
        feature_settings = FeatureSettings(timezone, invite_link, invite_lifetime, schedule,
                                           caption_limit, _labels(self._channels),
                                           web_address, paces,
                                           similar or SimilarRules())  # fmt: skip
        features = register(
            Engine(self._prompt, self._spell, self._button, self._cancel), feature_settings
        )
        self._ask_unit = features.ask_unit
        self._consent = ConsentGate(self._prompt, self._spell, self._dispatch, features.refused)
        cancel = CommandRoute(lambda turn, _a: self._cancel(turn), open=True, leaves=False)
        routes = merge((features.routes, Routes(commands={"cancel": cancel})))
        self._commands = routes.commands
        self._buttons = routes.buttons
        self._states = routes.states
        self._file_route = routes.file
        self._idle_text = routes.idle_text
        self._contact_route = routes.contact

    @property
    def commands(self) -> frozenset[str]:
        """Every command some feature answers."""
        return frozenset(self._commands)

    @property
    def button_prefixes(self) -> frozenset[str]:
        """Every button prefix some feature answers."""
        return frozenset(self._buttons)

    async def handle(self, inbound: Inbound) -> Outcome:
        """Handle one event in one transaction; a redelivered event changes nothing."""
        now = self._clock()
        async with self._uow() as uow:
            await uow.members.serialize(inbound.sender.channel, inbound.sender.external_id)
            if inbound.event_id and not await uow.inbox.claim(inbound.event_id, now):
                return Outcome(language=self._default_language, duplicate=True)
            member, before = await self._member(uow, inbound, now)
            conversation = await uow.conversations.get(member.id)
            conversation_before = replace(conversation, data=dict(conversation.data))
            capabilities = self._channels.get(member.channel, UNREACHABLE)
            turn = Turn(
                uow, member, conversation, now, now.astimezone(self._tz).date(),
                Outcome(language=member.language), capabilities,
                shown_name=inbound.sender.display_name,
            )  # fmt: skip
            buttons = capabilities.buttons
            await self._respond(turn, before, inbound)
            if not buttons and turn.outcome.replies:
                conversation.choices = tuple(c.stored() for c in last_choices(turn.outcome.replies))
            if member != before and not turn.forgotten:
                await uow.members.save(member, now)
            if conversation != conversation_before and not turn.forgotten:
                await uow.conversations.save(conversation, now)
            outcome = turn.outcome
            # Notifications go through the delivery queue in the same transaction as what
            # they tell of; the member who acted is answered directly.
            outcome.queued = await queue(uow, outcome.deliveries, now, urgent=True,
                                         channels=self._channels,
                                         card_updates=outcome.card_updates)  # fmt: skip
            await uow.commit()
        turn.outcome.language = member.language
        for step in turn.outcome.after:
            await step()
        # Files are made outside the transaction: nothing is held while a big one is written.
        await prepare_documents(turn.outcome, self._exporter, member, turn.today)
        await prepare_copies(turn.outcome, self._copies, member, now)
        return turn.outcome

    async def _respond(self, turn: Turn, before: Member, inbound: Inbound) -> None:
        """What the event does: held back by the privacy notice when the member owes an
        answer to it, taken as a greeting from another app, or dispatched."""
        buttons = turn.capabilities.buttons
        payload = inbound.payload if buttons else _numbered(inbound, turn)
        owed = await self._consent.owed(turn)
        if owed and not self._consent.exempt(turn, payload):
            # Nothing else happens until the member answers the privacy notice.
            await self._consent.answer(turn, payload)
        elif _moved(before, turn.member):
            await self._arrive(turn, before.channel, inbound.payload)
        else:
            await self._dispatch(turn, payload)
        if owed:
            self._consent.remind(turn)
        elif not turn.forgotten:
            await self._page_menu(turn, inbound.payload)

    async def _page_menu(self, turn: Turn, payload: Payload) -> None:
        """At /start and /help, and where the main menu comes back, on an app that opens pages, its
        menu button is set to what the member may open: an admin gets the staff web view
        there for good."""
        page = app_page(self._web_address, turn.capabilities)
        if page is None or turn.outcome.page_menu is not None:
            return
        asked = isinstance(payload, Command) and payload.name in _MENU_MOMENTS
        if asked or any(reply.keyboard is MAIN_MENU for reply in turn.outcome.replies):
            turn.outcome.page_menu = await page_menu(turn.uow, turn.member.id, page)

    async def _member(
        self, uow: UnitOfWork, inbound: Inbound, now: dt.datetime
    ) -> tuple[Member, Member]:
        """The sender's member row (made on first contact), and a copy as it was stored."""
        sender = inbound.sender
        member = await uow.members.by_external_id(sender.channel, sender.external_id)
        if member is None:
            # No name is stored before the member agrees to the privacy notice.
            member = Member(
                id=0,
                channel=sender.channel,
                external_id=sender.external_id,
                display_name=sender.external_id,
                language=self._default_language,
            )
            member = await uow.members.add(member, now)
            return member, replace(member)
        stored = replace(member)
        if member.consent_version is not None:
            # People change their Telegram name; decisions and history show the current one.
            member.display_name = sender.display_name[:200] or sender.external_id
        # A member with linked accounts is written to on the one they used last, and
        # one who writes can be written to, whatever a channel said before.
        member.channel, member.external_id = sender.channel, sender.external_id
        member.reachable = True
        return member, stored

    async def _arrive(self, turn: Turn, came_from: str, payload: Payload) -> None:
        """The first event from another of the member's accounts. Numbers shown on the
        other app mean nothing here; a text or file in the middle of a dialog is taken
        for a greeting, not an answer, and the member is shown where they were."""
        turn.conversation.choices = ()
        busy = turn.conversation.state in self._states
        if busy and isinstance(payload, (TextMessage, FileShared, Unsupported)):
            label = self._channels.get(came_from, UNREACHABLE).label or came_from
            await self._prompt(
                turn, _("You were doing this on {app}; go on here.", app=Verbatim(label))
            )
        else:
            await self._dispatch(turn, payload)

    async def _dispatch(self, turn: Turn, payload: Payload) -> None:
        try:
            if isinstance(payload, Command):
                await self._command(turn, payload)
            elif isinstance(payload, ButtonPress):
                await self._button(turn, payload.code)
            elif isinstance(payload, TextMessage) and await self._taken_when_idle(turn, payload):
                # Before the join check: admins need not join a unit.
                return
            elif not turn.member.has_joined and turn.conversation.state not in self._states:
                # Every dialog but the idle one is reached by joining or through a role.
                await self._ask_unit(turn, HELLO)
            elif isinstance(payload, TextMessage):
                await self._text(turn, payload.text)
            elif isinstance(payload, ContactShared):
                await self._contact(turn, payload)
            elif isinstance(payload, FileShared):
                await self._file(turn, payload)
            elif isinstance(payload, Unsupported):
                label = UNSUPPORTED_LABELS.get(payload.kind, UNSUPPORTED_LABELS["other"])
                await self._prompt(turn, _("Sorry, I cannot use {what} here.", what=label))
        except InputError as error:
            await self._prompt(turn, error.text)

    # -- prompts -------------------------------------------------------------

    async def _prompt(self, turn: Turn, *before: Text) -> None:
        """Say ``before`` and ask again whatever the member is expected to answer."""
        route = self._states.get(turn.conversation.state)
        if route is not None:
            await route.prompt(turn, *before)
        else:
            await self._idle_prompt(turn, *before)

    async def _idle_prompt(self, turn: Turn, *before: Text) -> None:
        if not turn.member.has_joined:
            await self._ask_unit(turn, *before)
            return
        turn.pause()
        turn.menu(*before, _("Choose “📝 Submit an initiative” to send a new idea."))

    # -- commands ------------------------------------------------------------

    async def _may_enter(self, turn: Turn, open_to_all: bool) -> bool:
        """Whether the member may go on: a route open to all, a member of a union, or a
        helper; anyone else is first asked to find their union."""
        if open_to_all or turn.member.has_joined or await helper_units(turn):
            return True
        await self._ask_unit(turn, _("First, let us find your grassroots union."))
        return False

    async def _command(self, turn: Turn, command: Command) -> None:
        route = self._commands.get(command.name)
        if not await self._may_enter(turn, route is not None and route.open):
            return
        if route is None:
            await self._prompt(turn, UNKNOWN_COMMAND)
            return
        if route.leaves:
            turn.pause()
        await route.run(turn, command.argument)

    async def _cancel(self, turn: Turn) -> None:
        """/cancel, or typed "hủy": leave the dialog in progress, keeping what it made."""
        state = turn.conversation.state
        route = self._states.get(state)
        if route is not None and route.cancel is not None:
            await route.cancel(turn)
        elif state is DialogState.IDLE:
            await self._prompt(turn, _("There is nothing to cancel."))
        elif turn.member.has_joined:
            turn.pause()
            turn.menu(_("Cancelled."))
        else:
            turn.pause()
            turn.say(_("Cancelled. Type /start when you want to join your union."))

    # -- typed text ----------------------------------------------------------

    async def _text(self, turn: Turn, text: str) -> None:
        route = self._states.get(turn.conversation.state)
        word = typed.intent(text) if route is None or route.cancel_word else None
        if word is Intent.CANCEL or (word is Intent.MENU and route is not None):
            await self._cancel(turn)
        elif route is None:
            await self._prompt(turn)
        else:
            await route.text(turn, text)

    async def _taken_when_idle(self, turn: Turn, message: TextMessage) -> bool:
        """Whether a feature took text typed with no dialog in progress."""
        idle = turn.conversation.state not in self._states
        return idle and self._idle_text is not None and await self._idle_text(turn, message.text)

    def _spell(self, label: Text) -> tuple[str, ...]:
        """A button's label in every language, to recognise it when typed."""
        if self._renderer is None:
            return (label.msgid,)
        return tuple(self._renderer.render(label, language) for language in LANGUAGES)

    async def _file(self, turn: Turn, shared: FileShared) -> None:
        route = self._states.get(turn.conversation.state)
        if route is not None and route.file is not None:
            await route.file(turn, shared)
        elif self._file_route is not None:
            await self._file_route(turn, shared)

    async def _contact(self, turn: Turn, contact: ContactShared) -> None:
        route = self._states.get(turn.conversation.state)
        if route is not None and route.contact is not None:
            await route.contact(turn, contact)
        elif self._contact_route is not None:
            await self._contact_route(turn, contact)

    # -- buttons -------------------------------------------------------------

    async def _button(self, turn: Turn, code: str) -> None:
        try:
            press = codes.parse(code)
            route = self._buttons.get(press.prefix)
            if not await self._may_enter(turn, route is not None and route.open):
                return
            if route is None:
                raise Forged
            await route.run(turn, press)
        except Forged:
            log.warning("refused malformed button %r from member %s", code[:80], turn.member)
            turn.outcome.notice = _("This choice is not valid any more.")
