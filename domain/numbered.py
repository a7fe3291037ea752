"""Choices as numbers, for a channel without buttons: the reply lists them "1. …", and
a number typed next stands for the choice it numbered.

The numbering is the reply's own order (buttons row by row, else the menu's entries),
so the dialog's own reading of a typed number at a question agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.text import Text
from domain.ui import ButtonPress, Command, Payload, Reply

_CODE, _COMMAND = "b:", "c:"


@dataclass(frozen=True, slots=True)
class Choice:
    """One numbered choice: a button's code, or the command a menu entry stands for."""

    label: Text
    code: str | None = None
    command: str | None = None

    def stored(self) -> str:
        """What is remembered of it until the member answers."""
        return f"{_CODE}{self.code}" if self.code is not None else f"{_COMMAND}{self.command}"


def numbered(reply: Reply) -> tuple[Choice, ...]:
    """The choices a reply offers, in the order they are numbered."""
    if reply.buttons:
        # A page is opened, not chosen: it has no number.
        return tuple(Choice(b.label, code=b.code) for row in reply.buttons for b in row
                     if b.web is None)  # fmt: skip
    if reply.keyboard:
        return tuple(Choice(k.label, command=k.command) for row in reply.keyboard
                     for k in row if k.command is not None)  # fmt: skip
    return ()


def last_choices(replies: list[Reply]) -> tuple[Choice, ...]:
    """The choices a number typed next refers to: those of the last reply."""
    return numbered(replies[-1]) if replies else ()


def chosen(stored: str) -> Payload | None:
    """The press or command a remembered choice stands for."""
    if stored.startswith(_CODE):
        return ButtonPress(stored[len(_CODE) :])
    if stored.startswith(_COMMAND):
        return Command(stored[len(_COMMAND) :])
    return None
