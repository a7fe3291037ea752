"""A lease in the database: one holder at a time; it lapses unless renewed, and then any
other process may take it over.

One statement does it: insert the lease, or take it over when it is ours already or has
lapsed. Two processes racing for a lapsed lease both run it; the row lock makes the
second see the first's fresh expiry, so only one of them gets a row back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import LeaseRow, SendSecondRow
from storage.uow import SqlUnitOfWorkFactory

leases = cast(Table, LeaseRow.__table__)
_INSERT: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class Lease:
    """The lease ``name`` as seen by ``holder``."""

    def __init__(
        self,
        units_of_work: SqlUnitOfWorkFactory,
        name: str,
        holder: str,
        ttl: dt.timedelta,
        clock: Callable[[], dt.datetime],
    ) -> None:
        # Through units of work, so that on SQLite the lease shares the process's one
        # inline connection instead of contending with it for the file's lock.
        self._uow = units_of_work
        self._name = name
        self.holder = holder
        self._ttl = ttl
        self._clock = clock

    async def acquire(self) -> bool:
        """Take or renew the lease; False while another holder's has not lapsed."""
        now = self._clock()
        values = {"name": self._name, "holder": self.holder,
                  "expires_at": now + self._ttl, "acquired_at": now}  # fmt: skip
        async with self._uow() as uow:
            row = (await uow.execute(self._claim(values, now))).first()
            await uow.commit()
        return row is not None

    def _claim(self, values: dict[str, Any], now: dt.datetime) -> Any:
        insert = _INSERT[self._uow.dialect](leases).values(**values)
        ours = leases.c.holder == self.holder
        statement = insert.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={
                "holder": self.holder,
                "expires_at": values["expires_at"],
                # A renewal keeps the time it was first taken.
                "acquired_at": case(
                    (ours, leases.c.acquired_at), else_=insert.excluded.acquired_at
                ),
            },
            where=ours | (leases.c.expires_at < now),
        ).returning(leases.c.holder)
        return statement

    async def processes(self) -> int:
        """Mark this process alive for the lease's time, and count the live ones."""
        now = self._clock()
        values = {"name": self._process_name, "holder": self.holder, "expires_at": now + self._ttl,
                  "acquired_at": now}  # fmt: skip
        insert = _INSERT[self._uow.dialect](leases).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=[leases.c.name], set_={"expires_at": values["expires_at"]}
        )
        live = select(func.count()).where(leases.c.name.like("process:%"),
                                          leases.c.expires_at > now)  # fmt: skip
        async with self._uow() as uow:
            await uow.execute(statement)
            count = int((await uow.execute(live)).scalar_one())
            await uow.commit()
        return count

    @property
    def _process_name(self) -> str:
        return "process:" + hashlib.sha1(self.holder.encode()).hexdigest()[:24]

    async def release(self) -> None:
        """Give the lease up (a clean stop), so another process takes it at once, and stop
        counting as alive, so the others take this process's share of the sending (and a
        database copy does not mistake a stopped bot for a running one)."""
        mine = leases.c.name.in_([self._name, self._process_name])
        async with self._uow() as uow:
            await uow.execute(delete(leases).where(mine, leases.c.holder == self.holder))
            await uow.commit()

    async def current(self) -> str | None:
        """Who holds the lease now, if anyone."""
        async with self._uow() as uow:
            row = (
                await uow.execute(
                    select(leases.c.holder, leases.c.expires_at).where(leases.c.name == self._name)
                )
            ).first()
        if row is None or row.expires_at < self._clock():
            return None
        return str(row.holder)


send_seconds = cast(Table, SendSecondRow.__table__)
# Rows older than this are dropped by whoever opens a new second.
KEEP_SECONDS = 60


class SendCount:
    """Messages sent by all processes in each wall-clock second (PostgreSQL): the bot's
    Telegram limit is one, however many processes share it."""

    def __init__(
        self, units_of_work: SqlUnitOfWorkFactory, wall: Callable[[], float], processes: int = 1
    ) -> None:
        self._uow = units_of_work
        self._wall = wall
        # Live processes (bot.duty keeps it current): alone, a process counts nothing here.
        self.processes = processes

    async def claim(self, cap: int) -> float | None:
        """Count one message in this second if fewer than ``cap`` were counted; otherwise
        the seconds until the next second. Nothing to count while the process is alone."""
        if self.processes <= 1:
            return None
        now = self._wall()
        second = int(now)
        insert = postgresql.insert(send_seconds).values(second=second, used=1)
        statement = insert.on_conflict_do_update(
            index_elements=[send_seconds.c.second],
            set_={"used": send_seconds.c.used + 1},
            where=send_seconds.c.used < cap,
        ).returning(send_seconds.c.used)
        async with self._uow() as uow:
            row = (await uow.execute(statement)).first()
            if row is not None and row.used == 1:
                await uow.execute(
                    delete(send_seconds).where(send_seconds.c.second < second - KEEP_SECONDS)
                )
            await uow.commit()
        return None if row is not None else second + 1 - now
