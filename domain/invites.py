"""Appointing admins and helpers in chat: one-time invitation links, and revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence

from domain.model import Invite, Member, RoleKind, Unit
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Moment, Text, Verbatim, _
from domain.turn import Forged, Turn
from domain.ui import Button, Delivery, Reply, encode, number_at

log = logging.getLogger(__name__)

INVITE_PREFIX = "inv_"
# 16 random bytes: 22 URL-safe characters, so "inv_" and the token fit a deep-link payload.
TOKEN_BYTES = 16
UNIT_CHOICES = 12
ROLE_LABELS: dict[RoleKind, Text] = {
    RoleKind.ADMIN: _("admin"),
    RoleKind.HELPER: _("initiative support team member"),
}


def token_hash(token: str) -> str:
    """Only the hash of a token is stored: a copy of the database grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_invite_payload(payload: str) -> bool:
    """Whether a /start payload is an invitation rather than a unit code."""
    return payload.startswith(INVITE_PREFIX)


class InviteDesk:
    """Invitations to roles, and the list of roles an admin may revoke."""

    def __init__(self, link: Callable[[str], str], lifetime: dt.timedelta) -> None:
        self._link = link
        self._lifetime = lifetime

    async def _admin_units(self, turn: Turn) -> list[int]:
        return await units_held(turn.uow, turn.member.id, RoleKind.ADMIN)

    async def _in_scope(self, turn: Turn, unit: Unit) -> bool:
        """Whether the member is an admin of this unit or of one above it."""
        return await covers(turn.uow, await self._admin_units(turn), unit)

    def routes(self) -> Routes:
        """/invite and /roles, and their buttons."""
        return Routes(
            commands={
                "invite": CommandRoute(lambda turn, _a: self.start(turn), open=True),
                "roles": CommandRoute(lambda turn, _a: self.roles(turn), open=True),
            },
            buttons={"i": ButtonRoute(self.button)},
        )

    async def start(self, turn: Turn) -> None:
        """/invite: choose the role to give."""
        if not await self._admin_units(turn):
            turn.say(_("This command is for union admins."))
            return
        turn.say(
            _("Whom do you want to invite?"),
            buttons=tuple((Button(_("Invite an {role}", role=label), encode("i", "role", kind)),)
                          for kind, label in ROLE_LABELS.items()),
        )  # fmt: skip

    async def button(self, turn: Turn, parts: Sequence[str]) -> None:
        """Presses in the invitation and revocation dialogs."""
        action = parts[1] if len(parts) > 1 else ""
        if action == "role" and len(parts) == 3 and parts[2] in RoleKind.__members__.values():
            await self._choose_unit(turn, RoleKind(parts[2]))
        elif action == "unit" and len(parts) == 4 and parts[2] in RoleKind.__members__.values():
            await self._create(turn, RoleKind(parts[2]), number_at(parts, 3))
        elif action == "revoke" and len(parts) == 3:
            await self._revoke(turn, number_at(parts, 2))
        else:
            raise Forged

    async def _choose_unit(self, turn: Turn, kind: RoleKind) -> None:
        units: list[Unit] = []
        for unit_id in await self._admin_units(turn):
            unit = await turn.uow.units.get(unit_id)
            if unit is not None:
                units.append(unit)
                units += await turn.uow.units.children(unit.id, UNIT_CHOICES)
        if not units:
            turn.say(_("This command is for union admins."))
            return
        seen: set[int] = set()
        rows = []
        for unit in units[:UNIT_CHOICES]:
            if unit.id not in seen:
                seen.add(unit.id)
                rows.append((Button(Text("{name}", {"name": Verbatim(unit.name[:60])}),
                                    encode("i", "unit", kind.value, unit.id)),))  # fmt: skip
        turn.say(_("For which unit?"), buttons=tuple(rows))

    async def _create(self, turn: Turn, kind: RoleKind, unit_id: int) -> None:
        unit = await turn.uow.units.get(unit_id)
        if unit is None or not await self._in_scope(turn, unit):
            log.warning("member %s may not invite to unit %s", turn.member, unit_id)
            turn.outcome.notice = _("You may only invite to your own units and those below.")
            return
        token = secrets.token_urlsafe(TOKEN_BYTES)
        invite = await turn.uow.invites.add(
            Invite(id=0, token_hash=token_hash(token), kind=kind, unit_id=unit.id,
                   created_by_id=turn.member.id, created_at=turn.now,
                   expires_at=turn.now + self._lifetime)
        )  # fmt: skip
        link = self._link(INVITE_PREFIX + token)
        turn.outcome.replies.append(Reply(
            (_("Invitation for an {role} of {unit}: send this link to the person, or let "
               "them scan the QR code from your screen. It works once and until {moment}.",
               role=ROLE_LABELS[kind], unit=Verbatim(unit.name),
               moment=Moment(invite.expires_at)),
             Text("{link}", {"link": Verbatim(link)})),
            qr=link,
        ))  # fmt: skip

    async def accept(self, turn: Turn, payload: str) -> None:
        """Opening an invitation link: grant the role, or say why not."""
        token = payload[len(INVITE_PREFIX) :]
        invite = await turn.uow.invites.by_token_hash(token_hash(token)) if token else None
        if invite is None:
            log.warning("member %s opened an unknown invitation", turn.member)
            turn.say(_("This invitation link is not valid. Please ask for a new one."))
            return
        if invite.used_at is not None:
            turn.say(_("This invitation link has already been used. Please ask for a new one."))
            return
        if invite.expires_at <= turn.now:
            turn.say(_("This invitation link expired at {moment}. Please ask for a new one.",
                       moment=Moment(invite.expires_at)))  # fmt: skip
            return
        unit = await turn.uow.units.get(invite.unit_id)
        inviter = (await turn.uow.members.by_ids([invite.created_by_id])).get(invite.created_by_id)
        if unit is None or inviter is None or not await self._still_admin(turn, inviter, unit):
            turn.say(_("This invitation is no longer valid: whoever sent it is no longer an "
                       "admin there."))  # fmt: skip
            return
        if not await turn.uow.invites.use(invite.id, turn.member.id, turn.now):
            turn.say(_("This invitation link has already been used. Please ask for a new one."))
            return
        await turn.uow.roles.grant(turn.member.id, unit.id, invite.kind, inviter.id, turn.now)
        lines = [_("You are now an {role} of {unit}.", role=ROLE_LABELS[invite.kind],
                   unit=Verbatim(unit.name))]  # fmt: skip
        if invite.kind is RoleKind.ADMIN:
            lines.append(_("Initiatives to review will come to you here; /pending lists them."))
        turn.menu(*lines)
        name = Verbatim(turn.member.full_name or turn.member.display_name)
        turn.outcome.deliveries.append(
            Delivery(inviter, Reply((_("{name} accepted your invitation: {role} of {unit}.",
                                       name=name, role=ROLE_LABELS[invite.kind],
                                       unit=Verbatim(unit.name)),)))
        )  # fmt: skip

    async def _still_admin(self, turn: Turn, inviter: Member, unit: Unit) -> bool:
        return await covers(turn.uow, await units_held(turn.uow, inviter.id, RoleKind.ADMIN), unit)

    async def roles(self, turn: Turn) -> None:
        """/roles: the admins and helpers in the admin's units, each with a revoke button."""
        roots = await self._admin_units(turn)
        if not roots:
            turn.say(_("This command is for union admins."))
            return
        rows = []
        lines: list[Text] = [_("Admins and helpers in your units:")]
        for role, member, unit in await turn.uow.roles.in_subtrees(roots):
            name = Verbatim(member.full_name or member.display_name)
            lines.append(_("{name} · {role} · {unit}", name=name, role=ROLE_LABELS[role.kind],
                           unit=Verbatim(unit.name)))  # fmt: skip
            if member.id != turn.member.id:
                rows.append((Button(_("Revoke: {name}", name=name),
                                    encode("i", "revoke", role.id)),))  # fmt: skip
        turn.say(*lines, buttons=tuple(rows[:50]))

    async def _revoke(self, turn: Turn, role_id: int) -> None:
        role = await turn.uow.roles.get(role_id)
        unit = await turn.uow.units.get(role.unit_id) if role else None
        if role is None or unit is None or not await self._in_scope(turn, unit):
            log.warning("member %s may not revoke role %s", turn.member, role_id)
            turn.outcome.notice = _("You may not change this role.")
            return
        if role.member_id == turn.member.id:
            turn.outcome.notice = _("You cannot revoke your own role; ask an admin above.")
            return
        if role.revoked_at is not None or not await turn.uow.roles.revoke(
            role.member_id, role.unit_id, role.kind, turn.member.id, turn.now
        ):
            turn.outcome.notice = _("This role was already revoked.")
            return
        member = (await turn.uow.members.by_ids([role.member_id])).get(role.member_id)
        name = Verbatim((member.full_name or member.display_name) if member else "")
        turn.say(_("Revoked: {name} is no longer {role} of {unit}.", name=name,
                   role=ROLE_LABELS[role.kind], unit=Verbatim(unit.name)))  # fmt: skip
