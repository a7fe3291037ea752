"""A table's rows read in pages by primary key, and a checksum of them that SQLite and
PostgreSQL agree on: what ``storage.copying`` copies and verifies with."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    Table,
    Text,
    cast,
    func,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import JSON, TypeDecorator

from storage.models import Base

# The checksum is a sum of the rows' SHA-256 digests modulo 2**256: independent of the
# order the rows are read in, which for a text key follows each engine's collation.
_MODULUS = 1 << 256


def copied_tables() -> list[Table]:
    """The tables copied, parents before the tables that refer to them. Anything else in a
    database (alembic_version, a search index's shadow tables) is the migrations' to make."""
    return list(Base.metadata.sorted_tables)


def is_json(column: Any) -> bool:
    """Whether a column holds JSON: copied and compared as its text, so that SQL NULL and
    JSON null stay apart (reading through the JSON type makes both None)."""
    return isinstance(column.type, JSON)


def _selected(table: Table) -> list[ColumnElement[Any]]:
    """Every column; JSON ones as their stored text."""
    return [
        cast(column, Text).label(column.name) if is_json(column) else column
        for column in table.columns
    ]


def _page(table: Table, last: Sequence[Any] | None, size: int) -> Select[Any]:
    """The ``size`` rows after ``last`` in primary-key order: keyset paging, which reads
    each page through the key's index however far into the table it is."""
    key = list(table.primary_key.columns)
    statement = select(*_selected(table)).order_by(*key).limit(size)
    if last is None:
        return statement
    if len(key) == 1:
        return statement.where(key[0] > last[0])
    return statement.where(tuple_(*key) > tuple_(*last))


def key_positions(table: Table) -> list[int]:
    """Where the primary key's columns are in a row of ``_selected``."""
    names = [column.name for column in table.columns]
    return [names.index(column.name) for column in table.primary_key.columns]


async def pages(
    connection: AsyncConnection, table: Table, size: int
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The table's rows, ``size`` at a time, in primary-key order."""
    if not table.primary_key.columns:
        raise ValueError(f"{table.name} has no primary key to page by")
    positions = key_positions(table)
    last: list[Any] | None = None
    while True:
        rows = (await connection.execute(_page(table, last, size))).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = [rows[-1][i] for i in positions]


async def prefetched(
    source: AsyncIterator[Sequence[Sequence[Any]]], depth: int = 2
) -> AsyncIterator[Sequence[Sequence[Any]]]:
    """The same pages, the next ones read while the caller works on this one: the
    database fetches while Python sums and writes. At most ``depth`` pages wait."""
    waiting: asyncio.Queue[Sequence[Sequence[Any]] | None] = asyncio.Queue(maxsize=depth)

    async def read() -> None:
        async for page in source:
            await waiting.put(page)
        await waiting.put(None)

    reader = asyncio.create_task(read())
    try:
        while (page := await waiting.get()) is not None:
            yield page
        await reader
    finally:
        if not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def count_rows(connection: AsyncConnection, table: Table) -> int:
    """How many rows the table has."""
    return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


def _number(value: Decimal) -> str:
    """One text for one number: 1.50, 1.5 and 1.5E0 all read 1.5."""
    if not value.is_finite():
        return str(value)
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _moment(value: dt.datetime) -> str:
    """UTC, ISO; a naive value is UTC already (SQLite keeps no offset)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    elif value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.isoformat()


def _canonical(value: Any) -> Any:
    """One value in a form both engines give alike; None stays None."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, float):
        return _number(Decimal(repr(value)))
    if isinstance(value, dt.datetime):
        return _moment(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "x" + bytes(value).hex()
    return str(value)


def _json(value: str | None) -> str | None:
    """Stored JSON text, with its keys sorted and no spaces."""
    if value is None:
        return None
    return json.dumps(json.loads(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))  # fmt: skip


def _reader(column: Any) -> Callable[[Any], Any] | None:
    """How a column's value is made canonical; None where both engines give it alike
    already (text, integers, booleans), which is most columns and spares a call a value."""
    if is_json(column):
        return _json
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, (String, Integer, Boolean)):
        return None
    if isinstance(kind, DateTime):
        return _maybe_moment
    return _canonical


def _maybe_moment(value: dt.datetime | None) -> str | None:
    return None if value is None else _moment(value)


def row_digester(table: Table) -> Callable[[Sequence[Any]], int]:
    """A function giving a row's digest as a number, from its canonical text."""
    readers = [(i, read) for i, c in enumerate(table.columns) if (read := _reader(c)) is not None]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    sha256 = hashlib.sha256

    def digest(row: Sequence[Any]) -> int:
        values = list(row)
        for i, read in readers:
            values[i] = read(values[i])
        text = encode(values).encode("utf-8", "surrogatepass")
        return int.from_bytes(sha256(text).digest(), "big")

    return digest


class Checksum:
    """The running checksum of one table's rows."""

    def __init__(self, table: Table) -> None:
        self._digest = row_digester(table)
        self._sum = 0
        self.rows = 0

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Count these rows in."""
        total = self._sum
        for row in rows:
            total += self._digest(row)
        self._sum = total % _MODULUS
        self.rows += len(rows)

    @property
    def hex(self) -> str:
        """The checksum as 64 hex digits."""
        return f"{self._sum:064x}"


async def table_checksum(
    connection: AsyncConnection,
    table: Table,
    size: int,
    progress: Callable[[int], None] | None = None,
) -> Checksum:
    """Read the whole table and sum it."""
    checksum = Checksum(table)
    async for rows in prefetched(pages(connection, table, size)):
        checksum.add(rows)
        if progress is not None:
            progress(checksum.rows)
    return checksum
