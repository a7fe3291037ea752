"""Who holds which role where, and the operator's bootstrap of the first admins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Protocol

from domain.errors import InputError
from domain.model import Member, RoleKind, Unit
from domain.ports import HeldRole, RoleRepository, UnitOfWork, UnitOfWorkFactory, UnitRepository
from domain.text import Verbatim, _


class RoleScope(Protocol):
    """What telling a role's reach takes: the unit tree and the roles."""

    units: UnitRepository
    roles: RoleRepository


async def units_held(uow: RoleScope, member_id: int, kind: RoleKind) -> list[int]:
    """The units for which the member holds this role now."""
    return [r.unit_id for r in await uow.roles.of_member(member_id) if r.kind is kind]


async def covers(uow: RoleScope, unit_ids: Collection[int], unit: Unit) -> bool:
    """Whether the unit is one of these units or lies below one of them."""
    held = set(unit_ids)
    return bool(held) and any(u.id in held for u in await uow.units.path(unit))


async def _unit(uow: UnitOfWork, code: str) -> Unit:
    unit = await uow.units.by_code(code)
    if unit is None:
        raise InputError(_("There is no unit with the code “{code}”.", code=Verbatim(code)))
    return unit


async def grant_role(
    units_of_work: UnitOfWorkFactory,
    *,
    unit_code: str,
    channel: str,
    external_id: str,
    kind: RoleKind,
    now: dt.datetime,
    language: str = "vi",
) -> HeldRole:
    """Give a person a role for a unit; they need not have talked to the bot yet."""
    async with units_of_work() as uow:
        unit = await _unit(uow, unit_code)
        member = await uow.members.by_external_id(channel, external_id)
        if member is None:
            member = await uow.members.add(
                Member(id=0, channel=channel, external_id=external_id,
                       display_name=external_id, language=language),
                now,
            )  # fmt: skip
        role = await uow.roles.grant(member.id, unit.id, kind, None, now)
        await uow.commit()
    return HeldRole(role, member, unit)


async def revoke_role(
    units_of_work: UnitOfWorkFactory,
    *,
    unit_code: str,
    channel: str,
    external_id: str,
    kind: RoleKind,
    now: dt.datetime,
) -> bool:
    """End a person's role for a unit; False when they did not hold it."""
    async with units_of_work() as uow:
        unit = await _unit(uow, unit_code)
        member = await uow.members.by_external_id(channel, external_id)
        if member is None:
            return False
        revoked = await uow.roles.revoke(member.id, unit.id, kind, None, now)
        await uow.commit()
    return revoked


async def list_roles(units_of_work: UnitOfWorkFactory) -> list[HeldRole]:
    """Every role in force."""
    async with units_of_work() as uow:
        return await uow.roles.listing()
