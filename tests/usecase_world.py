"""The example unit tree in a database, for use-case tests that need no chat."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from domain.model import CountChange, Member, Phase, RoleKind, Unit
from domain.progress import add_phase
from storage.db import create_engine
from storage.uow import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.conftest import seed_units

NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 22)


class World:
    """The example unit tree in a database, and people acting in it."""

    def __init__(self, units_of_work: SqlUnitOfWorkFactory) -> None:
        self.units_of_work = units_of_work
        self._next = 0

    async def unit(self, code: str) -> Unit:
        """A unit by its code."""
        async with self.units_of_work() as uow:
            unit = await uow.units.by_code(code)
        assert unit is not None, code
        return unit

    async def person(self, unit: str | None = None, admin_of: str | None = None) -> Member:
        """A member of a grassroots unit, or nobody's; an admin of a unit if asked."""
        self._next += 1
        async with self.units_of_work() as uow:
            at = await uow.units.by_code(unit) if unit else None
            member = await uow.members.add(
                Member(id=0, channel="telegram", external_id=str(9000 + self._next),
                       display_name="Người", language="vi", full_name="Nguyễn Văn A",
                       unit_id=at.id if at else None),
                NOW,
            )  # fmt: skip
            if admin_of is not None:
                held = await uow.units.by_code(admin_of)
                assert held is not None
                await uow.roles.grant(member.id, held.id, RoleKind.ADMIN, None, NOW)
            await uow.commit()
        return member

    async def phase(self, starts: dt.date = dt.date(2026, 1, 1)) -> Phase:
        """Phase 1, to the end of 2026."""
        return await add_phase(self.units_of_work, "GD1", "Giai đoạn 1", starts,
                               dt.date(2026, 12, 31), 300_000)  # fmt: skip

    async def figures(
        self, phase: Phase, approved: dict[str, int], targets: dict[str, int]
    ) -> None:
        """Approved initiatives in grassroots units (counted up the tree), and targets."""
        async with self.units_of_work() as uow:
            for code, count in approved.items():
                unit = await uow.units.by_code(code)
                assert unit is not None
                await uow.progress.change(unit.id, phase.id, CountChange(approved=count))
            wanted = []
            for code, target in targets.items():
                unit = await uow.units.by_code(code)
                assert unit is not None
                wanted.append((unit.id, phase.id, target))
            await uow.progress.set_targets(wanted, NOW)
            await uow.commit()

    def session(self) -> SqlUnitOfWork:
        """A unit of work over the database."""
        return self.units_of_work()


@asynccontextmanager
async def open_world(database_url: str) -> AsyncIterator[World]:
    """The example units imported, and a unit of work factory over them."""
    await seed_units(database_url)
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        yield World(units_of_work)
    finally:
        units_of_work.dispose()
        await engine.dispose()
