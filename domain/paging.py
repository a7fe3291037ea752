"""Lists shown page by page: which page there is, and the ◀️/▶️ buttons under it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.codes import ButtonCode
from domain.text import Text
from domain.ui import Button

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, how many there are in all, and which page (from 0)
    of how many this is."""

    items: tuple[T, ...]
    total: int
    page: int
    pages: int


async def fetch_page(
    fetch: Callable[[int, int], Awaitable[tuple[Sequence[T], int]]], page: int, size: int
) -> Page[T]:
    """The page asked for, ``fetch(offset, limit)`` giving its items and the total; past the
    end, the last page there is."""
    items, total = await fetch(page * size, size)
    pages = (total + size - 1) // size
    if pages and page >= pages:
        # A button from when there were more: show the last page there is now.
        page = pages - 1
        items, total = await fetch(page * size, size)
        pages = (total + size - 1) // size
    return Page(tuple(items), total, page, pages)


def navigation(
    page: int, pages: int, back: Text, forward: Text, code: Callable[[int], ButtonCode]
) -> tuple[tuple[Button, ...], ...]:
    """The row of buttons to the page before and after ``page`` (from 0) of ``pages``;
    none on a single page."""
    row = []
    if page > 0:
        row.append(Button(back, code(page - 1).encode()))
    if page + 1 < pages:
        row.append(Button(forward, code(page + 1).encode()))
    return (tuple(row),) if row else ()
