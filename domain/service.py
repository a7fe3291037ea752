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
from domain.announce import AnnounceDesk
from domain.chats import ChatDesk, ChatRef
from domain.commend import CardDesk, Schedule
from domain.delivery import queue
from domain.drafting import Drafting
from domain.errors import InputError
from domain.invites import InviteDesk, is_invite_payload
from domain.joining import Joining
from domain.mine import Mine
from domain.model import (
    DialogState,
    InitiativeStatus,
    Member,
)
from domain.nudges import NudgeDesk, NudgePolicy
from domain.ports import Renderer, UnitOfWork, UnitOfWorkFactory
from domain.preferences import LANGUAGES, Preferences
from domain.proxy import Proxy, helper_units
from domain.review import ReviewDesk
from domain.routes import CommandRoute, Routes, merge
from domain.stats import StatsDesk, TargetDesk
from domain.text import Text, Verbatim, _, n_
from domain.turn import Forged, Turn
from domain.typed import Intent
from domain.ui import (
    UNSUPPORTED_LABELS,
    ButtonPress,
    Capabilities,
    Command,
    ContactShared,
    FileShared,
    Inbound,
    Outcome,
    Sender,
    TextMessage,
    Unsupported,
)
from domain.unit_import import is_valid_code

log = logging.getLogger(__name__)


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
        nudge_policy: NudgePolicy | None = None,
        schedule: Schedule | None = None,
        renderer: Renderer | None = None,
        channels: Mapping[str, Capabilities] | None = None,
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        self._tz = timezone
        self._default_language = default_language
        self._desk = ReviewDesk(timezone)
        self._stats = StatsDesk()
        self._targets = TargetDesk()
        # What each channel can do; the core asks this, never a channel's name.
        self._channels = dict(channels or {})
        self._announce = AnnounceDesk(
            min((c.caption_limit for c in self._channels.values() if c.queued), default=0)
        )
        self._cards = CardDesk(schedule or Schedule(0, dt.time(8), timezone))
        self._chats = ChatDesk()
        # Spells button labels in every language, to recognise one typed instead of tapped.
        self._renderer = renderer
        self._nudges = NudgeDesk(nudge_policy or NudgePolicy())
        self._invites = InviteDesk(invite_link, invite_lifetime)
        # The features, each wired once; the order does not matter, a clash is an error.
        self._joining = Joining(self._prompt, self._spell)
        self._drafting = Drafting(
            timezone=timezone, prompt=self._prompt, spell=self._spell, press=self._button,
            cancel=self._cancel, begin=lambda turn: self._proxy.begin(turn),
        )  # fmt: skip
        self._proxy = Proxy(self._drafting.start_draft)
        self._mine = Mine(timezone)
        self._preferences = Preferences(self._prompt)
        routes = merge((
            self._routes(), self._preferences.routes(), self._joining.routes(),
            self._drafting.routes(), self._proxy.routes(), self._mine.routes(),
            self._desk.routes(), self._invites.routes(), self._stats.routes(),
            self._targets.routes(), self._announce.routes(), self._cards.routes(),
            self._chats.routes(),
        ))  # fmt: skip
        self._commands = routes.commands
        self._buttons = routes.buttons
        self._states = routes.states

    @property
    def commands(self) -> frozenset[str]:
        """Every command some feature answers."""
        return frozenset(self._commands)

    @property
    def button_prefixes(self) -> frozenset[str]:
        """Every button prefix some feature answers."""
        return frozenset(self._buttons)

    def _routes(self) -> Routes:
        """What this module answers itself: /start and /unit, /cancel and the phone
        question's /skip."""
        return Routes(
            commands={
                "start": CommandRoute(lambda t, a: self._start(t, a.strip()), open=True,
                                      leaves=False),
                "unit": CommandRoute(lambda t, _a: self._joining.ask_unit(t), open=True,
                                     leaves=False),
                "cancel": CommandRoute(lambda t, _a: self._cancel(t), open=True, leaves=False),
                "skip": CommandRoute(self._skip, leaves=False),
            },
        )  # fmt: skip

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
            turn = Turn(
                uow, member, conversation, now, now.astimezone(self._tz).date(),
                Outcome(language=member.language),
            )  # fmt: skip
            await self._dispatch(turn, inbound)
            if member != before:
                await uow.members.save(member, now)
            if conversation != conversation_before:
                await uow.conversations.save(conversation, now)
            outcome = turn.outcome
            # Notifications go through the delivery queue in the same transaction as what
            # they tell of; the member who acted is answered directly.
            outcome.queued = await queue(uow, outcome.deliveries, now, urgent=True,
                                         channels=self._channels,
                                         card_updates=outcome.card_updates)  # fmt: skip
            await uow.commit()
        turn.outcome.language = member.language
        return turn.outcome

    async def chat_command(
        self, chat: ChatRef, sender: Sender | None, command: Command, event_id: str
    ) -> Text | None:
        """/linkchat or /unlinkchat sent in a group or channel; what to answer there."""
        if command.name not in ("linkchat", "unlinkchat"):
            return None
        now = self._clock()
        async with self._uow() as uow:
            if not await uow.inbox.claim(event_id, now):
                return None
            member = (await uow.members.by_external_id(sender.channel, sender.external_id)
                      if sender is not None else None)  # fmt: skip
            if command.name == "linkchat":
                answer = await self._chats.in_chat(uow, now, chat, member, command.argument)
            else:
                answer = await self._chats.unlink_in_chat(uow, chat, member)
            await uow.commit()
        return answer

    async def chat_removed(self, chat_id: str) -> None:
        """The bot left or was removed from a group or channel: nothing is posted there."""
        async with self._uow() as uow:
            await uow.chats.unlink(chat_id)
            await uow.commit()

    async def review_reminders(self, after: dt.timedelta) -> int:
        """The day's reminders to reviewers, queued with the record that they were sent,
        so a second run the same day (a restart) sends nothing; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._desk.reminders(
                uow, now, now.astimezone(self._tz).date(), after
            )
            queued = await queue(uow, deliveries, now, urgent=False, channels=self._channels)
            await uow.commit()
        return queued

    async def nudges_due(self) -> int:
        """The nudges due now, queued with their record; returns how many."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._nudges.due(uow, now, now.astimezone(self._tz))
            queued = await queue(uow, deliveries, now, urgent=False, channels=self._channels)
            await uow.commit()
        return queued

    async def pending_reviews(self) -> int:
        """Initiatives waiting for a decision, everywhere."""
        async with self._uow() as uow:
            return await uow.initiatives.count(InitiativeStatus.PENDING)

    async def forget_handled_events(self, older_than: dt.timedelta) -> int:
        """Forget redelivery guards older than Telegram's redelivery window."""
        async with self._uow() as uow:
            forgotten = await uow.inbox.forget_before(self._clock() - older_than)
            await uow.commit()
        return forgotten

    async def _member(
        self, uow: UnitOfWork, inbound: Inbound, now: dt.datetime
    ) -> tuple[Member, Member]:
        """The sender's member row (made on first contact), and a copy as it was stored."""
        sender = inbound.sender
        member = await uow.members.by_external_id(sender.channel, sender.external_id)
        display_name = sender.display_name[:200] or sender.external_id
        if member is None:
            member = Member(
                id=0,
                channel=sender.channel,
                external_id=sender.external_id,
                display_name=display_name,
                language=self._default_language,
            )
            member = await uow.members.add(member, now)
            return member, replace(member)
        stored = replace(member)
        # People change their Telegram name; decisions and history show the current one.
        member.display_name = display_name
        return member, stored

    async def _dispatch(self, turn: Turn, inbound: Inbound) -> None:
        payload = inbound.payload
        try:
            if isinstance(payload, Command):
                await self._command(turn, payload)
            elif isinstance(payload, ButtonPress):
                await self._button(turn, payload.code)
            elif not turn.member.has_joined and turn.conversation.state not in self._states:
                # Every dialog but the idle one is reached by joining or through a role.
                await self._joining.ask_unit(turn, _("First, let us find your grassroots union."))
            elif isinstance(payload, TextMessage):
                await self._text(turn, payload.text)
            elif isinstance(payload, ContactShared):
                await self._joining.contact(turn, payload)
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
            await self._joining.ask_unit(turn, *before)
            return
        turn.pause()
        turn.menu(*before, _("Tap “📝 Submit an initiative” to send a new idea."))

    # -- commands ------------------------------------------------------------

    async def _may_enter(self, turn: Turn, open_to_all: bool) -> bool:
        """Whether the member may go on: a route open to all, a member of a union, or a
        helper; anyone else is first asked to find their union."""
        if open_to_all or turn.member.has_joined or await helper_units(turn):
            return True
        await self._joining.ask_unit(turn, _("First, let us find your grassroots union."))
        return False

    async def _command(self, turn: Turn, command: Command) -> None:
        route = self._commands.get(command.name)
        if not await self._may_enter(turn, route is not None and route.open):
            return
        if route is None:
            await self._prompt(
                turn, _("I do not know that command. Type /help to see what I can do.")
            )
            return
        if route.leaves:
            turn.pause()
        await route.run(turn, command.argument)

    async def _skip(self, turn: Turn, _argument: str = "") -> None:
        if turn.conversation.state is DialogState.JOIN_PHONE:
            self._joining.finish(turn)
        else:
            await self._prompt(
                turn, _("I do not know that command. Type /help to see what I can do.")
            )

    async def _cancel(self, turn: Turn) -> None:
        state = turn.conversation.state
        if state is DialogState.DRAFTING:
            draft = await self._drafting.active_draft(turn)
            turn.pause()
            if draft is not None:
                turn.menu(_("Stopped. Draft {number} is saved; type /new to continue it.",
                            number=draft.number))  # fmt: skip
                return
        elif state is not DialogState.IDLE:
            turn.pause()
            if not turn.member.has_joined:
                turn.say(_("Cancelled. Type /start when you want to join your union."))
                return
            turn.menu(_("Cancelled."))
            return
        await self._prompt(turn, _("There is nothing to cancel."))

    # -- joining a unit ------------------------------------------------------

    async def _start(self, turn: Turn, code: str) -> None:
        if is_invite_payload(code):
            turn.pause()
            await self._invites.accept(turn, code)
            return
        if code:
            unit = await turn.uow.units.by_code(code) if is_valid_code(code) else None
            if unit is None or not unit.is_grassroots:
                await self._joining.ask_unit(
                    turn,
                    _("I could not find a grassroots union with the code “{code}”.",
                      code=Verbatim(code[:64])),
                )  # fmt: skip
                return
            if turn.member.has_joined and turn.member.unit_id == unit.id:
                turn.pause()
                turn.menu(_("You are already a member of {unit}.",
                            unit=await self._joining.path(turn, unit)))  # fmt: skip
                return
            await self._joining.offer_unit(turn, unit)
            return
        if not turn.member.has_joined:
            await self._joining.ask_unit(
                turn,
                _("Hello! I help union members send their initiatives to their union."),
            )
            return
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

    # -- typed text ----------------------------------------------------------

    async def _text(self, turn: Turn, text: str) -> None:
        route = self._states.get(turn.conversation.state)
        if (route is None or route.cancel_word) and typed.intent(text) is Intent.CANCEL:
            await self._cancel(turn)
        elif route is None:
            await self._prompt(turn)
        else:
            await route.text(turn, text)

    def _spell(self, label: Text) -> tuple[str, ...]:
        """A button's label in every language, to recognise it when typed."""
        if self._renderer is None:
            return (label.msgid,)
        return tuple(self._renderer.render(label, language) for language in LANGUAGES)

    async def _file(self, turn: Turn, shared: FileShared) -> None:
        if turn.conversation.state is DialogState.ANNOUNCING:
            await self._announce.photo(turn, shared.attachment, shared.caption)
        else:
            await self._drafting.file(turn, shared)

    # -- my initiatives ------------------------------------------------------

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
            turn.outcome.notice = _("This button is not valid any more.")
