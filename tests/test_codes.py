"""Button codes: made and read in one place, refusing anything we could not have made."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

import pytest

from domain.codes import MAX_CODE_NUMBER, ButtonCode, button_code, parse
from domain.preferences import ChooseLanguage, Toggle
from domain.ui import Forged


@button_code("zt", "pick")
@dataclass(frozen=True, slots=True)
class Pick(ButtonCode):
    """A test kind: an id, a page that may be left out."""

    item: int
    page: int | None = None


@button_code("zt", "why")
@dataclass(frozen=True, slots=True)
class Why(ButtonCode):
    """A test kind with a word from a fixed set."""

    item: int
    reason: Literal["dup", "vague"]


class Colour(enum.StrEnum):
    """A test enumeration."""

    RED = "red"


@button_code("zt", "paint")
@dataclass(frozen=True, slots=True)
class Paint(ButtonCode):
    """A test kind with an enumeration."""

    colour: Colour


def test_a_code_reads_back_as_what_made_it() -> None:
    for code in (Pick(12), Pick(12, 3), Why(7, "dup"), Toggle("named", "off"),
                 ChooseLanguage("en"), Paint(Colour.RED)):  # fmt: skip
        assert parse(code.encode()) == code
    assert Pick(12, 3).encode() == "zt:pick:12:3"
    assert ChooseLanguage("vi").encode() == "l:vi"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "zt",
        "zt:pick",  # the id is missing
        "zt:pick:1:2:3",  # one part too many
        "zt:pick:x",
        "zt:pick:-1",
        "zt:pick:1.5",
        f"zt:pick:{MAX_CODE_NUMBER + 1}",
        "zt:pick:" + "9" * 40,
        "zt:pick:١٢",  # digits, but not ASCII ones
        "zt:why:1:other",
        "zt:nope:1",
        "qq:a:1",  # no feature has this prefix
        "zt::1",
        "l:fr",
        "o:nudges:maybe",
        "zt:paint:blue",
        "zt:pick:1" + ":" * 70,
    ],
)
def test_anything_else_is_forged(code: str) -> None:
    with pytest.raises(Forged):
        parse(code)


def test_the_largest_number_passes() -> None:
    assert parse(f"zt:pick:{MAX_CODE_NUMBER}") == Pick(MAX_CODE_NUMBER)


def test_a_code_no_button_could_carry_is_not_made() -> None:
    with pytest.raises(ValueError):
        Why(1, "dup:x").encode()  # type: ignore[arg-type]
    with pytest.raises(ValueError):

        @button_code("zt", "pick")
        @dataclass(frozen=True, slots=True)
        class Again(ButtonCode):
            item: int
