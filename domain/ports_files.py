"""What the core needs from storage for the files it makes or keeps: the rows of the
Excel reports, and files kept by their digest."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from domain.model import Coauthor, FieldOfUse, InitiativeStatus, SolutionKind, Unit

if TYPE_CHECKING:
    from domain.kept import KeptFile


@dataclass(frozen=True, slots=True)
class InitiativeLine:
    """What the list of initiatives shows of one: its fields, its people, its unit and
    the last decision on its current version."""

    id: int
    title: str
    kind: SolutionKind | None
    field: FieldOfUse | None
    status: InitiativeStatus
    author: str
    coauthors: tuple[Coauthor, ...]
    unit: Unit
    submitted_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision: str | None
    reason: str | None
    effect: str | None
    benefit_vnd: int | None
    confidential: bool
    confidential_note: str | None


class ReportSource(Protocol):
    """What the Excel reports read, a batch at a time."""

    async def initiative_lines(
        self, root_id: int, phase_id: int, after: tuple[int, int], limit: int
    ) -> list[InitiativeLine]:
        """Submitted initiatives of a phase in the subtree of ``root_id`` after ``after``
        (a unit id and an initiative id; (0, 0) for the first), by unit id then id, at
        most ``limit``."""

    async def unit_paths(self, unit_ids: Sequence[int]) -> dict[int, list[str]]:
        """The names of each unit's ancestors and its own, the top first."""


class KeptFileRepository(Protocol):
    """Files the bot keeps, by the SHA-256 of their bytes."""

    async def add(self, file: KeptFile) -> None:
        """Store a file; one kept already keeps its bytes and lives at least as long as
        this one would (for good, if either is)."""

    async def get(self, digest: str) -> KeptFile | None:
        """A file with its bytes, expired or not."""

    async def forget_expired(self, now: dt.datetime) -> int:
        """Delete the files whose time is up; return how many."""


class FileUnavailable(Exception):
    """A channel did not give a file's bytes: unknown to it, too large, or unreachable."""


class ChannelFiles(Protocol):
    """The bytes of a file that a messaging channel keeps by its own file id."""

    async def fetch(self, file_id: str, limit: int) -> bytes:
        """The file's bytes, at most ``limit`` of them; FileUnavailable when the channel
        does not give them."""
