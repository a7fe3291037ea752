"""Use cases on the unit tree: importing it from a file, listing grassroots units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.model import Unit
from domain.ports import UnitOfWorkFactory
from domain.unit_import import decode_units_csv, parse_units_csv


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import changed."""

    total: int
    added: int

    @property
    def updated(self) -> int:
        """Units that existed before and were refreshed."""
        return self.total - self.added


async def import_units(
    units_of_work: UnitOfWorkFactory, data: bytes, now: dt.datetime
) -> ImportReport:
    """Import a unit CSV all or nothing; raises UnitImportError listing every problem."""
    content = decode_units_csv(data)
    async with units_of_work() as uow:
        records = parse_units_csv(content, await uow.units.parents_by_code())
        added, moved = await uow.units.import_records(records, now)
        await uow.progress.rebuild_closure()
        if moved:
            # A unit under another parent changes every roll-up above both places.
            await uow.progress.rebuild_counts()
        await uow.commit()
    return ImportReport(total=len(records), added=added)


async def grassroots_units(units_of_work: UnitOfWorkFactory) -> list[Unit]:
    """Every grassroots unit, for deep links and posters."""
    async with units_of_work() as uow:
        return await uow.units.grassroots()
