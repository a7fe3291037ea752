"""How repositories run statements: awaited on PostgreSQL, inline on SQLite.

SQLite is a library, not a server. Through aiosqlite every statement is a hop to a
worker thread and back through the event loop's queue, and while one transaction
waits for its turn in a busy loop it holds SQLite's only write lock, so the whole bot
slows to the pace of the loop. Run inline, a dialog step's few statements take a
fraction of a millisecond and the transaction completes without ever yielding to the
loop, so transactions cannot interleave and one connection serves the process.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection, CursorResult, Dialect, Executable
from sqlalchemy.ext.asyncio import AsyncConnection


class Executor(Protocol):
    """What a repository needs of a connection."""

    @property
    def dialect(self) -> Dialect:
        """The database's dialect."""
        ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run a statement in the current transaction."""
        ...


class AwaitedExecutor:
    """Statements on an asyncio driver (asyncpg)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run a statement, yielding to the loop while the server works."""
        return await self._connection.execute(statement, parameters)


class InlineExecutor:
    """Statements on the embedded SQLite library, run in the event loop's thread."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.dialect = connection.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[Any]:
        """Run a statement at once; nothing here suspends the calling task."""
        return self._connection.execute(statement, parameters)
