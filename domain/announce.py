"""/announce: an admin writes to every member of their units, with a preview first."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.model import DialogState, RoleKind
from domain.parsing import TEXT_LIMIT, clean_text
from domain.progress import phase_on
from domain.roles import units_held
from domain.stats import phase_pace
from domain.text import Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, Reply, encode

SCOPES: dict[str, Text] = {
    "all": _("Every member of my units"),
    "lag": _("Only units behind the pace"),
}


class AnnounceDesk:
    """Compose, preview, choose whom, confirm; the queue does the sending."""

    async def _admin_units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)

    def _reset(self, turn: Turn) -> None:
        turn.conversation.state = DialogState.IDLE
        turn.conversation.data = {}

    async def start(self, turn: Turn) -> None:
        """/announce: ask for the text."""
        if not await self._admin_units(turn):
            turn.say(_("This command is for union admins."))
            return
        turn.conversation.state = DialogState.ANNOUNCING
        turn.conversation.data = {}
        turn.say(_("Type the announcement (at most {limit} characters). /cancel to stop.",
                   limit=TEXT_LIMIT))  # fmt: skip

    async def text(self, turn: Turn, text: str) -> None:
        """The announcement's text: show it as members will see it, then ask whom."""
        body = clean_text(text, limit=TEXT_LIMIT)
        turn.conversation.data = {"text": body}
        turn.say(_("Preview, exactly as members will see it:"))
        turn.outcome.replies.append(Reply((Text("{text}", {"text": Verbatim(body)}),)))
        turn.say(
            _("Who should receive it?"),
            buttons=tuple((Button(label, encode("a", "to", scope)),)
                          for scope, label in SCOPES.items()),
        )  # fmt: skip

    async def prompt(self, turn: Turn, *before: Text) -> None:
        """Ask again for what is missing."""
        if "text" not in turn.conversation.data:
            turn.say(*before, _("Type the announcement (at most {limit} characters). /cancel to "
                                "stop.", limit=TEXT_LIMIT))  # fmt: skip
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
        if action == "stop" and len(parts) == 3 and parts[2].isdigit():
            await self._stop(turn, int(parts[2]))
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
        elif action == "send" and len(parts) == 2 and data.get("to") in SCOPES:
            recipients = await self._recipients(turn, roots, str(data["to"]))
            data["recipients"] = recipients
            data["send"] = True
        elif action == "cancel" and len(parts) == 2:
            self._reset(turn)
            turn.menu(_("Cancelled; nothing was sent."))
        else:
            raise Forged

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
        turn.say(_("Stopped: {count} messages will not be sent.", count=stopped))
