"""Every feature is wired once: commands, button prefixes and dialog states."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.app import COMMANDS
from domain.codes import prefixes
from domain.model import DialogState
from domain.routes import CommandRoute, Routes, StateRoute, merge
from domain.service import ConversationService
from domain.turn import Turn


async def nothing(turn: Turn, *_args: object) -> None:
    """A route that does nothing."""


def service() -> ConversationService:
    def no_units() -> object:
        raise AssertionError("routing needs no database")

    return ConversationService(
        no_units,  # type: ignore[arg-type]
        clock=lambda: dt.datetime.now(dt.UTC),
        timezone=ZoneInfo("Asia/Ho_Chi_Minh"),
    )


def test_two_features_may_not_claim_one_name() -> None:
    first = Routes(commands={"stats": CommandRoute(nothing)})
    with pytest.raises(ValueError, match="stats"):
        merge([first, Routes(commands={"stats": CommandRoute(nothing)})])
    drafting = {DialogState.DRAFTING: StateRoute(nothing, nothing)}
    with pytest.raises(ValueError, match="drafting"):
        merge([Routes(states=drafting), Routes(states=drafting)])


def test_every_command_in_the_menu_is_answered() -> None:
    assert set(COMMANDS) <= service().commands


def test_every_button_the_core_makes_is_answered() -> None:
    routed = service().button_prefixes  # the service imports every feature, and its codes
    made = prefixes() - {"zt"}  # "zt" is tests/test_codes.py's own
    assert {"r", "a", "j", "m", "n", "d", "l", "o"} <= made, made
    assert made == routed
