"""Button codes as typed values, parsed in one place.

A code is ``prefix:action:field…`` (or ``prefix:field…`` for a feature with one kind of
button). Each kind is a frozen dataclass registered with :func:`button_code`; its fields
say what the code carries: ``int`` (an id, a version or a page, bounded to SQL's
INTEGER), ``str`` (a short word), a ``Literal`` of the words allowed or a ``StrEnum``.
Trailing fields with a default may be left out. Anything that does not match a registered
kind exactly is ``Forged``: features receive only codes they could have made.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, Union

from domain.ui import Forged

# The smallest payload a button carries on any channel: 64 bytes.
MAX_CODE_BYTES = 64
# The largest number a code may carry: SQL's INTEGER. Versions and pages are INTEGER; ids
# are BIGINT in PostgreSQL, yet 2^31 of anything is far past this bot's scale. Anything
# forged stays inside the database's integers, a page times its size included.
MAX_CODE_NUMBER = 2_147_483_647
SEPARATOR = ":"
# A word in a code: a language, a reason's code, a step's name.
MAX_WORD = 24


class ButtonCode:
    """What a button carries; subclasses are frozen dataclasses made by ``button_code``."""

    prefix: ClassVar[str]
    action: ClassVar[str | None]

    def encode(self) -> str:
        """The code as the button carries it."""
        values = [getattr(self, f.name) for f in dataclasses.fields(self)]  # type: ignore[arg-type]
        parts = [self.prefix]
        if self.action is not None:
            parts.append(self.action)
        parts += [str(value) for value in values if value is not None]
        return join(parts)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    parse: Callable[[str], object]
    optional: bool


@dataclass(frozen=True, slots=True)
class _Kind:
    cls: type[ButtonCode]
    fields: tuple[_Field, ...]


_KINDS: dict[str, dict[str | None, _Kind]] = {}

C = TypeVar("C", bound=ButtonCode)


def button_code(prefix: str, action: str | None = None) -> Callable[[type[C]], type[C]]:
    """Register a kind of code: a frozen dataclass whose fields follow ``prefix:action``."""

    def register(cls: type[C]) -> type[C]:
        kinds = _KINDS.setdefault(prefix, {})
        if action in kinds or (kinds and (action is None or None in kinds)):
            raise ValueError(f"code {prefix}:{action} registered twice or ambiguously")
        cls.prefix, cls.action = prefix, action
        hints = typing.get_type_hints(cls)
        fields = tuple(
            _Field(f.name, _parser(hints[f.name]), f.default is not dataclasses.MISSING)
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        )
        kinds[action] = _Kind(cls, fields)
        return cls

    return register


def prefixes() -> frozenset[str]:
    """The prefixes of every registered kind of code."""
    return frozenset(_KINDS)


def _parser(hint: Any) -> Callable[[str], object]:
    """How to read one field from its text, refusing what the field cannot hold."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _parser(inner)
    if hint is int:
        return _number
    if hint is str:
        return _word
    if isinstance(hint, type) and issubclass(hint, enum.StrEnum):
        return lambda text: _member(hint, text)
    if origin is Literal:
        allowed = frozenset(typing.get_args(hint))
        return lambda text: text if text in allowed else _refuse()
    raise TypeError(f"a code cannot carry {hint!r}")


def _member(kind: type[enum.StrEnum], text: str) -> enum.StrEnum:
    try:
        return kind(text)
    except ValueError:
        raise Forged from None


def _refuse() -> typing.NoReturn:
    raise Forged


def _number(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_CODE_NUMBER))):
        raise Forged
    value = int(text)
    if value > MAX_CODE_NUMBER:
        raise Forged
    return value


def _word(text: str) -> str:
    if len(text) > MAX_WORD:
        raise Forged
    return text


def join(parts: list[str]) -> str:
    """Join the parts of a code, refusing one that no channel could carry."""
    if any(SEPARATOR in part or not part for part in parts):
        raise ValueError(f"bad code part in {parts!r}")
    code = SEPARATOR.join(parts)
    if len(code.encode()) > MAX_CODE_BYTES:
        raise ValueError(f"code over {MAX_CODE_BYTES} bytes: {code!r}")
    return code


def parse(code: str | None) -> ButtonCode:
    """The typed code a button carried; Forged for anything we could not have made."""
    if not code or len(code.encode()) > MAX_CODE_BYTES or not code.isascii():
        raise Forged
    parts = code.split(SEPARATOR)
    if not all(parts) or len(parts) < 2:
        raise Forged
    kinds = _KINDS.get(parts[0], {})
    if None in kinds:
        return _build(kinds[None], parts[1:])
    kind = kinds.get(parts[1])
    if kind is None:
        raise Forged
    return _build(kind, parts[2:])


def _build(kind: _Kind, values: list[str]) -> ButtonCode:
    required = sum(1 for f in kind.fields if not f.optional)
    if not required <= len(values) <= len(kind.fields):
        raise Forged
    arguments = {f.name: f.parse(text) for f, text in zip(kind.fields, values, strict=False)}
    return kind.cls(**arguments)
