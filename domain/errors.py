"""Errors the core raises to tell a person what is wrong with their input."""

from __future__ import annotations

from domain.text import Text


class InputError(Exception):
    """Input that cannot be accepted; ``text`` says why, in the reader's language."""

    def __init__(self, text: Text) -> None:
        super().__init__(text.msgid)
        self.text = text


class NotAllowed(InputError):
    """The actor may not do this (not in the unit's scope, not the author…)."""


class NotFound(InputError):
    """What the actor named does not exist, or they may not know that it does."""


class Outdated(InputError):
    """What the actor acted on has changed meanwhile: decided by someone else, replaced by
    a newer version, stopped."""
