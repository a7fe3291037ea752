"""How an event reaches a feature: by command, by a button code's prefix, or by the dialog
state a typed answer belongs to. Each feature is wired in one entry of each table it uses
(see ``ConversationService``), so adding a command touches one line there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from domain.model import DialogState
from domain.text import Text
from domain.turn import Turn
from domain.ui import ContactShared, FileShared

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CommandRoute:
    """A command such as /stats: what runs it, with its argument."""

    run: Callable[[Turn, str], Awaitable[None]]
    # Works before the member has joined a unit (admins need not join one).
    open: bool = False
    # Leaves the dialog in progress first; the draft stays saved at its step.
    leaves: bool = True


@dataclass(frozen=True, slots=True)
class ButtonRoute:
    """The buttons whose codes start with one prefix, e.g. "r" for review."""

    # Gets the press as the typed code it parsed to (a kind of domain.codes.ButtonCode).
    run: Callable[[Turn, Any], Awaitable[None]]
    # Works before the member has joined a unit.
    open: bool = True


class Prompt(Protocol):
    """Say some lines, then ask again what the dialog state expects."""

    def __call__(self, turn: Turn, *before: Text) -> Awaitable[None]:
        """Ask again."""


@dataclass(frozen=True, slots=True)
class StateRoute:
    """A dialog state: what typed text answers there, and how to ask again."""

    text: Callable[[Turn, str], Awaitable[None]]
    prompt: Prompt
    # Typed "hủy" cancels here; not where a name or a search is typed.
    cancel_word: bool = True
    # What /cancel says here, when more than "Cancelled." (a draft is kept, say).
    cancel: Callable[[Turn], Awaitable[None]] | None = None
    # A photo or document shared here; elsewhere the feature that takes files decides.
    file: Callable[[Turn, FileShared], Awaitable[None]] | None = None
    # A contact shared here; elsewhere the feature that takes contacts decides.
    contact: Callable[[Turn, ContactShared], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class Routes:
    """What one feature answers to: its commands, button prefixes and dialog states."""

    commands: Mapping[str, CommandRoute] = field(default_factory=dict)
    buttons: Mapping[str, ButtonRoute] = field(default_factory=dict)
    states: Mapping[DialogState, StateRoute] = field(default_factory=dict)
    # Where a shared file or contact goes in a state that does not take it itself: one
    # feature each (the draft's files; joining's phone number).
    file: Callable[[Turn, FileShared], Awaitable[None]] | None = None
    contact: Callable[[Turn, ContactShared], Awaitable[None]] | None = None
    # Typed text while no dialog is in progress, before it only brings the menu back:
    # True when the feature took it (an admin's typed decision, say).
    idle_text: Callable[[Turn, str], Awaitable[bool]] | None = None


def merge(features: Iterable[Routes]) -> Routes:
    """All features' routes in one table; two features claiming one name is a bug."""
    commands: dict[str, CommandRoute] = {}
    buttons: dict[str, ButtonRoute] = {}
    states: dict[DialogState, StateRoute] = {}
    handlers: dict[str, Any] = {}
    idle_text: list[Callable[[Turn, str], Awaitable[bool]]] = []
    for routes in features:
        _add(commands, routes.commands)
        _add(buttons, routes.buttons)
        _add(states, routes.states)
        _add(handlers, {name: getattr(routes, name) for name in ("file", "contact")
                        if getattr(routes, name) is not None})  # fmt: skip
        if routes.idle_text is not None:
            idle_text.append(routes.idle_text)
    return Routes(commands, buttons, states, handlers.get("file"), handlers.get("contact"),
                  _first_taker(idle_text))  # fmt: skip


def _first_taker(
    takers: list[Callable[[Turn, str], Awaitable[bool]]],
) -> Callable[[Turn, str], Awaitable[bool]] | None:
    """Offer idle text to each feature in turn, until one takes it."""
    if len(takers) < 2:
        return takers[0] if takers else None

    async def offer(turn: Turn, text: str) -> bool:
        for take in takers:
            if await take(turn, text):
                return True
        return False

    return offer


def _add(table: dict[K, V], more: Mapping[K, V]) -> None:
    taken = table.keys() & more.keys()
    if taken:
        raise ValueError(f"routed twice: {sorted(map(str, taken))}")
    table.update(more)
