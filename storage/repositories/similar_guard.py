"""The similar-initiative search, unable to spoil the transaction around it.

The search is a courtesy inside a dialog step (a hint) or a submission (the reviewer's
list). On PostgreSQL a statement that fails (a timeout, an index being rebuilt) aborts
the whole transaction: every later statement fails and the commit silently rolls back,
losing the member's answer. Run inside a savepoint, a failed search is undone alone and
its error still reaches the caller, which carries on without matches. SQLite keeps its
transaction after a failed statement: there the search runs as it is.
"""

from __future__ import annotations

from sqlalchemy import text

from domain.ports_similar import SimilarFound, SimilarQuery
from storage.repositories.similar import SqlSimilarInitiatives

_SAVEPOINT = "similar_find"


class GuardedSimilarInitiatives(SqlSimilarInitiatives):
    """``SqlSimilarInitiatives`` whose search fails without failing the transaction."""

    async def find(self, query: SimilarQuery) -> list[SimilarFound]:
        """The closest initiatives, as the index finds them; a failure is undone alone."""
        if self._db.dialect.name != "postgresql":
            return await super().find(query)
        await self._db.execute(text(f"SAVEPOINT {_SAVEPOINT}"))
        try:
            found = await super().find(query)
        except BaseException:
            await self._db.execute(text(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"))
            raise
        await self._db.execute(text(f"RELEASE SAVEPOINT {_SAVEPOINT}"))
        return found
