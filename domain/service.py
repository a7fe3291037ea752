"""The conversation service: every inbound event becomes one short transaction.

A member's dialog state is a row, loaded and saved on every event, so a restart,
a second process or another channel continues the same conversation.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

from domain import dialog, dialog_input, typed
from domain.announce import AnnounceDesk
from domain.chats import ChatDesk, ChatRef
from domain.commend import CardDesk, Schedule
from domain.delivery import queue
from domain.errors import InputError
from domain.invites import InviteDesk, is_invite_payload
from domain.joining import SEARCH_RESULTS, Joining, valid_name
from domain.model import (
    EDITABLE,
    AttachmentKind,
    DialogState,
    Initiative,
    InitiativeStatus,
    Member,
    ReviewCard,
    RoleKind,
    Step,
)
from domain.nudges import NudgeDesk, NudgePolicy
from domain.parsing import (
    NAME_MAX,
    TEXT_LIMIT,
    clean_text,
    normalize_search,
    search_terms,
)
from domain.ports import Renderer, UnitOfWork, UnitOfWorkFactory
from domain.progress import count_change, phase_on
from domain.review import ReviewDesk, reason_text
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute, merge
from domain.stats import StatsDesk, TargetDesk
from domain.text import Day, Text, Verbatim, _, n_
from domain.turn import Forged, Turn
from domain.typed import Intent
from domain.ui import (
    Button,
    ButtonPress,
    Command,
    ContactShared,
    Delivery,
    FileShared,
    Inbound,
    Outcome,
    Reply,
    Sender,
    TextMessage,
    Unsupported,
    decode,
    encode,
    number_at,
)
from domain.unit_import import is_valid_code

log = logging.getLogger(__name__)

# How many members of a helper's units are scanned by name (diacritics folded in Python).
PROXY_SCAN = 5000
# Members entered by a helper who do not use the bot have no chat.
PROXY_CHANNEL = "proxy"
PAGE_SIZE = 5
MAX_OPEN_DRAFTS = 20
DRAFT_CHOICES = 5
LANGUAGES: dict[str, str] = {"vi": "Tiếng Việt", "en": "English"}


RECORDINGS = frozenset({AttachmentKind.VOICE, AttachmentKind.VIDEO_NOTE})

PROXY_PROMPT = _("Type the member's full name, or part of it to search.")

UNSUPPORTED_LABELS: dict[str, Text] = {
    "sticker": _("a sticker"),
    "voice": _("a voice message"),
    "location": _("a location"),
    "video": _("a video"),
    "other": _("this kind of message"),
}


# What a press on a button of the draft's question does: (turn, draft, the button's value).
DraftAction = Callable[[Turn, Initiative, str | None], Awaitable[None]]


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
    ) -> None:
        self._uow = units_of_work
        self._clock = clock
        self._tz = timezone
        self._default_language = default_language
        self._desk = ReviewDesk(timezone)
        self._stats = StatsDesk()
        self._targets = TargetDesk()
        self._announce = AnnounceDesk()
        self._cards = CardDesk(schedule or Schedule(0, dt.time(8), timezone))
        self._chats = ChatDesk()
        # With a renderer, notifications go through the delivery queue in the same
        # transaction as what they tell of; without one, the channel sends them.
        self._renderer = renderer
        self._nudges = NudgeDesk(nudge_policy or NudgePolicy())
        self._invites = InviteDesk(invite_link, invite_lifetime)
        # The features, each wired once; the order does not matter, a clash is an error.
        self._joining = Joining(self._prompt, self._spell)
        routes = merge((
            self._routes(), self._joining.routes(), self._desk.routes(),
            self._invites.routes(), self._stats.routes(), self._targets.routes(),
            self._announce.routes(), self._cards.routes(), self._chats.routes(),
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
        """What this module answers itself: /start, help, language and settings, drafts,
        entering for a member, and one's own initiatives."""
        return Routes(
            commands={
                "start": CommandRoute(lambda t, a: self._start(t, a.strip()), open=True,
                                      leaves=False),
                "unit": CommandRoute(lambda t, _a: self._joining.ask_unit(t), open=True,
                                     leaves=False),
                "help": CommandRoute(self._help, open=True, leaves=False),
                "lang": CommandRoute(self._languages, open=True, leaves=False),
                "settings": CommandRoute(self._settings_command, open=True, leaves=False),
                "cancel": CommandRoute(lambda t, _a: self._cancel(t), open=True, leaves=False),
                "skip": CommandRoute(self._skip, leaves=False),
                "new": CommandRoute(lambda t, _a: self._new(t), leaves=False),
                "my": CommandRoute(lambda t, _a: self._my(t, 0)),
            },
            buttons={
                "l": ButtonRoute(self._language_button),
                "o": ButtonRoute(self._settings_button),
                "h": ButtonRoute(self._proxy_button),
                "d": ButtonRoute(self._draft_button, open=False),
                "n": ButtonRoute(self._draft_menu_button, open=False),
                "m": ButtonRoute(self._my_button, open=False),
            },
            states={
                DialogState.DRAFTING: StateRoute(self._drafting_text, self._draft_prompt,
                                                 cancel_word=False),
                DialogState.PROXY_MEMBER: StateRoute(self._proxy_search, self._proxy_again,
                                                     cancel_word=False),
            },
        )  # fmt: skip

    async def _proxy_again(self, turn: Turn, *before: Text) -> None:
        turn.say(*before, PROXY_PROMPT)

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
            if self._renderer is not None and outcome.deliveries:
                rest = await queue(uow, outcome.deliveries, self._renderer, now, urgent=True)
                outcome.queued = len(outcome.deliveries) - len(rest)
                outcome.deliveries = rest
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

    async def remember_card(self, card: ReviewCard) -> None:
        """Record where a review card was shown, so its decision can be shown there too."""
        async with self._uow() as uow:
            await uow.cards.add(card, self._clock())
            await uow.commit()

    async def review_reminders(self, after: dt.timedelta) -> list[Delivery]:
        """The day's reminders to reviewers, queued with the record that they were sent,
        so a second run the same day (a restart) sends nothing; returns what the queue
        cannot carry, to send directly."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._desk.reminders(
                uow, now, now.astimezone(self._tz).date(), after
            )
            if self._renderer is not None:
                deliveries = await queue(uow, deliveries, self._renderer, now, urgent=False)
            await uow.commit()
        return deliveries

    async def nudges_due(self) -> list[Delivery]:
        """The nudges due now, queued with their record; returns what the queue cannot
        carry, to send directly."""
        now = self._clock()
        async with self._uow() as uow:
            deliveries = await self._nudges.due(uow, now, now.astimezone(self._tz))
            if self._renderer is not None:
                deliveries = await queue(uow, deliveries, self._renderer, now, urgent=False)
            await uow.commit()
        return deliveries

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

    async def _draft_prompt(self, turn: Turn, *before: Text) -> None:
        draft = await self._active_draft(turn)
        if draft is None:
            await self._idle_prompt(turn, *before)
            return
        replacing = bool(turn.conversation.data.get("replace"))
        turn.show(dialog.question(draft, replacing=replacing), *before)

    async def _active_draft(self, turn: Turn) -> Initiative | None:
        draft_id = turn.conversation.draft_id
        draft = await turn.uow.initiatives.get(draft_id) if draft_id else None
        if draft is None or draft.status not in EDITABLE:
            turn.pause()
            return None
        return draft

    # -- commands ------------------------------------------------------------

    async def _command(self, turn: Turn, command: Command) -> None:
        route = self._commands.get(command.name)
        if (
            not (route and route.open)
            and not turn.member.has_joined
            and not await self._helper_units(turn)
        ):
            await self._joining.ask_unit(turn, _("First, let us find your grassroots union."))
            return
        if route is None:
            await self._prompt(
                turn, _("I do not know that command. Type /help to see what I can do.")
            )
            return
        if route.leaves:
            turn.pause()
        await route.run(turn, command.argument)

    async def _help(self, turn: Turn, _argument: str = "") -> None:
        turn.say(*HELP)
        if turn.conversation.state is not DialogState.IDLE:
            await self._prompt(turn)
        elif turn.member.has_joined:
            turn.menu(_("Tap “📝 Submit an initiative” to send a new idea."))

    async def _languages(self, turn: Turn, _argument: str = "") -> None:
        buttons = tuple(
            (Button(Text("{name}", {"name": Verbatim(label)}), encode("l", code)),)
            for code, label in LANGUAGES.items()
        )
        turn.say(_("Choose your language:"), buttons=buttons)

    async def _skip(self, turn: Turn, _argument: str = "") -> None:
        if turn.conversation.state is DialogState.JOIN_PHONE:
            self._joining.finish(turn)
        else:
            await self._prompt(
                turn, _("I do not know that command. Type /help to see what I can do.")
            )

    async def _settings_command(self, turn: Turn, _argument: str = "") -> None:
        self._settings(turn)

    async def _settings_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if len(parts) != 3 or parts[1] not in ("nudges", "named") or parts[2] not in ("on", "off"):
            raise Forged
        setattr(turn.member, parts[1], parts[2] == "on")
        self._settings(turn)

    async def _language_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if len(parts) != 2 or parts[1] not in LANGUAGES:
            raise Forged
        turn.member.language = parts[1]
        turn.outcome.language = parts[1]
        await self._prompt(turn, _("Language changed to English."))

    def _settings(self, turn: Turn) -> None:
        """/settings: reminders and announcements on or off; named in commendations or not."""
        on, named = turn.member.nudges, turn.member.named
        toggle = (Button(_("🔕 Turn reminders off"), encode("o", "nudges", "off")) if on
                  else Button(_("🔔 Turn reminders on"), encode("o", "nudges", "on")))  # fmt: skip
        naming = (Button(_("🙈 Do not name me"), encode("o", "named", "off")) if named
                  else Button(_("🏅 Name me again"), encode("o", "named", "on")))  # fmt: skip
        turn.say(
            _("⚙️ Settings"),
            _("Reminders and announcements: {state}", state=_("on") if on else _("off")),
            _("Named in weekly commendations when among the most active: {state}",
              state=_("yes") if named else _("no")),
            buttons=((toggle,), (naming,)),
        )  # fmt: skip

    async def _cancel(self, turn: Turn) -> None:
        state = turn.conversation.state
        if state is DialogState.DRAFTING:
            draft = await self._active_draft(turn)
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

    async def _drafting_text(self, turn: Turn, text: str) -> None:
        draft = await self._active_draft(turn)
        if draft is None:
            await self._prompt(turn)
        else:
            await self._draft_text(turn, draft, text)

    def _spell(self, label: Text) -> tuple[str, ...]:
        """A button's label in every language, to recognise it when typed."""
        if self._renderer is None:
            return (label.msgid,)
        return tuple(self._renderer.render(label, language) for language in LANGUAGES)

    async def _draft_text(self, turn: Turn, draft: Initiative, text: str) -> None:
        tap = dialog_input.typed_tap(draft, text, self._spell)
        if tap is Intent.CANCEL:
            await self._cancel(turn)
            return
        if tap is not None:
            # Exactly as if the button had been pressed, refusals included.
            await self._button(turn, tap)
            return
        replace_text = bool(turn.conversation.data.pop("replace", False))
        acknowledgement = dialog.answer_text(draft, text, turn.today, replace_text)
        if acknowledgement is None:
            await self._save_draft(turn, draft)
            turn.show(_continuation(draft))
            return
        await self._advance(turn, draft, draft.step, acknowledgement)

    async def _file(self, turn: Turn, shared: FileShared) -> None:
        if turn.conversation.state is DialogState.ANNOUNCING:
            await self._announce.photo(turn, shared.attachment, shared.caption)
            return
        draft = await self._active_draft(turn) if turn.conversation.state is (
            DialogState.DRAFTING) else None  # fmt: skip
        recording = shared.attachment.kind in RECORDINGS
        if draft is None:
            raise InputError(
                _("Sorry, I cannot use {what} here.", what=UNSUPPORTED_LABELS["voice"])
                if recording else _("A file is not expected here.")
            )  # fmt: skip
        if not recording:
            acknowledgement = dialog.add_attachment(draft, shared.attachment)
        else:
            acknowledgement = dialog.add_recording(draft, shared.attachment)
            if draft.step not in dialog.MULTI_MESSAGE_STEPS:
                await self._advance(turn, draft, draft.step, (acknowledgement,))
                return
        await self._save_draft(turn, draft)
        turn.show(_continuation(draft), acknowledgement)

    # -- drafts --------------------------------------------------------------

    async def _save_draft(self, turn: Turn, draft: Initiative) -> None:
        draft.updated_at = turn.now
        await turn.uow.initiatives.save(draft)

    async def _advance(
        self, turn: Turn, draft: Initiative, answered: Step, before: Sequence[Text] = ()
    ) -> None:
        draft.step = dialog.next_step(draft, answered)
        if draft.step is Step.SUMMARY:
            draft.editing = False
        turn.conversation.data = {}
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft), *before)

    async def _helper_units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.HELPER)

    async def _new(self, turn: Turn) -> None:
        drafts, count = await turn.uow.initiatives.drafts(turn.member.id, DRAFT_CHOICES)
        turn.pause()
        if not count:
            await self._begin(turn)
            return
        buttons = [
            (Button(_("▶️ {number}: {title}", number=d.number,
                      title=Verbatim(dialog.shorten(d.title or "…", 40))),
                    encode("n", "resume", d.id)),)
            for d in drafts
        ]  # fmt: skip
        buttons.append((Button(_("🆕 Start a new one"), encode("n", "fresh")),))
        turn.say(
            n_("You have {count} unfinished draft. Continue it or start a new one?",
               "You have {count} unfinished drafts. Continue one or start a new one?", count),
            buttons=tuple(buttons),
        )  # fmt: skip

    async def _begin(self, turn: Turn) -> None:
        """A new initiative: a helper first says whose it is."""
        if not await self._helper_units(turn):
            await self._start_draft(turn)
            return
        buttons = [(Button(_("🤝 For a union member"), encode("h", "other")),)]
        if turn.member.has_joined:
            buttons.insert(0, (Button(_("🙋 My own"), encode("h", "self")),))
        turn.say(_("Whose initiative is it?"), buttons=tuple(buttons))

    async def _proxy_button(self, turn: Turn, parts: Sequence[str]) -> None:
        """A helper chooses the member for whom they enter an initiative."""
        helper_units = await self._helper_units(turn)
        if not helper_units:
            turn.outcome.notice = _("This is for the initiative support team.")
            return
        action = parts[1]
        if action == "self" and len(parts) == 2 and turn.member.has_joined:
            await self._start_draft(turn)
        elif action == "other" and len(parts) == 2:
            turn.conversation.state = DialogState.PROXY_MEMBER
            turn.conversation.data = {}
            turn.say(PROXY_PROMPT)
        elif action == "pick" and len(parts) == 3:
            author_id = number_at(parts, 2)
            author = (await turn.uow.members.by_ids([author_id])).get(author_id)
            if author is None or not await self._in_helper_scope(turn, author, helper_units):
                log.warning("helper %s may not enter for member %s", turn.member, parts[2])
                turn.outcome.notice = _("This member is not in your units.")
                return
            await self._start_draft(turn, author)
        elif action == "new" and len(parts) == 2 and turn.conversation.data.get("name"):
            await self._new_proxy_member(turn, helper_units, str(turn.conversation.data["name"]))
        else:
            raise Forged

    async def _in_helper_scope(self, turn: Turn, member: Member, helper_units: list[int]) -> bool:
        unit = await turn.uow.units.get(member.unit_id) if member.unit_id else None
        return unit is not None and await covers(turn.uow, helper_units, unit)

    async def _proxy_search(self, turn: Turn, text: str) -> None:
        name = " ".join(clean_text(text, limit=NAME_MAX).split())
        terms = search_terms(name)
        if not terms:
            raise InputError(_("Please type the member's name."))
        helper_units = await self._helper_units(turn)
        units = [u for unit_id in helper_units if (u := await turn.uow.units.get(unit_id))]
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

    async def _new_proxy_member(self, turn: Turn, helper_units: list[int], name: str) -> None:
        """A member who does not use the bot: known by name only, in the helper's union."""
        units = [u for unit_id in helper_units if (u := await turn.uow.units.get(unit_id))]
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

    async def _start_draft(self, turn: Turn, author: Member | None = None) -> None:
        _drafts, count = await turn.uow.initiatives.drafts(turn.member.id, 0)
        if count >= MAX_OPEN_DRAFTS:
            raise InputError(_("You already have {count} drafts. Please finish or discard one "
                               "first (📋 My initiatives).", count=count))  # fmt: skip
        member = turn.member
        owner = author or member
        assert owner.unit_id is not None
        draft = await turn.uow.initiatives.add(
            Initiative(
                id=0,
                author_id=owner.id,
                entered_by_id=member.id,
                unit_id=owner.unit_id,
                status=InitiativeStatus.DRAFT,
                created_at=turn.now,
                updated_at=turn.now,
            )
        )
        role = "author" if author is None else RoleKind.HELPER.value
        await turn.uow.initiatives.record(draft, member.id, "created", turn.now, role=role)
        self._activate(turn, draft)
        if author is not None:
            turn.say(_("You are entering an initiative for {name}; they will be its author.",
                       name=Verbatim(author.full_name or "")))  # fmt: skip
        turn.show(dialog.question(draft), _("New initiative {number}. Your answers are saved "
                                            "as you go.", number=draft.number))  # fmt: skip

    def _activate(self, turn: Turn, draft: Initiative) -> None:
        turn.conversation.state = DialogState.DRAFTING
        turn.conversation.draft_id = draft.id
        turn.conversation.data = {}

    async def _owned(self, turn: Turn, initiative_id: int) -> Initiative | None:
        """The member's initiative with this id; anything else is refused and logged."""
        initiative = await turn.uow.initiatives.get(initiative_id)
        if initiative is None or turn.member.id not in (
            initiative.author_id,
            initiative.entered_by_id,
        ):
            log.warning("refused button for initiative %s from member %s", initiative_id,
                        turn.member)  # fmt: skip
            turn.outcome.notice = _("This button is not for you.")
            return None
        return initiative

    async def _draft_menu_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if parts[1] == "fresh":
            await self._begin(turn)
            return
        if parts[1] != "resume" or len(parts) != 3:
            raise Forged
        draft = await self._owned(turn, number_at(parts, 2))
        if draft is None:
            return
        if draft.status not in EDITABLE:
            turn.outcome.notice = _("This initiative can no longer be changed.")
            await self._prompt(turn)
            return
        self._activate(turn, draft)
        if draft.status is InitiativeStatus.RETURNED:
            draft.step, draft.editing = Step.SUMMARY, False
            await self._save_draft(turn, draft)
            lines = [_("Initiative {number} was returned for changes.", number=draft.number)]
            history = await turn.uow.initiatives.history(draft.id)
            returns = [e for e in history if e.action in ("return", "reopen")]
            if returns and (reason := reason_text(returns[-1].note)):
                lines.append(_("Reason: {reason}", reason=reason))
            lines.append(_("Edit what is needed with ✏️, then tap “📤 Submit for review”."))
            turn.show(dialog.question(draft), *lines)
            return
        turn.show(dialog.question(draft), _("Continuing draft {number}.", number=draft.number))

    async def _draft_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if len(parts) not in (4, 5):
            raise Forged
        action, step = parts[1], parts[3]
        value = parts[4] if len(parts) == 5 else None
        draft = await self._owned(turn, number_at(parts, 2))
        if draft is None:
            return
        if draft.status not in EDITABLE:
            turn.outcome.notice = _("This initiative has already been submitted or discarded.")
            await self._prompt(turn)
            return
        if draft.step.value != step:
            turn.outcome.notice = _("That button is from an earlier message.")
            if turn.conversation.draft_id == draft.id:
                self._activate(turn, draft)
            await self._prompt(turn)
            return
        self._activate(turn, draft)
        await self._draft_action(turn, draft, action, value)

    async def _draft_action(
        self, turn: Turn, draft: Initiative, action: str, value: str | None
    ) -> None:
        """One press on a button of the draft's question; each action belongs to a step."""
        actions: dict[str, tuple[Step | None, DraftAction]] = {
            "pick": (None, self._pick),
            "keep": (None, self._keep),
            "done": (None, self._done),
            "clear": (None, self._clear),
            "back": (None, self._back),
            "full": (Step.SUMMARY, self._full_text),
            "edit": (Step.SUMMARY, self._edit),
            "submit": (Step.SUMMARY, self._submit),
            "save": (Step.SUMMARY, self._save_and_leave),
            "discard": (Step.SUMMARY, self._ask_discard),
            "discard_yes": (Step.DISCARD, self._discard),
            "discard_no": (Step.DISCARD, self._keep_draft),
        }
        step, act = actions.get(action, (None, None))
        if act is None or (step is not None and draft.step is not step):
            raise Forged
        await act(turn, draft, value)

    async def _pick(self, turn: Turn, draft: Initiative, value: str | None) -> None:
        if value is None:
            raise Forged
        acknowledgement = dialog.answer_pick(draft, value, turn.today)
        await self._advance(turn, draft, draft.step, acknowledgement)

    async def _keep(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        dialog.answer_keep(draft)
        await self._advance(turn, draft, draft.step)

    async def _done(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        dialog.answer_done(draft)
        await self._advance(turn, draft, draft.step)

    async def _clear(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        cleared = dialog.clear_step(draft)
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft), cleared)

    async def _back(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        target = dialog.previous_step(draft)
        if target is None:
            await self._save_and_leave(turn, draft, None)
            return
        draft.step = target
        if target is Step.SUMMARY:
            draft.editing = False
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _full_text(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        turn.show(dialog.full_text(draft))
        turn.show(dialog.question(draft))

    async def _edit(self, turn: Turn, draft: Initiative, value: str | None) -> None:
        if value not in dialog.EDIT_LABELS:
            raise Forged
        draft.step = Step(value)
        draft.editing = True
        replacing = draft.step in dialog.MULTI_MESSAGE_STEPS and dialog.answered(draft, draft.step)
        if replacing:
            # The first message of an edit replaces the old text; later ones add to it.
            turn.conversation.data = {"replace": True}
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft, replacing=replacing))

    async def _save_and_leave(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        await self._save_draft(turn, draft)
        turn.pause()
        turn.menu(_("Draft {number} is saved. Type /new whenever you want to continue.",
                    number=draft.number))  # fmt: skip

    async def _ask_discard(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        draft.step = Step.DISCARD
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _discard(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        await count_change(turn.uow, draft, draft.status, InitiativeStatus.DISCARDED)
        draft.status = InitiativeStatus.DISCARDED
        await self._save_draft(turn, draft)
        role = "author" if turn.member.id == draft.author_id else RoleKind.HELPER.value
        await turn.uow.initiatives.record(draft, turn.member.id, "discarded", turn.now, role=role)
        turn.pause()
        turn.conversation.draft_id = None
        turn.menu(_("Draft {number} was discarded.", number=draft.number))

    async def _keep_draft(self, turn: Turn, draft: Initiative, _value: str | None) -> None:
        draft.step = Step.SUMMARY
        await self._save_draft(turn, draft)
        turn.show(dialog.question(draft))

    async def _submit(self, turn: Turn, draft: Initiative, _value: str | None = None) -> None:
        missing = dialog.missing_answer(draft)
        if missing is not None:
            draft.step = missing
            draft.editing = True
            await self._save_draft(turn, draft)
            turn.show(dialog.question(draft), _("One answer is still missing:"))
            return
        member = turn.member
        resubmitted = draft.status is InitiativeStatus.RETURNED
        on_behalf = draft.author_id != draft.entered_by_id
        if not resubmitted and not on_behalf and member.unit_id is not None:
            # A returned initiative goes back to the same review; a new one to the
            # author's union as it is now.
            draft.unit_id = member.unit_id
        before = draft.status
        if draft.phase_id is None:
            phase = await phase_on(turn.uow, turn.today)
            draft.phase_id = phase.id if phase else None
        draft.status = InitiativeStatus.PENDING
        draft.version += 1
        draft.submitted_at = turn.now
        await count_change(turn.uow, draft, before, draft.status)
        await self._save_draft(turn, draft)
        action = "resubmitted" if resubmitted else "submitted"
        role = RoleKind.HELPER.value if on_behalf and member.id != draft.author_id else "author"
        await turn.uow.initiatives.record(draft, member.id, action, turn.now, role=role)
        await self._desk.route(turn, draft)
        if on_behalf and member.id != draft.author_id:
            author = (await turn.uow.members.by_ids([draft.author_id])).get(draft.author_id)
            if author is not None:
                turn.outcome.deliveries.append(Delivery(author, Reply((
                    _("{helper} of the initiative support team has submitted initiative "
                      "{number} “{title}” for you. You will be told here when it is reviewed.",
                      helper=Verbatim(member.full_name or member.display_name),
                      number=draft.number, title=Verbatim(draft.title or "")),))))  # fmt: skip
        turn.pause()
        turn.conversation.draft_id = None
        unit = await turn.uow.units.get(draft.unit_id)
        turn.menu(
            _("📤 Initiative {number} has been sent for review to {unit}.",
              number=draft.number, unit=Verbatim(unit.name if unit else "")),
            _("Thank you! You will be told here when it has been reviewed."),
        )  # fmt: skip

    # -- my initiatives ------------------------------------------------------

    async def _my(self, turn: Turn, page: int) -> None:
        items, total = await turn.uow.initiatives.by_author(
            turn.member.id, page * PAGE_SIZE, PAGE_SIZE
        )
        if not total:
            turn.menu(_("You have no initiatives yet. Tap “📝 Submit an initiative” to send "
                        "your first idea."))  # fmt: skip
            return
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        if page >= pages:
            # A button from when there were more: show the last page there is now.
            page = pages - 1
            items, total = await turn.uow.initiatives.by_author(
                turn.member.id, page * PAGE_SIZE, PAGE_SIZE
            )
        lines = [_("📋 Your initiatives ({total}), page {page}/{pages}:",
                   total=total, page=page + 1, pages=pages)]  # fmt: skip
        for item in items:
            when = (item.submitted_at or item.created_at).astimezone(self._tz).date()
            title = Verbatim(dialog.shorten(item.title or "…", 50))
            lines.append(_("{number} · {title} · {date} · {status}",
                           number=item.number, title=title,
                           date=Day(when), status=dialog.STATUS_LABELS[item.status]))  # fmt: skip
        rows: list[tuple[Button, ...]] = [
            (Button(_("📄 Open {number}", number=item.number), encode("m", "open", item.id, page)),)
            for item in items
        ]
        navigation = []
        if page > 0:
            navigation.append(Button(_("◀️ Newer"), encode("m", "page", page - 1)))
        if page + 1 < pages:
            navigation.append(Button(_("Older ▶️"), encode("m", "page", page + 1)))
        if navigation:
            rows.append(tuple(navigation))
        turn.say(*lines, buttons=tuple(rows))

    async def _my_button(self, turn: Turn, parts: Sequence[str]) -> None:
        if parts[1] == "page" and len(parts) == 3:
            await self._my(turn, number_at(parts, 2))
            return
        if parts[1] != "open" or len(parts) != 4:
            raise Forged
        page = number_at(parts, 3)
        initiative = await self._owned(turn, number_at(parts, 2))
        if initiative is None:
            return
        lines = dialog.card_lines(initiative, full=True)
        lines.append(_("Created: {date}",
                       date=Day(initiative.created_at.astimezone(self._tz).date())))  # fmt: skip
        if initiative.submitted_at:
            lines.append(_("Submitted: {date} (version {version})",
                           date=Day(initiative.submitted_at.astimezone(self._tz).date()),
                           version=initiative.version))  # fmt: skip
        rows: list[tuple[Button, ...]] = []
        if initiative.status is InitiativeStatus.DRAFT:
            rows.append((Button(_("▶️ Continue this draft"), encode("n", "resume", initiative.id)),))
        elif initiative.status is InitiativeStatus.RETURNED:
            rows.append((Button(_("✏️ Edit and resubmit"), encode("n", "resume", initiative.id)),))
        rows.append((Button(_("⬅️ Back to the list"), encode("m", "page", page)),))
        turn.say(*lines, buttons=tuple(rows))

    # -- buttons -------------------------------------------------------------

    async def _button(self, turn: Turn, code: str) -> None:
        parts = decode(code)
        try:
            if parts is None or len(parts) < 2:
                raise Forged
            route = self._buttons.get(parts[0])
            if (
                not (route and route.open)
                and not turn.member.has_joined
                and not await self._helper_units(turn)
            ):
                await self._joining.ask_unit(turn, _("First, let us find your grassroots union."))
                return
            if route is None:
                raise Forged
            await route.run(turn, parts)
        except Forged:
            log.warning("refused malformed button %r from member %s", code[:80], turn.member)
            turn.outcome.notice = _("This button is not valid any more.")


HELP: tuple[Text, ...] = (
    _("❓ How to submit an initiative"),
    _("1. Tap “📝 Submit an initiative” (or /new) and answer the questions; every answer is "
      "saved at once, so you can stop and continue later."),
    _("2. Check the summary, correct anything with ✏️, then tap “📤 Submit for review”."),
    _("3. Your union reviews it; follow it in “📋 My initiatives” (/my)."),
    _("Commands: /new new initiative · /my my initiatives · /cancel stop the current step · "
      "/unit change union · /lang language"),
)  # fmt: skip


def _continuation(draft: Initiative) -> Reply:
    """A short reply for a step that takes several messages."""
    if draft.step not in dialog.MULTI_MESSAGE_STEPS:
        return dialog.question(draft)
    written = (draft.problem if draft.step is Step.PROBLEM else draft.solution) or ""
    saved = (_("Saved ({length} of {limit} characters). Send more, or tap “{done}”.",
               length=len(written), limit=TEXT_LIMIT, done=dialog.DONE) if written
             else _("Saved. Send more, or tap “{done}”.", done=dialog.DONE))  # fmt: skip
    return Reply(
        (saved,),
        ((dialog.button(draft, "done", dialog.DONE),
          dialog.button(draft, "clear", dialog.START_OVER)),
         (dialog.button(draft, "back", dialog.BACK),)),
    )  # fmt: skip
