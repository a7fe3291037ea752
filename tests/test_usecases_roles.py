"""Invitations and roles as plain calls, against the real repositories, without a chat."""

from __future__ import annotations

import datetime as dt
import typing

import pytest

from domain.errors import NotAllowed, NotFound, Outdated
from domain.invites import (
    INVITE_PREFIX,
    ROLE_NAMES,
    RoleName,
    accept_invitation,
    invite,
    revoke_role,
    roles_in_scope,
)
from domain.model import Member, RoleKind
from domain.ports import UnitOfWork
from domain.roles import grant_role, list_roles
from domain.roles import revoke_role as revoke_by_operator
from domain.text import Verbatim
from storage.uow import SqlUnitOfWorkFactory

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)
DISTRICT, COMPANY, ELSEWHERE = "HN-LB", "HN-LB-MAY10", "TH-KCN"


async def admin_of(units_of_work: SqlUnitOfWorkFactory, code: str, external_id: str) -> Member:
    """An admin appointed by the operator, as the CLI does."""
    granted = await grant_role(units_of_work, unit_code=code, channel="telegram",
                               external_id=external_id, kind=RoleKind.ADMIN, now=NOW)  # fmt: skip
    return granted.member


async def person(uow: UnitOfWork, external_id: str, name: str) -> Member:
    """Someone who has talked to the bot and holds no role."""
    return await uow.members.add(
        Member(id=0, channel="telegram", external_id=external_id, display_name=name,
               language="vi", full_name=name),
        NOW,
    )  # fmt: skip


async def unit_id(uow: UnitOfWork, code: str) -> int:
    unit = await uow.units.by_code(code)
    assert unit is not None
    return unit.id


async def roles_of(uow: UnitOfWork, member: Member) -> set[tuple[RoleKind, int]]:
    return {(role.kind, role.unit_id) for role in await uow.roles.of_member(member.id)}


def test_codes_carry_every_kind_of_role() -> None:
    assert set(typing.get_args(RoleName)) == {kind.value for kind in RoleKind}
    assert all(name == kind.value for kind, name in ROLE_NAMES.items())


async def test_an_invitation_grants_its_role_once_and_tells_the_inviter(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    admin = await admin_of(units_of_work, DISTRICT, "100")
    async with units_of_work() as uow:
        company = await unit_id(uow, COMPANY)
        newcomer, latecomer = await person(uow, "200", "Giang"), await person(uow, "300", "Hải")
        made = await invite(uow, admin, RoleKind.ADMIN, company, NOW, WEEK)
        await uow.commit()
    assert made.payload.startswith(INVITE_PREFIX) and made.unit.code == COMPANY
    assert made.expires_at == NOW + WEEK

    async with units_of_work() as uow:
        accepted = await accept_invitation(uow, newcomer, made.payload, NOW + dt.timedelta(hours=1))
        await uow.commit()
    assert accepted.role.kind is RoleKind.ADMIN and accepted.unit.code == COMPANY
    assert accepted.inviter.id == admin.id
    (told,) = accepted.notices.deliveries
    assert told.member.id == admin.id
    assert told.reply.text[0].msgid.startswith("{name} accepted your invitation")
    assert told.reply.text[0].args["name"] == Verbatim("Giang")

    async with units_of_work() as uow:
        with pytest.raises(Outdated, match="already been used"):
            await accept_invitation(uow, latecomer, made.payload, NOW + dt.timedelta(hours=2))
        assert await roles_of(uow, newcomer) == {(RoleKind.ADMIN, company)}
        assert await roles_of(uow, latecomer) == set()
        # Only the token's hash is kept: the link itself is nowhere in the database.
        assert await uow.invites.by_token_hash(made.payload[len(INVITE_PREFIX) :]) is None


async def test_invitations_stay_inside_the_admins_scope(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    admin = await admin_of(units_of_work, COMPANY, "100")
    async with units_of_work() as uow:
        above, elsewhere = await unit_id(uow, DISTRICT), await unit_id(uow, ELSEWHERE)
        company = await unit_id(uow, COMPANY)
        worker = await person(uow, "200", "Lan")
        for target in (above, elsewhere, 10**9):
            with pytest.raises(NotAllowed, match="your own units"):
                await invite(uow, admin, RoleKind.HELPER, target, NOW, WEEK)
        with pytest.raises(NotAllowed, match="your own units"):
            await invite(uow, worker, RoleKind.ADMIN, company, NOW, WEEK)
        with pytest.raises(NotAllowed, match="for union admins"):
            await roles_in_scope(uow, worker)
        own = (await roles_in_scope(uow, admin))[0].role
        with pytest.raises(NotAllowed, match="may not change"):
            await revoke_role(uow, worker, own.id, NOW)
        with pytest.raises(NotFound, match="may not change"):
            await revoke_role(uow, admin, 10**9, NOW)
        # Nothing was made by the refused calls: the admin's invitation is the first.
        made = await invite(uow, admin, RoleKind.HELPER, company, NOW, WEEK)
        assert made.unit.id == company


async def test_stale_tampered_and_orphaned_links_grant_nothing(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    admin = await admin_of(units_of_work, COMPANY, "100")
    async with units_of_work() as uow:
        company = await unit_id(uow, COMPANY)
        guest = await person(uow, "200", "Hạnh")
        expiring = await invite(uow, admin, RoleKind.ADMIN, company, NOW, WEEK)
        orphaned = await invite(uow, admin, RoleKind.HELPER, company, NOW, WEEK)
        await uow.commit()

    async with units_of_work() as uow:
        with pytest.raises(Outdated, match="expired"):
            await accept_invitation(uow, guest, expiring.payload, NOW + WEEK)
        tampered = expiring.payload[:-3] + ("AAA" if not expiring.payload.endswith("AAA") else "B")
        for payload in (tampered, INVITE_PREFIX, "HN-LB-MAY10", ""):
            with pytest.raises(NotFound, match="not valid"):
                await accept_invitation(uow, guest, payload, NOW)

    await revoke_by_operator(units_of_work, unit_code=COMPANY, channel="telegram",
                             external_id="100", kind=RoleKind.ADMIN, now=NOW)  # fmt: skip
    async with units_of_work() as uow:
        with pytest.raises(Outdated, match="no longer an admin"):
            await accept_invitation(uow, guest, orphaned.payload, NOW)
        assert await roles_of(uow, guest) == set()


async def test_an_admin_lists_and_revokes_the_roles_below(
    units_of_work: SqlUnitOfWorkFactory,
) -> None:
    admin = await admin_of(units_of_work, DISTRICT, "100")
    stranger = await admin_of(units_of_work, ELSEWHERE, "900")
    async with units_of_work() as uow:
        company = await unit_id(uow, COMPANY)
        helper = await person(uow, "200", "Minh")
        made = await invite(uow, admin, RoleKind.HELPER, company, NOW, WEEK)
        await accept_invitation(uow, helper, made.payload, NOW)
        await uow.commit()

    async with units_of_work() as uow:
        listed = await roles_in_scope(uow, admin)
        assert [(r.member.full_name or r.member.display_name, r.role.kind, r.unit.code)
                for r in listed] == [("100", RoleKind.ADMIN, DISTRICT),
                                     ("Minh", RoleKind.HELPER, COMPANY)]  # fmt: skip
        assert stranger.id not in {r.member.id for r in listed}, "another province's admin"
        with pytest.raises(NotAllowed, match="your own role"):
            await revoke_role(uow, admin, listed[0].role.id, NOW)
        with pytest.raises(NotAllowed, match="may not change"):
            await revoke_role(uow, stranger, listed[1].role.id, NOW)
        revoked = await revoke_role(uow, admin, listed[1].role.id, NOW + dt.timedelta(hours=1))
        assert revoked.member is not None and revoked.member.id == helper.id
        assert revoked.unit.code == COMPANY and revoked.role.kind is RoleKind.HELPER
        await uow.commit()

    async with units_of_work() as uow:
        with pytest.raises(Outdated, match="already revoked"):
            await revoke_role(uow, admin, listed[1].role.id, NOW + dt.timedelta(hours=2))
        assert await roles_of(uow, helper) == set()
        assert [r.member.id for r in await roles_in_scope(uow, admin)] == [admin.id]
    everyone = await list_roles(units_of_work)
    assert {(r.member.external_id, r.unit.code) for r in everyone} == {
        ("100", DISTRICT),
        ("900", ELSEWHERE),
    }
