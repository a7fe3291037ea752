"""Appointing admins and helpers in chat: one-time invitation links, and revocation."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from domain.codes import ButtonCode, button_code
from domain.errors import NotAllowed, NotFound, Outdated
from domain.model import Invite, Member, Role, RoleKind, Unit
from domain.ports import (
    HeldRole,
    InviteRepository,
    MemberRepository,
    RoleRepository,
    UnitRepository,
)
from domain.roles import covers, units_held
from domain.routes import ButtonRoute, CommandRoute, Routes
from domain.text import Moment, Text, Verbatim, _
from domain.turn import Turn
from domain.ui import Button, Delivery, Reply
from domain.usecase import Notices

log = logging.getLogger(__name__)

INVITE_PREFIX = "inv_"
# 16 random bytes: 22 URL-safe characters, so "inv_" and the token fit a deep-link payload.
TOKEN_BYTES = 16
UNIT_CHOICES = 12
ROLE_LABELS: dict[RoleKind, Text] = {
    RoleKind.ADMIN: _("admin"),
    RoleKind.HELPER: _("initiative support team member"),
}
FOR_ADMINS = _("This command is for union admins.")

# A role's name as a code carries it: RoleKind's values.
RoleName = Literal["admin", "helper"]
ROLE_NAMES: dict[RoleKind, RoleName] = {RoleKind.ADMIN: "admin", RoleKind.HELPER: "helper"}


@button_code("i", "role")
@dataclass(frozen=True, slots=True)
class ChooseRole(ButtonCode):
    """i:role:admin — invite someone to this role; the unit comes next."""

    kind: RoleName


@button_code("i", "unit")
@dataclass(frozen=True, slots=True)
class ChooseUnit(ButtonCode):
    """i:unit:admin:12 — make the invitation to this role for this unit."""

    kind: RoleName
    unit: int


@button_code("i", "revoke")
@dataclass(frozen=True, slots=True)
class Revoke(ButtonCode):
    """i:revoke:7 — end this role."""

    role: int


class InviteStore(Protocol):
    """What invitations and roles are kept in."""

    units: UnitRepository
    members: MemberRepository
    roles: RoleRepository
    invites: InviteRepository


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation just made: what its link carries, and until when it works."""

    payload: str
    kind: RoleKind
    unit: Unit
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Acceptance:
    """A role granted by an invitation; the inviter is told."""

    role: Role
    unit: Unit
    inviter: Member
    notices: Notices


@dataclass(frozen=True, slots=True)
class Revocation:
    """A role ended: whose it was, and where."""

    role: Role
    member: Member | None
    unit: Unit


def token_hash(token: str) -> str:
    """Only the hash of a token is stored: a copy of the database grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_invite_payload(payload: str) -> bool:
    """Whether a /start payload is an invitation rather than a unit code."""
    return payload.startswith(INVITE_PREFIX)


async def _admin_units(store: InviteStore, member: Member) -> list[int]:
    """The units the member is an admin of; NotAllowed when none."""
    held = await units_held(store, member.id, RoleKind.ADMIN)
    if not held:
        raise NotAllowed(FOR_ADMINS)
    return held


async def invitable_units(store: InviteStore, actor: Member) -> list[Unit]:
    """The units an admin may invite to: theirs, and the ones just below."""
    units: list[Unit] = []
    for unit_id in await _admin_units(store, actor):
        unit = await store.units.get(unit_id)
        if unit is not None:
            units.append(unit)
            units += await store.units.children(unit.id, UNIT_CHOICES)
    unique = list({unit.id: unit for unit in units}.values())[:UNIT_CHOICES]
    if not unique:
        raise NotAllowed(FOR_ADMINS)
    return unique


async def invite(
    store: InviteStore,
    actor: Member,
    kind: RoleKind,
    unit_id: int,
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> Invitation:
    """Make a one-time invitation to a role for a unit in the admin's scope."""
    unit = await store.units.get(unit_id)
    held = await units_held(store, actor.id, RoleKind.ADMIN)
    if unit is None or not await covers(store, held, unit):
        log.warning("member %s may not invite to unit %s", actor, unit_id)
        raise NotAllowed(_("You may only invite to your own units and those below."))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    made = await store.invites.add(
        Invite(id=0, token_hash=token_hash(token), kind=kind, unit_id=unit.id,
               created_by_id=actor.id, created_at=now, expires_at=now + lifetime)
    )  # fmt: skip
    return Invitation(INVITE_PREFIX + token, kind, unit, made.expires_at)


async def accept_invitation(
    store: InviteStore, actor: Member, payload: str, now: dt.datetime
) -> Acceptance:
    """Take up an invitation: the role is granted once, while its sender is still an admin."""
    token = payload[len(INVITE_PREFIX) :] if is_invite_payload(payload) else ""
    found = await store.invites.by_token_hash(token_hash(token)) if token else None
    if found is None:
        log.warning("member %s opened an unknown invitation", actor)
        raise NotFound(_("This invitation link is not valid. Please ask for a new one."))
    used = _("This invitation link has already been used. Please ask for a new one.")
    if found.used_at is not None:
        raise Outdated(used)
    if found.expires_at <= now:
        raise Outdated(_("This invitation link expired at {moment}. Please ask for a new one.",
                         moment=Moment(found.expires_at)))  # fmt: skip
    unit = await store.units.get(found.unit_id)
    inviter = (await store.members.by_ids([found.created_by_id])).get(found.created_by_id)
    if (
        unit is None
        or inviter is None
        or not await covers(store, await units_held(store, inviter.id, RoleKind.ADMIN), unit)
    ):
        raise Outdated(_("This invitation is no longer valid: whoever sent it is no longer an "
                         "admin there."))  # fmt: skip
    if not await store.invites.use(found.id, actor.id, now):
        raise Outdated(used)
    role = await store.roles.grant(actor.id, unit.id, found.kind, inviter.id, now)
    told = Reply((_("{name} accepted your invitation: {role} of {unit}.",
                    name=Verbatim(actor.full_name or actor.display_name),
                    role=ROLE_LABELS[found.kind], unit=Verbatim(unit.name)),))  # fmt: skip
    return Acceptance(role, unit, inviter, Notices(deliveries=(Delivery(inviter, told),)))


async def roles_in_scope(store: InviteStore, actor: Member) -> list[HeldRole]:
    """The admins and helpers in force in the admin's units and below."""
    return await store.roles.in_subtrees(await _admin_units(store, actor))


async def revoke_role(
    store: InviteStore, actor: Member, role_id: int, now: dt.datetime
) -> Revocation:
    """End someone else's role in the admin's units or below."""
    role = await store.roles.get(role_id)
    unit = await store.units.get(role.unit_id) if role else None
    may_not = _("You may not change this role.")
    if role is None or unit is None:
        log.warning("member %s may not revoke role %s", actor, role_id)
        raise NotFound(may_not)
    if not await covers(store, await units_held(store, actor.id, RoleKind.ADMIN), unit):
        log.warning("member %s may not revoke role %s", actor, role_id)
        raise NotAllowed(may_not)
    if role.member_id == actor.id:
        raise NotAllowed(_("You cannot revoke your own role; ask an admin above."))
    if role.revoked_at is not None or not await store.roles.revoke(
        role.member_id, role.unit_id, role.kind, actor.id, now
    ):
        raise Outdated(_("This role was already revoked."))
    member = (await store.members.by_ids([role.member_id])).get(role.member_id)
    return Revocation(role, member, unit)


class InviteDesk:
    """/invite and /roles: the chat around the invitation and revocation use cases."""

    def __init__(self, link: Callable[[str], str], lifetime: dt.timedelta) -> None:
        self._link = link
        self._lifetime = lifetime

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
        if not await units_held(turn.uow, turn.member.id, RoleKind.ADMIN):
            turn.say(FOR_ADMINS)
            return
        rows = tuple(
            (Button(_("Invite an {role}", role=label), ChooseRole(ROLE_NAMES[kind]).encode()),)
            for kind, label in ROLE_LABELS.items()
        )
        turn.say(_("Whom do you want to invite?"), buttons=rows)

    async def button(self, turn: Turn, press: ChooseRole | ChooseUnit | Revoke) -> None:
        """Presses in the invitation and revocation dialogs."""
        match press:
            case ChooseRole(kind=kind):
                await self._choose_unit(turn, kind)
            case ChooseUnit(kind=kind, unit=unit_id):
                await self._create(turn, RoleKind(kind), unit_id)
            case Revoke(role=role_id):
                await self._revoke(turn, role_id)

    async def _choose_unit(self, turn: Turn, kind: RoleName) -> None:
        try:
            units = await invitable_units(turn.uow, turn.member)
        except NotAllowed as refused:
            turn.say(refused.text)
            return
        rows = tuple((Button(Text("{name}", {"name": Verbatim(unit.name[:60])}),
                             ChooseUnit(kind, unit.id).encode()),)
                     for unit in units)  # fmt: skip
        turn.say(_("For which unit?"), buttons=rows)

    async def _create(self, turn: Turn, kind: RoleKind, unit_id: int) -> None:
        try:
            made = await invite(turn.uow, turn.member, kind, unit_id, turn.now, self._lifetime)
        except NotAllowed as refused:
            turn.outcome.notice = refused.text
            return
        link = self._link(made.payload)
        turn.outcome.replies.append(Reply(
            (_("Invitation for an {role} of {unit}: send this link to the person, or let "
               "them scan the QR code from your screen. It works once and until {moment}.",
               role=ROLE_LABELS[kind], unit=Verbatim(made.unit.name),
               moment=Moment(made.expires_at)),
             Text("{link}", {"link": Verbatim(link)})),
            qr=link,
        ))  # fmt: skip

    async def accept(self, turn: Turn, payload: str) -> None:
        """Opening an invitation link: grant the role, or say why not."""
        try:
            accepted = await accept_invitation(turn.uow, turn.member, payload, turn.now)
        except (NotFound, Outdated) as refused:
            turn.say(refused.text)
            return
        kind = accepted.role.kind
        lines = [_("You are now an {role} of {unit}.", role=ROLE_LABELS[kind],
                   unit=Verbatim(accepted.unit.name))]  # fmt: skip
        if kind is RoleKind.ADMIN:
            lines.append(_("Initiatives to review will come to you here; /pending lists them."))
        turn.menu(*lines)
        accepted.notices.into(turn.outcome)

    async def roles(self, turn: Turn) -> None:
        """/roles: the admins and helpers in the admin's units, each with a revoke button."""
        try:
            listed = await roles_in_scope(turn.uow, turn.member)
        except NotAllowed as refused:
            turn.say(refused.text)
            return
        rows = []
        lines: list[Text] = [_("Admins and helpers in your units:")]
        for held in listed:
            name = Verbatim(held.member.full_name or held.member.display_name)
            role, unit = ROLE_LABELS[held.role.kind], Verbatim(held.unit.name)
            lines.append(_("{name} · {role} · {unit}", name=name, role=role, unit=unit))
            if held.member.id != turn.member.id:
                rows.append((Button(_("Revoke: {name}", name=name),
                                    Revoke(held.role.id).encode()),))  # fmt: skip
        turn.say(*lines, buttons=tuple(rows[:50]))

    async def _revoke(self, turn: Turn, role_id: int) -> None:
        try:
            revoked = await revoke_role(turn.uow, turn.member, role_id, turn.now)
        except (NotFound, NotAllowed, Outdated) as refused:
            turn.outcome.notice = refused.text
            return
        member = revoked.member
        name = Verbatim((member.full_name or member.display_name) if member else "")
        role, unit = ROLE_LABELS[revoked.role.kind], Verbatim(revoked.unit.name)
        turn.say(_("Revoked: {name} is no longer {role} of {unit}.", name=name, role=role,
                   unit=unit))  # fmt: skip
