"""/announce: an admin writes to every member of their units, with a preview first."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.delivery import BroadcastExtras, OutgoingState
from domain.errors import InputError
from domain.model import Attachment, AttachmentKind, DialogState, RoleKind
from domain.parsing import TEXT_LIMIT, clean_text
from domain.progress import phase_on
from domain.roles import units_held
from domain.routes import ButtonRoute, CommandRoute, Routes, StateRoute
from domain.stats import phase_pace
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, Reply, caption_length, encode, number_at

SCOPES: dict[str, Text] = {
    "all": _("Every member of my units"),
    "lag": _("Only units behind the pace"),
}


class AnnounceDesk:
    """Compose (text, optionally one photo), preview, choose whom, confirm; the queue
    does the sending."""

    def __init__(self, caption_limit: int) -> None:
        # The most characters under a photo on every channel an announcement reaches.
        self._caption_limit = caption_limit

    async def _admin_units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)

    def routes(self) -> Routes:
        """/announce, its buttons and the text typed for it."""
        return Routes(
            commands={"announce": CommandRoute(lambda turn, _a: self.start(turn), open=True)},
            buttons={"a": ButtonRoute(self.button)},
            states={DialogState.ANNOUNCING: StateRoute(self.text, self.prompt)},
        )

    async def start(self, turn: Turn) -> None:
        """/announce: ask for the text."""
        if not await self._admin_units(turn):
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
        rows = [(Button(label, encode("a", "to", scope)),) for scope, label in SCOPES.items()]
        if photo:
            rows.append((Button(_("🗑 Remove the photo"), encode("a", "nophoto")),))
        turn.say(_("Who should receive it? To change the text, type it again."),
                 buttons=tuple(rows))  # fmt: skip

    async def prompt(self, turn: Turn, *before: Text) -> None:
        """Ask again for what is missing."""
        data = turn.conversation.data
        if "text" not in data:
            turn.say(*before, self._ask_caption() if data.get("photo") else self._ask_text())
        else:
            turn.say(*before, _("Please use the buttons above, or /cancel."))

    async def button(self, turn: Turn, parts: Sequence[str]) -> None:
        """Scope, confirmation and stop buttons."""
        roots = await self._admin_units(turn)
        if not roots:
            turn.outcome.notice = _("This command is for union admins.")
            return
        data = turn.conversation.data
        action = parts[1] if len(parts) > 1 else ""
        if action == "stop" and len(parts) == 3:
            await self._stop(turn, number_at(parts, 2))
            return
        if turn.conversation.state is not DialogState.ANNOUNCING or "text" not in data:
            raise Forged
        if action == "to" and len(parts) == 3 and parts[2] in SCOPES:
            recipients = await self._recipients(turn, roots, parts[2])
            data["to"] = parts[2]
            turn.say(
                _("It will go to {count} members. Send it?", count=len(recipients)),
                buttons=((Button(_("📣 Send"), encode("a", "send")),
                          Button(_("Cancel"), encode("a", "cancel"))),),
            )  # fmt: skip
        elif action == "nophoto" and len(parts) == 2 and data.get("photo"):
            del data["photo"]
            data.pop("to", None)
            self._preview(turn)
        elif action == "send" and len(parts) == 2 and data.get("to") in SCOPES:
            recipients = await self._recipients(turn, roots, str(data["to"]))
            await self._send(turn, recipients)
        elif action == "cancel" and len(parts) == 2:
            turn.pause()
            turn.menu(_("Cancelled; nothing was sent."))
        else:
            raise Forged

    async def _send(self, turn: Turn, recipients: list[int]) -> None:
        """Queue the confirmed announcement in this same transaction."""
        data = turn.conversation.data
        photo = data.get("photo")
        broadcast_id = await turn.uow.outbox.create(
            "announce", str(data["text"]), recipients, turn.member.id, turn.now,
            BroadcastExtras(photo=str(photo) if photo else None),
        )  # fmt: skip
        assert broadcast_id is not None  # only keyed broadcasts can be refused
        turn.pause()
        if not (await turn.uow.outbox.tally(broadcast_id))[OutgoingState.QUEUED]:
            # Nobody reachable: done at once, with nothing to stop and no report to come.
            await turn.uow.outbox.close(broadcast_id)
            turn.menu(_("None of them can receive messages from the bot now; nothing was sent."))
            return
        turn.outcome.replies.append(Reply(
            (_("📣 Sending to {count} members. I will tell you how it goes.",
               count=len(recipients)),),
            buttons=((Button(_("⛔ Stop sending"), encode("a", "stop", broadcast_id)),),),
            progress=broadcast_id,
        ))  # fmt: skip

    async def _recipients(self, turn: Turn, roots: list[int], scope: str) -> list[int]:
        units = roots
        if scope == "lag":
            phase = await phase_on(turn.uow, turn.today)
            if phase is None:
                return []
            pace = Decimal(str(phase_pace(phase, turn.today)))
            lagging = [f.unit.id for f in await turn.uow.nudges.with_targets(phase.id)
                       if f.percent is not None and f.percent < pace]  # fmt: skip
            below = set(await turn.uow.nudges.everyone_below(roots))
            members = [m for m in await turn.uow.nudges.everyone_below(lagging) if m in below]
            return sorted(set(members) - {turn.member.id})
        return sorted(set(await turn.uow.nudges.everyone_below(units)) - {turn.member.id})

    async def _stop(self, turn: Turn, broadcast_id: int) -> None:
        if await turn.uow.outbox.sender_of(broadcast_id) != turn.member.id:
            turn.outcome.notice = _("Only whoever sent the announcement may stop it.")
            return
        stopped = await turn.uow.outbox.cancel(broadcast_id)
        tally = await turn.uow.outbox.tally(broadcast_id)
        # The pressed message is the progress message: nothing is left to stop from it.
        turn.outcome.pressed = Reply((_("📣 Announcement to {count} members: stopped.",
                                        count=sum(tally.values())),))  # fmt: skip
        turn.say(_("Stopped: {count} messages will not be sent.", count=stopped))
