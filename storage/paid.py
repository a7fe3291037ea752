"""Messages sent as paid broadcasts, counted by day in the database: every process of the
bot, and the one after a restart, spends from the same daily cap."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import PaidSendDayRow
from storage.uow import SqlUnitOfWorkFactory

paid_days = cast(Table, PaidSendDayRow.__table__)
_INSERT: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


class PaidSends:
    """The ledger of paid messages by day (``handlers.telegram.paid.SpendLedger``)."""

    def __init__(self, units_of_work: SqlUnitOfWorkFactory) -> None:
        # Through units of work, so that on SQLite it shares the process's one connection.
        self._uow = units_of_work

    async def paid_on(self, day: dt.date) -> int:
        """Messages sent paid that day."""
        async with self._uow() as uow:
            row = (await uow.execute(
                select(paid_days.c.messages).where(paid_days.c.day == day)
            )).first()  # fmt: skip
        return int(row.messages) if row is not None else 0

    async def add(self, day: dt.date, count: int) -> None:
        """Count ``count`` more messages sent paid that day, in one statement (processes
        adding at once both count)."""
        insert = _INSERT[self._uow.dialect](paid_days).values(day=day, messages=count)
        statement = insert.on_conflict_do_update(
            index_elements=[paid_days.c.day],
            set_={"messages": paid_days.c.messages + insert.excluded.messages},
        )
        async with self._uow() as uow:
            await uow.execute(statement)
            await uow.commit()
