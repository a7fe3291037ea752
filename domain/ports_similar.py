"""What the core needs from storage to find initiatives like the one being written or
reviewed: the closest submitted initiatives of a subtree, and the matches found when a
version was submitted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from domain.model import InitiativeStatus

SimilarField = Literal["title", "solution"]


@dataclass(frozen=True, slots=True)
class SimilarRules:
    """How close is close enough (0 to 1), which answers are compared, how many are shown."""

    threshold: float = 0.5
    fields: tuple[SimilarField, ...] = ("title", "solution")
    shown: int = 3


@dataclass(frozen=True, slots=True)
class SimilarQuery:
    """Initiatives like this title and solution (either may be missing), submitted in
    the subtree of ``within``, other than ``exclude``; at most ``limit``, closest first."""

    title: str | None
    solution: str | None
    within: int
    rules: SimilarRules
    exclude: int | None = None
    limit: int = 10
    # Also those of this unit's subtree whose solution is nearly the same under another
    # title: dearer (every solution there is read), so for recording at submission, in
    # the author's own union (a helper's second entry, the next line's copy).
    same_solution_in: int | None = None


@dataclass(frozen=True, slots=True)
class SimilarFound:
    """One close initiative, with what deciding who may see it needs: only pending,
    returned and approved initiatives are ever found."""

    initiative_id: int
    title: str
    status: InitiativeStatus
    unit_id: int
    author_id: int
    entered_by_id: int
    confidential: bool
    # When it last changed: for a decided initiative, when it was decided.
    updated_at: dt.datetime
    score: float
    # How alike the titles alone are, when titles were compared.
    title_score: float | None = None


class SimilarInitiatives(Protocol):
    """The index of submitted initiatives' folded titles and solutions."""

    async def find(self, query: SimilarQuery) -> list[SimilarFound]:
        """The closest initiatives at or above the threshold, closest first."""

    async def record(self, initiative_id: int, version: int, found: Sequence[SimilarFound]) -> None:
        """Keep what was found when this version was submitted (replacing an earlier
        version's matches)."""

    async def recorded(self, initiative_ids: Sequence[int]) -> dict[int, list[SimilarFound]]:
        """For each initiative, the matches kept at its last submission that are still
        pending, returned or approved, closest first, with their current status."""
