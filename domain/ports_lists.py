"""What the core needs from storage for the staff web view's lists: initiatives of a
scope found by their folded title or number, and an admin's announcements with where
their messages stand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.model import InitiativeStatus
from domain.ui import Reply

if TYPE_CHECKING:
    from domain.delivery import OutgoingState


@dataclass(frozen=True, slots=True)
class Listed:
    """One initiative as a list shows it: never its content, confidential or not."""

    id: int
    title: str
    status: InitiativeStatus
    author: str
    unit_id: int
    unit: str
    submitted_at: dt.datetime | None
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What a list of initiatives is narrowed to: folded words, each in the title or the
    author's name (or the initiative of that number), and one status; empty means
    everything listed."""

    words: tuple[str, ...] = ()
    number: int | None = None
    status: InitiativeStatus | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A page of a list of initiatives, and how many there are in all."""

    items: tuple[Listed, ...]
    total: int


@dataclass(frozen=True, slots=True)
class SentAnnouncement:
    """An announcement its sender sent: what it said, when, whether it still runs
    ("running", "done" or "cancelled"), and how many of its messages are in each state."""

    broadcast_id: int
    reply: Reply
    created_at: dt.datetime
    status: str
    tally: dict[OutgoingState, int]
