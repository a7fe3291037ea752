"""/announce: an admin writes to every member of their units, with a preview first."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.announce_cases import (
    Paces,
    Scope,
    announce,
    announcement_audience,
    as_scope,
    estimate,
    stop_announcement,
)
from domain.codes import ButtonCode, button_code
from domain.errors import InputError, NotAllowed
from domain.model import Attachment, AttachmentKind, DialogState, RoleKind
from domain.parsing import TEXT_LIMIT, clean_text
from domain.roles import units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, Reply, caption_length

SCOPES: dict[Scope, Text] = {
    "all": _("Every member of my units"),
    "lag": _("Only units behind the pace"),
}


@button_code("a", "to")
@dataclass(frozen=True, slots=True)
class ChooseAudience(ButtonCode):
    """a:to:<scope> — whom the announcement goes to."""

    scope: Scope


@button_code("a", "nophoto")
@dataclass(frozen=True, slots=True)
class RemovePhoto(ButtonCode):
    """a:nophoto — send the announcement without its photo."""


@button_code("a", "send")
@dataclass(frozen=True, slots=True)
class SendAnnouncement(ButtonCode):
    """a:send — the announcement is confirmed."""


@button_code("a", "cancel")
@dataclass(frozen=True, slots=True)
class CancelAnnouncement(ButtonCode):
    """a:cancel — nothing is sent."""


@button_code("a", "stop")
@dataclass(frozen=True, slots=True)
class StopAnnouncement(ButtonCode):
    """a:stop:<broadcast> — stop sending an announcement under way."""

    broadcast: int


AnnouncePress = (
    ChooseAudience | RemovePhoto | SendAnnouncement | CancelAnnouncement | StopAnnouncement
)


class AnnounceDesk:
    """Compose (text, optionally one photo), preview, choose whom, confirm; the queue
    does the sending."""

    def __init__(self, caption_limit: int, paces: Paces | None = None) -> None:
        # The most characters under a photo on every channel an announcement reaches.
        self._caption_limit = caption_limit
        # Each channel's pace: how long the announcement takes, and what paying costs.
        self._paces = paces

    async def _is_admin(self, turn: Turn) -> bool:
        return bool(await units_held(turn.uow, turn.member.id, RoleKind.ADMIN))

    def routes(self) -> Routes:
        """/announce, its buttons and the text typed for it."""
        return Routes(
            commands={"announce": CommandRoute(lambda turn, _a: self.start(turn), open=True)},
            buttons={"a": ButtonRoute(self.button)},
            states={
                DialogState.ANNOUNCING: StateRoute(
                    self.text,
                    self.prompt,
                    file=lambda turn, shared: self.photo(turn, shared.attachment, shared.caption),
                ),
            },
        )

    async def start(self, turn: Turn) -> None:
        """/announce: ask for the text."""
        if not await self._is_admin(turn):
            turn.say(_("This command is for union admins."))
            return
        turn.conversation.state = DialogState.ANNOUNCING
        turn.conversation.data = {}
        turn.say(self._ask_text())

    def _ask_caption(self) -> Text:
        return _("Photo received. Now type the text to go with it (at most {limit} "
                 "characters).", limit=self._caption_limit)  # fmt: skip

    def _ask_text(self) -> Text:
        return _("Type the announcement (at most {limit} characters), or send one photo with "
                 "the announcement as its caption. /cancel to stop.", limit=TEXT_LIMIT)  # fmt: skip

    async def text(self, turn: Turn, text: str) -> None:
        """The announcement's text: show it as members will see it, then ask whom."""
        data = turn.conversation.data
        photo = data.get("photo")
        body = clean_text(text, limit=TEXT_LIMIT)
        if photo and caption_length(body) > self._caption_limit:
            too_long = _("With a photo the text can have at most {limit} characters; this one "
                         "has {length}. Shorten it, or remove the photo.",
                         limit=self._caption_limit, length=caption_length(body))  # fmt: skip
            raise InputError(too_long)
        data["text"] = body
        data.pop("to", None)
        self._preview(turn)

    async def photo(self, turn: Turn, attachment: Attachment, caption: str) -> None:
        """A photo, with the text as its caption or the text typed before or after it."""
        if attachment.kind is not AttachmentKind.PHOTO:
            raise InputError(_("Only a photo can go with an announcement, not a document."))
        data = turn.conversation.data
        body = clean_text(caption, limit=TEXT_LIMIT) if caption.strip() else data.get("text")
        if body and caption_length(str(body)) > self._caption_limit:
            too_long = _("With a photo the text can have at most {limit} characters; this one "
                         "has {length}. Shorten it, or send it without a photo.",
                         limit=self._caption_limit, length=caption_length(str(body)))  # fmt: skip
            raise InputError(too_long)
        data["photo"] = attachment.file_id
        data.pop("to", None)
        if not body:
            turn.say(self._ask_caption())
            return
        data["text"] = body
        self._preview(turn)

    def _preview(self, turn: Turn) -> None:
        data = turn.conversation.data
        photo = data.get("photo")
        turn.say(_("Preview, exactly as members will see it:"))
        turn.outcome.replies.append(
            Reply((Text("{text}", {"text": Verbatim(str(data["text"]))}),),
                  photo=str(photo) if photo else None)
        )  # fmt: skip
        self._ask_audience(turn)

    def _ask_audience(self, turn: Turn, *before: Text) -> None:
        """Who receives it, as choices; the photo may go."""
        rows = [(Button(label, ChooseAudience(scope).encode()),) for scope, label in SCOPES.items()]
        if turn.conversation.data.get("photo"):
            rows.append((Button(_("🗑 Remove the photo"), RemovePhoto().encode()),))
        turn.say(*before, _("Who should receive it? To change the text, type it again."),
                 buttons=tuple(rows))  # fmt: skip

    async def prompt(self, turn: Turn, *before: Text) -> None:
        """Ask again for what is missing."""
        data = turn.conversation.data
        if "text" not in data:
            turn.say(*before, self._ask_caption() if data.get("photo") else self._ask_text())
        else:
            # Asked again with its choices: on a channel without buttons, the numbers
            # shown with the question before mean nothing after another reply.
            self._ask_audience(turn, *before)

    async def button(self, turn: Turn, press: AnnouncePress) -> None:
        """Scope, confirmation and stop buttons."""
        if isinstance(press, StopAnnouncement):
            await self._stop(turn, press.broadcast)
            return
        if not await self._is_admin(turn):
            turn.outcome.notice = _("This command is for union admins.")
            return
        data = turn.conversation.data
        if turn.conversation.state is not DialogState.ANNOUNCING or "text" not in data:
            raise Forged
        match press:
            case ChooseAudience(scope=scope):
                await self._confirm(turn, scope)
            case RemovePhoto() if data.get("photo"):
                del data["photo"]
                data.pop("to", None)
                self._preview(turn)
            case SendAnnouncement() if (chosen := as_scope(data.get("to"))) is not None:
                await self._send(turn, chosen)
            case CancelAnnouncement():
                turn.pause()
                turn.menu(_("Cancelled; nothing was sent."))
            case _:
                raise Forged

    async def _confirm(self, turn: Turn, scope: Scope) -> None:
        """How many it reaches and, before the admin confirms, how long it takes."""
        audience = await announcement_audience(turn.uow, turn.member, scope, turn.today)
        turn.conversation.data["to"] = scope
        turn.say(
            _("It will go to {count} members. Send it?", count=audience.count),
            buttons=((Button(_("📣 Send"), SendAnnouncement().encode()),
                      Button(_("Cancel"), CancelAnnouncement().encode())),),
        )  # fmt: skip
        paces = self._paces
        if paces is None:
            return
        counts = await turn.uow.members.reachable_by_channel(audience.members)
        replies, index = turn.outcome.replies, len(turn.outcome.replies) - 1

        async def show_time() -> None:
            # After the transaction: a channel's pace may ask its platform (the balance).
            asked = replies[index]
            replies[index] = replace(asked, text=(*await estimate(paces, counts), *asked.text))

        turn.outcome.after.append(show_time)

    async def _send(self, turn: Turn, scope: Scope) -> None:
        """Queue the confirmed announcement in this same transaction."""
        data = turn.conversation.data
        photo = data.get("photo")
        sent = await announce(
            turn.uow, turn.member, str(data["text"]), str(photo) if photo else None, scope,
            turn.now, turn.today, caption_limit=self._caption_limit,
        )  # fmt: skip
        turn.pause()
        if sent.closed:
            turn.menu(_("None of them can receive messages from the bot now; nothing was sent."))
            return
        turn.outcome.replies.append(Reply(
            (_("📣 Sending to {count} members. I will tell you how it goes.",
               count=sent.count),),
            buttons=((Button(_("⛔ Stop sending"),
                             StopAnnouncement(sent.broadcast_id).encode()),),),
            progress=sent.broadcast_id,
        ))  # fmt: skip

    async def _stop(self, turn: Turn, broadcast_id: int) -> None:
        try:
            stopped = await stop_announcement(turn.uow, turn.member, broadcast_id)
        except NotAllowed as error:
            turn.outcome.notice = error.text
            return
        # The pressed message is the progress message: nothing is left to stop from it.
        turn.outcome.pressed = Reply((_("📣 Announcement to {count} members: stopped.",
                                        count=stopped.total),))  # fmt: skip
        turn.say(_("Stopped: {count} messages will not be sent.", count=stopped.cancelled))
