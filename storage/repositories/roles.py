"""Roles people hold for units, and the invitations that grant them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update

from domain.model import Invite, Member, Role, RoleKind
from domain.ports import HeldRole
from storage.executor import Executor
from storage.repositories._base import _member, _new_id, _unit, invites, members, roles, units


def _role(row: Row[Any]) -> Role:
    return Role(
        id=row.id,
        member_id=row.member_id,
        unit_id=row.unit_id,
        kind=RoleKind(row.kind),
        granted_at=row.granted_at,
        granted_by_id=row.granted_by_id,
        revoked_at=row.revoked_at,
    )


class SqlRoleRepository:
    """Roles in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def grant(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> Role:
        """Give a role, or return it if the member holds it already."""
        current = await self._active(member_id, unit_id, kind)
        if current is not None:
            return current
        values = {
            "member_id": member_id,
            "unit_id": unit_id,
            "kind": kind.value,
            "granted_by_id": by,
            "granted_at": now,
        }
        result = await self._db.execute(insert(roles), values)
        return Role(id=_new_id(result), member_id=member_id, unit_id=unit_id, kind=kind,
                    granted_at=now, granted_by_id=by)  # fmt: skip

    async def _active(self, member_id: int, unit_id: int, kind: RoleKind) -> Role | None:
        row = (
            await self._db.execute(
                select(roles).where(
                    roles.c.member_id == member_id,
                    roles.c.unit_id == unit_id,
                    roles.c.kind == kind.value,
                    roles.c.revoked_at.is_(None),
                )
            )
        ).first()
        return _role(row) if row else None

    async def revoke(
        self, member_id: int, unit_id: int, kind: RoleKind, by: int | None, now: dt.datetime
    ) -> bool:
        """End a role; False when the member did not hold it."""
        result = await self._db.execute(
            update(roles)
            .where(
                roles.c.member_id == member_id,
                roles.c.unit_id == unit_id,
                roles.c.kind == kind.value,
                roles.c.revoked_at.is_(None),
            )
            .values(revoked_at=now, revoked_by_id=by)
        )
        return bool(result.rowcount)

    async def of_member(self, member_id: int) -> list[Role]:
        """The member's roles in force."""
        rows = await self._db.execute(
            select(roles).where(roles.c.member_id == member_id, roles.c.revoked_at.is_(None))
        )
        return [_role(row) for row in rows]

    async def ever_held(self, member_id: int, kind: RoleKind) -> bool:
        """Whether the member holds or once held a role of this kind."""
        held = select(roles.c.id).where(roles.c.member_id == member_id, roles.c.kind == kind.value)
        return (await self._db.execute(held.limit(1))).first() is not None

    async def holders(self, unit_ids: Sequence[int], kind: RoleKind) -> dict[int, list[Member]]:
        """Members holding a role in force for each of these units."""
        result: dict[int, list[Member]] = {unit_id: [] for unit_id in unit_ids}
        if not unit_ids:
            return result
        rows = await self._db.execute(
            select(members, roles.c.unit_id.label("role_unit_id"))
            .join(roles, roles.c.member_id == members.c.id)
            .where(
                roles.c.unit_id.in_(set(unit_ids)),
                roles.c.kind == kind.value,
                roles.c.revoked_at.is_(None),
            )
            .order_by(roles.c.id)
        )
        for row in rows:
            result[row.role_unit_id].append(_member(row))
        return result

    async def get(self, role_id: int) -> Role | None:
        """A role by id, in force or not."""
        row = (await self._db.execute(select(roles).where(roles.c.id == role_id))).first()
        return _role(row) if row else None

    async def in_subtrees(self, roots: Sequence[int]) -> list[HeldRole]:
        """Roles in force for the units in the subtrees of ``roots``."""
        tree = select(units.c.id).where(units.c.id.in_(set(roots))).cte("tree", recursive=True)
        tree = tree.union_all(select(units.c.id).where(units.c.parent_id == tree.c.id))
        return await self.listing(roles.c.unit_id.in_(select(tree.c.id)))

    async def listing(self, condition: Any = None) -> list[HeldRole]:
        """Every role in force, with its member and unit."""
        query = select(roles).where(roles.c.revoked_at.is_(None)).order_by(roles.c.id)
        if condition is not None:
            query = query.where(condition)
        rows = (await self._db.execute(query)).all()
        people = {
            row.id: _member(row)
            for row in await self._db.execute(
                select(members).where(members.c.id.in_({r.member_id for r in rows}))
            )
        }
        places = {
            row.id: _unit(row)
            for row in await self._db.execute(
                select(units).where(units.c.id.in_({r.unit_id for r in rows}))
            )
        }
        return [HeldRole(_role(r), people[r.member_id], places[r.unit_id]) for r in rows]


def _invite(row: Row[Any]) -> Invite:
    return Invite(
        id=row.id,
        token_hash=row.token_hash,
        kind=RoleKind(row.kind),
        unit_id=row.unit_id,
        created_by_id=row.created_by_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_by_id=row.used_by_id,
        used_at=row.used_at,
    )


class SqlInviteRepository:
    """Invitations in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def add(self, invite: Invite) -> Invite:
        """Store a new invitation and return it with its id."""
        result = await self._db.execute(
            insert(invites),
            {
                "token_hash": invite.token_hash,
                "kind": invite.kind.value,
                "unit_id": invite.unit_id,
                "created_by_id": invite.created_by_id,
                "created_at": invite.created_at,
                "expires_at": invite.expires_at,
            },
        )
        invite.id = _new_id(result)
        return invite

    async def by_token_hash(self, token_hash: str) -> Invite | None:
        """The invitation with this token."""
        query = select(invites).where(invites.c.token_hash == token_hash)
        row = (await self._db.execute(query)).first()
        return _invite(row) if row else None

    async def use(self, invite_id: int, member_id: int, now: dt.datetime) -> bool:
        """Mark the invitation used; False when it was used already."""
        result = await self._db.execute(
            update(invites)
            .where(invites.c.id == invite_id, invites.c.used_at.is_(None))
            .values(used_by_id=member_id, used_at=now)
        )
        return bool(result.rowcount == 1)
