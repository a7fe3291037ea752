"""/linkchat: a unit's Telegram group or channel, where its commendations are posted too.

In a group, an admin of the unit sends /linkchat there. A channel has no visible
sender, so an admin gets a one-time code with /linkchat in their private chat and
posts "/linkchat CODE" in the channel; the code works once, for a day. /unlinkchat in
the group, the private list, or removing the bot from the chat ends the link.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from domain.codes import ButtonCode, button_code
from domain.errors import NotFound
from domain.model import LinkedChat, Member, RoleKind, Unit
from domain.ports import ChatLinks, RoleRepository, UnitOfWork, UnitOfWorkFactory, UnitRepository
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Moment, Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Button, Command, Sender
from domain.unit_import import is_valid_code

CODE_LIFETIME = dt.timedelta(hours=24)
# Letters and digits that cannot be mistaken for one another.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE = re.compile(r"[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}")
SHOWN_LINKS = 10


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A group or channel, as its channel knows it."""

    chat_id: str
    title: str
    is_channel: bool


@button_code("g", "off")
@dataclass(frozen=True, slots=True)
class Unlink(ButtonCode):
    """g:off:7 — unlink the chat of this link."""

    link: int


class ChatStore(Protocol):
    """What unlinking a chat reads and writes: the admin's roles and the chats' links."""

    units: UnitRepository
    roles: RoleRepository
    chats: ChatLinks


@dataclass(frozen=True, slots=True)
class Unlinked:
    """A chat that will get no more commendations."""

    chat: LinkedChat

    @property
    def name(self) -> str:
        """The chat's title, or its id when it has none."""
        return self.chat.title or self.chat.chat_id or ""


async def unlink_chat(store: ChatStore, actor: Member, link_id: int) -> Unlinked:
    """End a link of a chat to one of the units the actor is an admin of; a link of
    another unit is as good as absent to them."""
    held = await units_held(store, actor.id, RoleKind.ADMIN)
    linked = await store.chats.of_units(held) if held else {}
    chat = next((c for chats in linked.values() for c in chats if c.id == link_id), None)
    if chat is None or chat.chat_id is None:
        raise NotFound(_("This chat is not linked any more."))
    await store.chats.unlink(chat.chat_id)
    return Unlinked(chat)


def new_code() -> str:
    """A one-time code such as K7QM-3XPA."""
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{letters[:4]}-{letters[4:]}"


def code_hash(code: str) -> str:
    """What is stored of a code: its digest, read without case or dash."""
    cleaned = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


class ChatDesk:
    """Links units to the groups and channels where their commendations are posted."""

    async def _admin_units(self, uow: UnitOfWork, member: Member) -> list[int]:
        return await units_held(uow, member.id, RoleKind.ADMIN)

    async def _unit(self, uow: UnitOfWork, held: list[int], code: str) -> Unit | None:
        """The unit named by its code among the admin's, or their first unit."""
        if not code:
            return await uow.units.get(held[0])
        unit = await uow.units.by_code(code) if is_valid_code(code) else None
        return unit if unit is not None and await covers(uow, held, unit) else None

    def routes(self) -> Routes:
        """/linkchat in a private chat, and its buttons."""
        return Routes(
            commands={"linkchat": CommandRoute(self.private, open=True)},
            buttons={"g": ButtonRoute(self.button)},
        )

    async def private(self, turn: Turn, argument: str) -> None:
        """/linkchat in a private chat: a one-time code, and the chats linked so far."""
        held = await self._admin_units(turn.uow, turn.member)
        if not held:
            turn.say(_("This command is for union admins."))
            return
        unit = await self._unit(turn.uow, held, argument.strip()[:64])
        if unit is None:
            turn.say(_("There is no unit with the code “{code}” among yours.",
                       code=Verbatim(argument.strip()[:64])))  # fmt: skip
            return
        code = new_code()
        expires = turn.now + CODE_LIFETIME
        await turn.uow.chats.add_code(unit.id, code_hash(code), expires, turn.member.id, turn.now)
        turn.say(
            _("🔗 To post {unit}'s weekly commendations in a Telegram group or channel: add "
              "this bot there (as an admin in a channel), then send there:",
              unit=Verbatim(unit.name)),
            Text("/linkchat {code}", {"code": Verbatim(code)}),
            _("The code works once, until {moment}. In a group, an admin of the unit can also "
              "just send /linkchat there.", moment=Moment(expires)),
        )  # fmt: skip
        await self._listing(turn, held)

    async def _listing(self, turn: Turn, held: list[int]) -> None:
        linked = await turn.uow.chats.of_units(held)
        chats = [chat for unit_chats in linked.values() for chat in unit_chats][:SHOWN_LINKS]
        if not chats:
            return
        units = await turn.uow.weekly.units([chat.unit_id for chat in chats])
        turn.say(
            _("Linked now:"),
            *(_("• {chat} → {unit}", chat=Verbatim(chat.title or chat.chat_id or ""),
                unit=Verbatim(units[chat.unit_id].name)) for chat in chats),
            buttons=tuple((Button(_("✂️ Unlink {chat}", chat=Verbatim((c.title or "")[:30])),
                                  Unlink(c.id).encode()),) for c in chats),
        )  # fmt: skip

    async def button(self, turn: Turn, press: Unlink) -> None:
        """Unlink a chat from the private list."""
        try:
            unlinked = await unlink_chat(turn.uow, turn.member, press.link)
        except NotFound as gone:
            turn.outcome.notice = gone.text
            return
        turn.say(_("✂️ Unlinked: {chat} will get no more commendations.",
                   chat=Verbatim(unlinked.name)))  # fmt: skip

    async def in_chat(
        self, uow: UnitOfWork, now: dt.datetime, chat: ChatRef, member: Member | None,
        argument: str,
    ) -> Text:  # fmt: skip
        """/linkchat sent in a group or channel: by a one-time code, or by a unit's admin."""
        word = argument.split()[0] if argument.split() else ""
        if _CODE.fullmatch(word):
            link = await uow.chats.by_code(code_hash(word))
            if link is None or link.code_expires_at is None or link.code_expires_at <= now:
                return _("This code is not valid (used, expired or mistyped). An admin of "
                         "the unit gets a new one with /linkchat in a private chat with the "
                         "bot.")  # fmt: skip
            unit = await uow.units.get(link.unit_id)
            assert unit is not None
            await uow.chats.link(unit.id, chat.chat_id, chat.title, link.linked_by_id, now,
                                 link.id)  # fmt: skip
            return self._linked(unit)
        if chat.is_channel or member is None:
            return _("To link this channel, an admin of the unit sends /linkchat in a private "
                     "chat with the bot, then posts here the code it gives.")  # fmt: skip
        held = await self._admin_units(uow, member)
        unit = await self._unit(uow, held, word[:64]) if held else None
        if unit is None:
            return _("Only an admin of a union unit can link this chat.")
        await uow.chats.link(unit.id, chat.chat_id, chat.title, member.id, now, None)
        return self._linked(unit)

    def _linked(self, unit: Unit) -> Text:
        return _("🔗 Linked: {unit}'s weekly commendations will be posted here.",
                 unit=Verbatim(unit.name))  # fmt: skip

    async def unlink_in_chat(self, uow: UnitOfWork, chat: ChatRef, member: Member | None) -> Text:
        """/unlinkchat sent in a group by an admin of the linked unit."""
        link = await uow.chats.by_chat(chat.chat_id)
        if link is None or not link.active:
            return _("This chat is not linked to any unit.")
        unit = await uow.units.get(link.unit_id)
        held = await self._admin_units(uow, member) if member is not None else []
        if unit is None or not await covers(uow, held, unit):
            return _("Only an admin of the linked unit can unlink this chat.")
        await uow.chats.unlink(chat.chat_id)
        return _("✂️ Unlinked: {unit}'s commendations will no longer be posted here.",
                 unit=Verbatim(unit.name))  # fmt: skip


class GroupChats:
    """What the bot hears in groups and channels: /linkchat, /unlinkchat, and being
    removed. Each is one short transaction; a redelivered event changes nothing."""

    def __init__(self, units_of_work: UnitOfWorkFactory, clock: Callable[[], dt.datetime]) -> None:
        self._uow = units_of_work
        self._clock = clock
        self._desk = ChatDesk()

    async def command(
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
                answer = await self._desk.in_chat(uow, now, chat, member, command.argument)
            else:
                answer = await self._desk.unlink_in_chat(uow, chat, member)
            await uow.commit()
        return answer

    async def removed(self, chat_id: str) -> None:
        """The bot left or was removed from a group or channel: nothing is posted there."""
        async with self._uow() as uow:
            await uow.chats.unlink(chat_id)
            await uow.commit()
