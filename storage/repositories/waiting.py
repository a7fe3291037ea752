"""How the review queue reaches what waits at national scale: by the scope's size, either a
walk of every pending initiative in the order of submission, each checked against the
closure of units, or the scope's own reached through its units and sorted; a narrowed
queue is counted only so far."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.sql.expression import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from domain.model import InitiativeStatus
from domain.ports import PendingFilter
from storage.executor import Executor
from storage.repositories._base import ancestors, counts, initiatives, units

# Pending, in the very words of the queue's partial indexes (migration 0022): SQLite uses a
# partial index only for a query that repeats its WHERE, and a bound parameter would hide
# the value from either engine's planner.
PENDING = initiatives.c.status == literal_column(f"'{InitiativeStatus.PENDING.value}'")
ORDER = (initiatives.c.submitted_at, initiatives.c.id)
# The queue's indexes, each holding what waits: in the order of submission; by kind and
# field, then in order; by unit, then in order.
IN_ORDER = "ix_initiatives_pending_submitted"
BY_KIND = "ix_initiatives_pending_kind"
BY_UNIT = "ix_initiatives_pending_unit"
# A walk in order narrowed by a kind or field (not leading its index) finds about one
# initiative of them in this many.
FILTERED_SHARE = 10


@dataclass(frozen=True, slots=True)
class Scope:
    """Where the queue looks: the outermost units asked for, whether they hold the whole
    tree, and how many wait there and everywhere (the running figures)."""

    tops: list[int]
    whole: bool
    waiting: int
    everywhere: int


def narrowed(only: PendingFilter | None, column: Callable[[Any], Any] = lambda c: c) -> list[Any]:
    """The conditions a filter of the review queue adds (on each column as ``column``
    gives it)."""
    if only is None:
        return []
    conditions: list[Any] = []
    if only.kind is not None:
        conditions.append(column(initiatives.c.kind) == only.kind.value)
    if only.field is not None:
        conditions.append(column(initiatives.c.field) == only.field.value)
    if only.submitted_before is not None:
        conditions.append(column(initiatives.c.submitted_at) <= only.submitted_before)
    return conditions


async def outermost(db: Executor, roots: Sequence[int]) -> list[int]:
    """The roots not below another of them, so no subtree is counted twice."""
    wanted = set(roots)
    if len(wanted) < 2:
        return list(wanted)
    below = await db.execute(
        select(ancestors.c.unit_id).where(
            ancestors.c.unit_id.in_(wanted), ancestors.c.ancestor_id.in_(wanted),
            ancestors.c.depth > 0)
    )  # fmt: skip
    return sorted(wanted - {row.unit_id for row in below})


def _in_tree(tops: Sequence[int]) -> Any:
    return initiatives.c.unit_id.in_(
        select(ancestors.c.unit_id).where(ancestors.c.ancestor_id.in_(tops))
    )


async def waiting_under(db: Executor, tops: Sequence[int], whole: bool = False) -> int:
    """How many wait in the subtrees of ``tops`` (``whole``: they hold every unit): from
    the running figures of every phase, and what waits outside any phase."""
    figures = select(func.coalesce(func.sum(counts.c.pending), 0)).where(counts.c.unit_id.in_(tops))
    unphased = select(func.count()).where(
        initiatives.c.status == InitiativeStatus.PENDING.value,
        initiatives.c.phase_id.is_(None),
        *([] if whole else [_in_tree(tops)]),
    )
    total = (await db.execute(figures)).scalar_one()
    return int(total) + int((await db.execute(unphased)).scalar_one())


async def scope(db: Executor, roots: Sequence[int]) -> Scope:
    """The scope of these roots, with what the choice of a plan needs."""
    tops = await outermost(db, roots)
    roots_of_tree = select(units.c.id).where(units.c.parent_id.is_(None))
    trees = {row.id for row in await db.execute(roots_of_tree)}
    whole = trees <= set(tops)
    waiting = await waiting_under(db, tops, whole)
    everywhere = waiting if whole else await waiting_under(db, sorted(trees), True)
    return Scope(tops, whole, waiting, everywhere)


def _unindexed(column: Any) -> Any:
    """The column as SQLite's planner may not reach it through an index (a unary plus)."""
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _plan(where: Scope, only: PendingFilter | None, needed: int, ordered: bool) -> str:
    """The index that visits fewest to find ``needed``: a walk of every pending one passes
    those of other units too, the scope's units' index visits all of the scope's."""
    kind = only is not None and only.kind is not None
    field = only is not None and only.field is not None
    # Kind and field lead their index: its range holds the matches, in order.
    ranged = kind and (field or not ordered)
    share = FILTERED_SHARE if not ranged and (kind or field) else 1
    if not where.whole and where.waiting * where.waiting < needed * where.everywhere * share:
        return BY_UNIT
    return BY_KIND if ranged else IN_ORDER


def reach(
    where: Scope, only: PendingFilter | None, needed: int, ordered: bool, dialect: str
) -> Any:
    """The ids of what waits in the scope as ``only`` narrows it (``needed`` of them, in
    the queue's order when ``ordered``), through the index that visits fewest.

    PostgreSQL's planner has statistics and chooses by them. SQLite's has none, and would
    walk in order even where the scope's units' index visits a hundred times fewer: there
    each column another index would be reached by is hidden from it."""
    index = _plan(where, only, needed, ordered)
    hidden = {
        BY_UNIT: {"kind", "field", "submitted_at", "id"},
        BY_KIND: {"unit_id"},
        IN_ORDER: {"unit_id", "kind", "field"},
    }[index] if dialect == "sqlite" else set()  # fmt: skip

    def column(plain: Any) -> Any:
        return _unindexed(plain) if plain.name in hidden else plain

    conditions = [PENDING, *narrowed(only, column)]
    if not where.whole:
        units_below = select(ancestors.c.unit_id).where(ancestors.c.ancestor_id.in_(where.tops))
        conditions.append(column(initiatives.c.unit_id).in_(units_below))
    found = select(initiatives.c.id).where(*conditions)
    return found.order_by(*(column(c) for c in ORDER)) if ordered else found


async def counted(
    db: Executor, where: Scope, only: PendingFilter | None, at_most: int | None = None
) -> int:
    """How many wait in the scope as ``only`` narrows it, counted up to ``at_most``."""
    needed = at_most or max(where.waiting, 1)
    found = reach(where, only, needed, False, db.dialect.name)
    if at_most is not None:
        found = found.limit(at_most)
    query = select(func.count()).select_from(found.subquery())
    return int((await db.execute(query)).scalar_one())
