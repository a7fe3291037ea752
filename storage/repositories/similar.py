"""The index of submitted initiatives' folded titles and solutions, and the matches kept
at each submission.

The folded columns are filled only while an initiative is pending, returned or approved
(``similar_values``, used by every write of an initiative), so drafts and what was
turned down are never found.

Candidates: in a scope the size of a district (the hint's and the card's), the engine
reads the scope's folded titles from their own index and keeps those holding enough of
the query's key words (``domain.similarity.key_words``: the same expression on both
engines, so both propose the same); in a province or the whole country, the engine's
trigram index (pg_trgm, FTS5) proposes the best ranked. ``domain.similarity.score``
alone decides, on both engines, reading a candidate's solution only when its title is
alike enough for the solution to count.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import Any, cast

from sqlalchemy import (
    Float,
    Integer,
    Table,
    case,
    column,
    delete,
    func,
    insert,
    or_,
    select,
    text,
)

from domain.model import InitiativeStatus
from domain.ports_similar import SimilarFound, SimilarQuery
from domain.similarity import (
    SAME_SOLUTION,
    Probe,
    fold_solution,
    fold_title,
    key_words,
    needs_solution,
    probe,
    score,
    title_score,
    words_needed,
)
from storage.executor import Executor
from storage.models_similar import FTS_TABLE, InitiativeSimilarRow
from storage.repositories._base import ancestors, counts, initiatives

similars = cast(Table, InitiativeSimilarRow.__table__)

FOUND = (InitiativeStatus.PENDING, InitiativeStatus.RETURNED, InitiativeStatus.APPROVED)
_FOUND_VALUES = [status.value for status in FOUND]
# From this many findable initiatives in the scope (a province, the country: by the
# running figures), the engine's trigram index proposes candidates; below, the scope's
# folded titles are read from their index and checked for the query's key words first
# (tests lower it).
LARGE_SCOPE = 100_000
# How many candidates the trigram index proposes for scoring.
CANDIDATES = 300
# How many of a district's initiatives holding the most of the query's key words are
# scored (a near-duplicate holds nearly all of them).
SCOPE_CANDIDATES = 200
# The engines' similarity is computed in single precision: candidates a hair below the
# threshold are proposed too, and the score decides.
_MARGIN = 0.02
# Ids per statement when the solutions of the candidates are read.
_CHUNK = 500
_SAVEPOINT = "similar_find"


def similar_values(status: InitiativeStatus | str, title: str | None, solution: str | None
                   ) -> dict[str, str]:  # fmt: skip
    """The folded columns for an initiative in this status with these texts: empty
    unless it is pending, returned or approved."""
    if InitiativeStatus(status) not in FOUND:
        return {"similar_title": "", "similar_solution": ""}
    return {"similar_title": fold_title(title), "similar_solution": fold_solution(solution)}


def _indexed() -> Any:
    return or_(initiatives.c.similar_title != "", initiatives.c.similar_solution != "")


def _in_scope(within: int) -> Any:
    return initiatives.c.unit_id.in_(
        select(ancestors.c.unit_id).where(ancestors.c.ancestor_id == within)
    )


def _inner_trigrams(folded: str) -> list[str]:
    """The three-letter pieces inside the words (what FTS5's trigram tokens hold)."""
    pieces = {word[i : i + 3] for word in folded.split() for i in range(len(word) - 2)}
    return sorted(pieces)


def _any_of(name: str, pieces: Sequence[str]) -> str:
    """An FTS5 query for rows whose column holds any of the pieces (letters only)."""
    return f"{name}: (" + " OR ".join(f'"{piece}"' for piece in pieces) + ")"


def _found(row: Any, value: float, titles: float | None = None) -> SimilarFound:
    return SimilarFound(
        initiative_id=row.id, title=row.title or "", status=InitiativeStatus(row.status),
        unit_id=row.unit_id, author_id=row.author_id, entered_by_id=row.entered_by_id,
        confidential=bool(row.confidential), updated_at=row.updated_at, score=value,
        title_score=titles,
    )  # fmt: skip


_SHOWN = (
    initiatives.c.id, initiatives.c.title, initiatives.c.status, initiatives.c.unit_id,
    initiatives.c.author_id, initiatives.c.entered_by_id, initiatives.c.confidential,
    initiatives.c.updated_at,
)  # fmt: skip


class SqlSimilarInitiatives:
    """Similar initiatives in SQL."""

    def __init__(self, connection: Executor) -> None:
        self._db = connection

    async def find(self, query: SimilarQuery) -> list[SimilarFound]:
        """The closest initiatives at or above the threshold, closest first, ties newest
        first. The search is a courtesy inside a dialog step (a hint) or a submission (the
        reviewer's list): on PostgreSQL, where a failed statement aborts the whole
        transaction and the commit would silently lose the member's answer, it runs in a
        savepoint, so that a failure is undone alone and its error reaches the caller,
        which carries on without matches. SQLite keeps its transaction after a failed
        statement."""
        if self._db.dialect.name != "postgresql":
            return await self._find(query)
        await self._db.execute(text(f"SAVEPOINT {_SAVEPOINT}"))
        try:
            found = await self._find(query)
        except BaseException:
            await self._db.execute(text(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"))
            raise
        await self._db.execute(text(f"RELEASE SAVEPOINT {_SAVEPOINT}"))
        return found

    async def _find(self, query: SimilarQuery) -> list[SimilarFound]:
        wanted = probe(query.title, query.solution, query.rules.fields)
        if wanted.empty or query.limit <= 0:
            return []
        if await self._findable(query.within) >= LARGE_SCOPE:
            rows = {row.id: (row.similar_title, row.similar_solution)
                    for row in await self._proposed(query, wanted)}  # fmt: skip
        else:
            rows = await self._scope_rows(query, wanted)
            if query.same_solution_in is not None and wanted.solution is not None:
                rows |= await self._scope_rows(  # with their solutions, already read
                    query, wanted, on_title=False, share=SAME_SOLUTION,
                    within=query.same_solution_in,
                )  # fmt: skip
        rows.pop(query.exclude or 0, None)
        titles, scored = await self._scored(wanted, rows)
        best = sorted(
            ((value, row_id) for row_id, value in scored.items() if value >= query.rules.threshold),
            key=lambda p: (-p[0], -p[1]),
        )
        best = best[: query.limit]  # fmt: skip
        if not best:
            return []
        details = {
            row.id: row
            for row in await self._db.execute(
                select(*_SHOWN).where(initiatives.c.id.in_([row_id for _, row_id in best]))
            )
        }
        return [_found(details[row_id], value, titles[row_id]) for value, row_id in best
                if row_id in details]  # fmt: skip

    async def _scored(
        self, wanted: Probe, rows: dict[int, tuple[str, str | None]]
    ) -> tuple[dict[int, float | None], dict[int, float]]:
        """Each candidate's titles' similarity and score; solutions not read yet (None)
        are read only for the candidates whose titles are alike enough for them to
        count."""
        titles = {row_id: title_score(wanted, title) for row_id, (title, _s) in rows.items()}
        unread = sorted(
            row_id
            for row_id, (_t, solution) in rows.items()
            if solution is None and needs_solution(wanted, titles[row_id])
        )
        solutions = {row_id: solution or "" for row_id, (_t, solution) in rows.items()}
        for start in range(0, len(unread), _CHUNK):
            solutions.update((row.id, row.similar_solution) for row in await self._db.execute(
                select(initiatives.c.id, initiatives.c.similar_solution)
                .where(initiatives.c.id.in_(unread[start : start + _CHUNK]))))  # fmt: skip
        return titles, {row_id: score(wanted, title, solutions[row_id], titles[row_id])
                        for row_id, (title, _s) in rows.items()}  # fmt: skip

    async def _findable(self, within: int) -> int:
        """About how many findable initiatives the scope holds (the running figures of
        every phase: what is outside any phase is not counted)."""
        found = counts.c.approved + counts.c.pending + counts.c.returned
        total = await self._db.execute(
            select(func.coalesce(func.sum(found), 0)).where(counts.c.unit_id == within)
        )
        return int(total.scalar_one())

    async def _scope_rows(
        self,
        query: SimilarQuery,
        wanted: Probe,
        *,
        on_title: bool = True,
        share: float | None = None,
        within: int | None = None,
    ) -> dict[int, tuple[str, str | None]]:
        """The scope's findable initiatives holding enough of the query's key words
        (checked by the engine on the folded titles, read from their index alone; on the
        solutions when only they are compared, or ``on_title`` is False): folded title and
        solution by id, the solution None when not read yet. ``share``: how alike they
        must be, the threshold unless said; ``within``: the scope, the
        query's unless said."""
        on_title = on_title and wanted.title is not None
        column = initiatives.c.similar_title if on_title else initiatives.c.similar_solution
        key = key_words(fold_title(query.title) if on_title else fold_solution(query.solution))
        needed = words_needed(key, query.rules.threshold if share is None else share)
        conditions = [_in_scope(query.within if within is None else within), column != ""]
        order: list[Any] = []
        if needed:
            find = func.instr if self._db.dialect.name == "sqlite" else func.strpos
            held = reduce(operator.add, [case((find(column, word) > 0, 1), else_=0)
                                         for word in key])  # fmt: skip
            conditions.append(held >= needed)
            # Only those holding the most key words are read and scored: reading and
            # scoring every title that holds a few common words is what took the time.
            order = [held.desc(), initiatives.c.id.desc()]
        if self._db.dialect.name == "postgresql":
            # The plan's cost, a scan of a large scope's index, would have it compiled
            # first (JIT): tens of milliseconds spent for a few saved. And asyncpg keeps
            # the statement prepared: after five runs PostgreSQL may switch to a generic
            # plan, blind to the scope's size, that took 130 ms where the custom one
            # takes 30.
            await self._db.execute(select(
                func.set_config("jit", "off", True),
                func.set_config("plan_cache_mode", "force_custom_plan", True),
            ))  # fmt: skip
        if on_title:
            rows = await self._db.execute(
                select(initiatives.c.id, initiatives.c.similar_title)
                .where(*conditions)
                .order_by(*order)
                .limit(SCOPE_CANDIDATES)
            )
            return {row.id: (row.similar_title, None) for row in rows}
        rows = await self._db.execute(select(
            initiatives.c.id, initiatives.c.similar_title, initiatives.c.similar_solution
        ).where(*conditions).order_by(*order).limit(SCOPE_CANDIDATES))  # fmt: skip
        return {row.id: (row.similar_title, row.similar_solution) for row in rows}

    async def _proposed(self, query: SimilarQuery, wanted: Probe) -> Iterable[Any]:
        """Candidates of the scope from the engine's trigram index."""
        title = fold_title(query.title) if wanted.title is not None else ""
        solution = fold_solution(query.solution) if wanted.solution is not None else ""
        if self._db.dialect.name == "sqlite":
            return await self._proposed_sqlite(query, title, solution)
        return await self._proposed_postgres(query, title, solution)

    async def _proposed_postgres(self, query: SimilarQuery, title: str, solution: str
                                 ) -> Iterable[Any]:  # fmt: skip
        """pg_trgm: those whose title or solution alone reaches the threshold (the mean
        of both cannot be higher than the higher one), the closest first."""
        floor = max(0.05, query.rules.threshold - _MARGIN)
        await self._db.execute(
            select(func.set_config("pg_trgm.similarity_threshold", str(floor), True))
        )
        near: list[Any] = []
        closeness: list[Any] = []
        for kept, folded in ((initiatives.c.similar_title, title),
                               (initiatives.c.similar_solution, solution)):  # fmt: skip
            if folded:
                near.append((kept != "") & kept.op("%")(folded))
                closeness.append(func.similarity(kept, folded))
        return await self._db.execute(
            select(initiatives.c.id, initiatives.c.similar_title, initiatives.c.similar_solution)
            .where(or_(*near), _in_scope(query.within),
                   initiatives.c.status.in_(_FOUND_VALUES))
            .order_by(func.greatest(*closeness).desc() if len(closeness) > 1
                      else closeness[0].desc())
            .limit(CANDIDATES)
        )  # fmt: skip

    async def _proposed_sqlite(self, query: SimilarQuery, title: str, solution: str
                               ) -> Iterable[Any]:  # fmt: skip
        """FTS5: those sharing pieces of words with the title or solution, best ranked
        first (bm25), within the scope."""
        terms = [_any_of(column, pieces)
                 for column, pieces in (("similar_title", _inner_trigrams(title)),
                                        ("similar_solution", _inner_trigrams(solution)))
                 if pieces]  # fmt: skip
        if not terms:
            return []
        fts = (
            text(f"SELECT rowid AS id, rank FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match")
            .columns(column("id", Integer), column("rank", Float))
            .subquery("fts")
        )
        return await self._db.execute(
            select(initiatives.c.id, initiatives.c.similar_title, initiatives.c.similar_solution)
            .join(fts, fts.c.id == initiatives.c.id)
            .where(_in_scope(query.within), initiatives.c.status.in_(_FOUND_VALUES))
            .order_by(fts.c.rank)
            .limit(CANDIDATES),
            {"match": " OR ".join(terms)},
        )

    async def record(self, initiative_id: int, version: int,
                     found: Sequence[SimilarFound]) -> None:  # fmt: skip
        """Keep what was found when this version was submitted, replacing what an
        earlier version found."""
        await self._db.execute(delete(similars).where(similars.c.initiative_id == initiative_id))
        rows = {match.initiative_id: match for match in found
                if match.initiative_id != initiative_id}  # fmt: skip
        if rows:
            await self._db.execute(insert(similars), [
                {"initiative_id": initiative_id, "similar_id": match.initiative_id,
                 "version": version, "score": match.score} for match in rows.values()
            ])  # fmt: skip

    async def recorded(self, initiative_ids: Sequence[int]) -> dict[int, list[SimilarFound]]:
        """For each initiative, the matches kept at its last submission and those that
        found it at theirs, still pending, returned or approved, closest first."""
        wanted = set(initiative_ids)
        result: dict[int, list[SimilarFound]] = {i: [] for i in wanted}
        if not wanted:
            return result
        pairs: dict[tuple[int, int], float] = {}
        rows = await self._db.execute(
            select(similars.c.initiative_id, similars.c.similar_id, similars.c.score).where(
                or_(similars.c.initiative_id.in_(wanted), similars.c.similar_id.in_(wanted))
            )
        )
        for row in rows:
            for mine, other in ((row.initiative_id, row.similar_id),
                                (row.similar_id, row.initiative_id)):  # fmt: skip
                if mine in wanted:
                    key = (mine, other)
                    pairs[key] = max(pairs.get(key, 0.0), float(row.score))
        others = {other for _, other in pairs}
        if not others:
            return result
        live = {row.id: row for row in await self._db.execute(
            select(*_SHOWN).where(initiatives.c.id.in_(others),
                                  initiatives.c.status.in_(_FOUND_VALUES))
        )}  # fmt: skip
        for (mine, other), value in pairs.items():
            if other in live:
                result[mine].append(_found(live[other], value))
        for matches in result.values():
            matches.sort(key=lambda m: (-m.score, -m.initiative_id))
        return result

    async def forget(self, initiative_ids: Sequence[int]) -> None:
        """Matches of these initiatives, either way, go (their texts were erased, or
        they are deleted)."""
        if initiative_ids:
            await self._db.execute(delete(similars).where(
                or_(similars.c.initiative_id.in_(initiative_ids),
                    similars.c.similar_id.in_(initiative_ids))
            ))  # fmt: skip
