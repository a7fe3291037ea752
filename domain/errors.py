"""Errors the core raises to tell a person what is wrong with their input."""

from __future__ import annotations

from domain.text import Text


class InputError(Exception):
    """Input that cannot be accepted; ``text`` says why, in the reader's language."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text
