"""Every feature is wired once: commands, button prefixes and dialog states."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import COMMANDS
from domain.model import DialogState
from domain.routes import CommandRoute, Routes, StateRoute, merge
from domain.service import ConversationService
from domain.turn import Turn

ROOT = Path(__file__).resolve().parent.parent


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


def button_prefixes_made() -> set[str]:
    """The first part of every button code the core makes: encode("r", ...)."""
    prefixes = set()
    for path in (ROOT / "domain").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "encode"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                prefixes.add(str(node.args[0].value))
    return prefixes


def test_every_button_the_core_makes_is_answered() -> None:
    # dialog.button builds the draft's "d" codes from a list, which the scan cannot read.
    made = button_prefixes_made() | {"d"}
    assert {"r", "a", "j", "m", "n"} <= made, made
    assert made <= service().button_prefixes
