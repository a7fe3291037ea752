"""One person, two apps: /link shows a one-time code on one account, and the same
command with the code, sent from the other, links them. Both accounts then lead to one
member, with one profile and one dialog: a draft started on one goes on in the other,
and the bot writes to the app used last.

The code says nothing about its owner and is kept as a hash; it lasts minutes, serves
once, and wrong tries are limited, since whoever links an account may use it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import fields

from domain.model import Conversation, DialogState, Member
from domain.routes import CommandRoute, Prompt, Routes
from domain.text import Text, Verbatim, _
from domain.turn import Turn

CODE_DIGITS = 8
CODE_LIFETIME = dt.timedelta(minutes=10)
# Wrong codes a member may type in FAILURE_WINDOW before they must wait: with 10⁸ codes,
# guessing one is hopeless.
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(hours=1)


def code_hash(code: str) -> str:
    """What is stored of a code."""
    return hashlib.sha256(f"link:{code}".encode()).hexdigest()


def new_code() -> str:
    """Eight random digits, easy to type on any phone."""
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def shown(code: str) -> str:
    """A code as shown, in two groups of four: 4821 9306."""
    return f"{code[:4]} {code[4:]}"


class Linking:
    """/link: a code to show, or a code to use."""

    def __init__(
        self,
        prompt: Prompt,
        labels: Mapping[str, str],
        claim: Callable[[Turn, Member], Awaitable[bool]] | None = None,
    ) -> None:
        # Ask again what the dialog in progress expects (the service's prompt).
        self._prompt = prompt
        # The running channels and their apps' names.
        self._labels = labels
        # Takes a code given to a record a helper entered (domain.claiming): True if it was.
        self._claim = claim

    def routes(self) -> Routes:
        """Open before joining (a new account may join by linking), and it keeps the
        dialog in progress: the point is to go on with it elsewhere."""
        return Routes(commands={"link": CommandRoute(self._link, open=True, leaves=False)})

    def _label(self, channel: str) -> str:
        return self._labels.get(channel) or channel

    async def _link(self, turn: Turn, argument: str) -> None:
        typed = "".join(argument.split())
        if not typed:
            await self._show_code(turn)
        elif typed.isdigit() and len(typed) == CODE_DIGITS:
            await self._use_code(turn, typed)
        else:
            await self._prompt(
                turn,
                _("A link code has {digits} digits, like /link 4821 9306.", digits=CODE_DIGITS),
            )

    async def _show_code(self, turn: Turn) -> None:
        if len(self._labels) < 2:
            await self._prompt(
                turn, _("This bot runs on one app only, so there is nothing to link.")
            )
            return
        have = await turn.uow.links.channels(turn.member.id)
        others = [self._label(c) for c in self._labels if c not in have]
        if not others:
            names = ", ".join(self._label(c) for c in self._labels)
            await self._prompt(
                turn, _("Your accounts are already linked: {apps}.", apps=Verbatim(names))
            )
            return
        code = new_code()
        expires = turn.now + CODE_LIFETIME
        await turn.uow.links.issue(turn.member.id, code_hash(code), expires, turn.now)
        turn.say(
            _("🔗 Link your accounts"),
            _("Your code: {code}, valid for {minutes} minutes, once.",
              code=Verbatim(shown(code)), minutes=int(CODE_LIFETIME.total_seconds()) // 60),
            _("On {apps}, send this bot: /link {code}",
              apps=Verbatim(_or(others)), code=Verbatim(code)),
            _("Do not give this code to anyone: whoever types it can use your account."),
        )  # fmt: skip

    async def _use_code(self, turn: Turn, code: str) -> None:
        links, member, now = turn.uow.links, turn.member, turn.now
        if await links.failures(member.id, now - FAILURE_WINDOW) >= MAX_FAILURES:
            await self._prompt(turn, _("Too many wrong codes. Please try again in an hour."))
            return
        owner_id = await links.taken(code_hash(code), now)
        if owner_id is None:
            await links.failed(member.id, now - FAILURE_WINDOW, now)
            # The code may be one's own (another account's /link) or a claim code a
            # helper gave for a record they entered (/claimcode): say where each comes from.
            await self._prompt(turn, _(
                "This code is wrong or has expired. For a new one, send /link on your other "
                "account; or, if the initiative support team gave you the code, ask them for "
                "a new one."
            ))  # fmt: skip
            return
        if owner_id == member.id:
            await self._prompt(turn, _("Your accounts are already linked."))
            return
        owner = (await turn.uow.members.by_ids([owner_id]))[owner_id]
        if self._claim is not None and await self._claim(turn, owner):
            return
        refusal = await self._refusal(turn, owner)
        if refusal is not None:
            await self._prompt(turn, refusal)
            return
        other_app = self._label(owner.channel)
        await self._join(turn, owner)
        await self._prompt(turn, _(
            "✅ Linked with your {app} account. The bot writes to the app you used last, "
            "and a draft goes on in either.", app=Verbatim(other_app),
        ))  # fmt: skip

    async def _refusal(self, turn: Turn, owner: Member) -> Text | None:
        """Why these two accounts cannot become one, if they cannot."""
        links = turn.uow.links
        shared = await links.channels(owner.id) & await links.channels(turn.member.id)
        if shared:
            return _(
                "These accounts cannot be linked: both are {app} accounts. Type the code on "
                "your account on another app.", app=Verbatim(self._label(min(shared))),
            )  # fmt: skip
        if await links.has_record(owner.id) and await links.has_record(turn.member.id):
            return _(
                "Both accounts already have submitted initiatives or a role, so they cannot "
                "become one. Please go on using each as before."
            )
        return None

    async def _join(self, turn: Turn, owner: Member) -> None:
        """Make the two accounts one member: the one with a record (or the one that has
        joined a union) stays, the other's accounts and drafts move to it. The dialog
        in progress, the owner's first, goes on; not the other's search for a union."""
        member, links = turn.member, turn.uow.links
        keep_mine = await links.has_record(member.id) or (
            not await links.has_record(owner.id) and member.has_joined and not owner.has_joined
        )
        theirs = await turn.uow.conversations.get(owner.id)
        survivor, absorbed = (member, owner) if keep_mine else (owner, member)
        dialog = _going_on((theirs, turn.conversation), survivor.id)
        await links.absorb(absorbed.id, survivor.id, turn.now)
        if not keep_mine:
            # This event's member becomes the owner, reached here from now on.
            address = member.channel, member.external_id
            _become(member, survivor)
            member.channel, member.external_id = address
        _continue(turn.conversation, dialog, survivor.id)


def _going_on(dialogs: tuple[Conversation, ...], survivor_id: int) -> Conversation:
    """The dialog that goes on: the first in progress that is the survivor's, or that
    works on a draft (which moves to the survivor); else the survivor's own."""
    for dialog in dialogs:
        mine = dialog.member_id == survivor_id
        if dialog.state is not DialogState.IDLE and (mine or dialog.draft_id is not None):
            return dialog
    return next(d for d in dialogs if d.member_id == survivor_id)


def _become(member: Member, other: Member) -> None:
    for field in fields(Member):
        setattr(member, field.name, getattr(other, field.name))


def _continue(conversation: Conversation, dialog: Conversation, member_id: int) -> None:
    """The event's dialog state becomes ``dialog``, the survivor's; numbers shown
    before on either app mean nothing now."""
    conversation.member_id = member_id
    conversation.state = dialog.state
    conversation.draft_id = dialog.draft_id
    conversation.data = dict(dialog.data)
    conversation.choices = ()


def _or(names: list[str]) -> str:
    """App names as one phrase: "Telegram", "Telegram / Zalo"."""
    return " / ".join(names)
