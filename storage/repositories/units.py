"""The unit tree: units, their paths and the closure of ancestors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, func, insert, or_, select, update

from domain.model import Unit
from domain.parsing import normalize_search
from domain.unit_import import UnitRecord
from storage.executor import Executor
from storage.repositories._base import _new_id, _unit, units


class SqlUnitRepository:
    """Units in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def get(self, unit_id: int) -> Unit | None:
        """A unit by id."""
        row = (await self._db.execute(select(units).where(units.c.id == unit_id))).first()
        return _unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        """A unit by its code, ignoring case."""
        row = (await self._db.execute(select(units).where(units.c.code == code))).first()
        if row is None:
            query = select(units).where(func.lower(units.c.code) == code.lower()).limit(1)
            row = (await self._db.execute(query)).first()
        return _unit(row) if row else None

    async def path(self, unit: Unit) -> list[Unit]:
        """The unit and its ancestors, nearest first."""
        path = [unit]
        seen = {unit.id}
        while path[-1].parent_id is not None and path[-1].parent_id not in seen:
            parent = await self.get(path[-1].parent_id)
            if parent is None:
                break
            seen.add(parent.id)
            path.append(parent)
        return path

    async def search_grassroots(self, terms: Sequence[str], limit: int) -> tuple[list[Unit], int]:
        """Grassroots units whose name or path contains every term, and how many match."""
        condition = and_(
            units.c.level == "grassroots",
            *(units.c.search_text.contains(term, autoescape=True) for term in terms),
        )
        count = select(func.count()).select_from(units).where(condition)
        total = (await self._db.execute(count)).scalar_one()
        # Units whose own name carries the first term come first.
        first = terms[0] if terms else ""
        own_name_first = or_(
            units.c.search_text.startswith(first, autoescape=True),
            units.c.search_text.contains(" " + first, autoescape=True),
        )
        rows = await self._db.execute(
            select(units)
            .where(condition)
            .order_by(own_name_first.desc(), func.length(units.c.name), units.c.name)
            .limit(limit)
        )
        return [_unit(row) for row in rows], total

    async def parents_by_code(self) -> dict[str, str | None]:
        """Every unit code with its parent's code."""
        parent = units.alias("parent")
        rows = await self._db.execute(
            select(units.c.code, parent.c.code.label("parent_code")).outerjoin(
                parent, parent.c.id == units.c.parent_id
            )
        )
        return {row.code: row.parent_code for row in rows}

    async def import_records(
        self, records: Sequence[UnitRecord], now: dt.datetime
    ) -> tuple[int, bool]:
        """Insert or update units given parents first; return how many were new and
        whether an existing unit moved to another parent."""
        rows = (await self._db.execute(select(units))).all()
        ids = {row.code: row.id for row in rows}
        names = {row.code: row.name for row in rows}
        parent_ids = {row.code: row.parent_id for row in rows}
        texts = {row.code: row.search_text for row in rows}
        added = 0
        moved = False
        for record in records:
            values = {
                "name": record.name,
                "level": record.level.value,
                "parent_id": ids[record.parent_code] if record.parent_code else None,
                "updated_at": now,
            }
            if record.code in ids:
                moved = moved or parent_ids[record.code] != values["parent_id"]
                await self._db.execute(
                    update(units).where(units.c.id == ids[record.code]).values(values)
                )
            else:
                result = await self._db.execute(
                    insert(units).values(code=record.code, search_text="", **values)
                )
                ids[record.code] = _new_id(result)
                texts[record.code] = ""
                added += 1
            names[record.code] = record.name
            parent_ids[record.code] = values["parent_id"]
        # Search covers a unit's own name and its ancestors' names ("thanh hoa" finds units
        # under LĐLĐ tỉnh Thanh Hóa), so every unit's text is refreshed after an import.
        codes = {unit_id: code for code, unit_id in ids.items()}
        for code, unit_id in ids.items():
            chain, parent_id, seen = [names[code]], parent_ids[code], {code}
            while parent_id is not None and codes[parent_id] not in seen:
                seen.add(codes[parent_id])
                chain.append(names[codes[parent_id]])
                parent_id = parent_ids[codes[parent_id]]
            text = normalize_search(" | ".join(chain))
            if texts[code] != text:
                await self._db.execute(
                    update(units).where(units.c.id == unit_id).values(search_text=text)
                )
        return added, moved

    async def children(self, unit_id: int, limit: int) -> list[Unit]:
        """Units directly below, by name."""
        rows = await self._db.execute(
            select(units).where(units.c.parent_id == unit_id).order_by(units.c.name).limit(limit)
        )
        return [_unit(row) for row in rows]

    async def grassroots(self) -> list[Unit]:
        """Every grassroots unit, by code."""
        rows = await self._db.execute(
            select(units).where(units.c.level == "grassroots").order_by(units.c.code)
        )
        return [_unit(row) for row in rows]
