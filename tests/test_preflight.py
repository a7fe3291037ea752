"""Before the bot starts: the schema must match the code, and a SQLite file serves one
process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.__main__ import main
from bot.preflight import InstanceLock, StartError, check_schema
from storage.db import create_engine, current_revision, head_revision, upgrade
from tests.conftest import run_in_thread
from tests.fakebotapi import TOKEN

OLDER = "0009"


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A token and a SQLite file in a clean directory; no migration at start."""
    url = f"sqlite+aiosqlite:///{tmp_path}/bot.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BOT_MIGRATE_ON_START", "0")
    return url


def migrate(url: str, revision: str) -> None:
    async def go() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine, revision)
        finally:
            await engine.dispose()

    run_in_thread(go)


def refusal(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["run"]) == 2, "the bot must not start"
    return capsys.readouterr().err


def test_an_older_schema_is_refused_with_the_command_to_run(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(environment, OLDER)
    message = refusal(capsys)
    assert "older" in message and "python -m bot db upgrade" in message
    assert main(["db", "current"]) == 0
    assert f"database at {OLDER}, code at {head_revision()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert f"database at {head_revision()}" in capsys.readouterr().out


def test_an_empty_database_is_refused(environment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "python -m bot db upgrade" in refusal(capsys)


def test_a_schema_from_a_newer_version_is_refused(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(environment, "head")

    async def from_the_future() -> None:
        engine = create_engine(environment)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        finally:
            await engine.dispose()

    run_in_thread(from_the_future)
    message = refusal(capsys)
    assert "newer" in message and "0099" in message


def test_a_second_process_on_one_sqlite_file_is_refused(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate(environment, "head")
    running = InstanceLock(environment)
    running.acquire()
    try:
        message = refusal(capsys)
        assert "Another bot process is already running" in message and "PostgreSQL" in message
    finally:
        running.release()
    again = InstanceLock(environment)
    again.acquire()  # the first one stopped: the file is free
    again.release()


async def test_start_upgrades_an_older_schema_when_allowed(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    try:
        await upgrade(engine, OLDER)
        with pytest.raises(StartError, match="older"):
            await check_schema(engine, migrate=False)
        await check_schema(engine, migrate=True)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
