"""Finding initiatives by their author's name on the web view: diacritics and case
ignored, the name as the member has it now, and the names of members who were there
before the search could read them."""

from __future__ import annotations

import datetime as dt
import importlib

from alembic import command
from markupsafe import escape
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.model import InitiativeStatus
from handlers.web.words import WORDS
from storage.db import alembic_config, create_engine, upgrade
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot
from tests.scenario import join
from tests.test_review import setup, submit
from tests.test_web_lists import add_initiatives, listed, web_bot
from tests.web_world import sign_in, web_client

SECOND_WORKER = 7002
NOW = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)
MIGRATION = importlib.import_module("storage.migrations.versions.0023_member_search_name")


async def rename(database_url: str, telegram_id: int, full_name: str) -> None:
    """Change a member's name, as /profile saves it."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            member = await uow.members.by_external_id("telegram", str(telegram_id))
            assert member is not None
            member.full_name = full_name
            await uow.members.save(member, NOW)
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_a_word_finds_the_title_or_the_authors_name(
    start_bot: StartBot, database_url: str
) -> None:
    bot = await web_bot(start_bot, database_url)
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await join(bot.member(SECOND_WORKER, "Hùng"), name="Phạm Đức Hùng")
    await add_initiatives(database_url, "HN-LB-MAY10", ["Bàn ủi hơi nước"],
                          InitiativeStatus.PENDING, author_id=SECOND_WORKER)  # fmt: skip
    async with web_client(bot) as client:
        await sign_in(client, a)
        for typed in ("hùng", "HUNG", "pham duc", "Phạm Đức Hùng", "hung ban ui"):
            found = await listed(client, f"q={typed}")
            assert "Bàn ủi hơi nước" in found, typed
            assert "Giá treo cuộn chỉ xoay" not in found, typed
        for typed in ("nguyễn thị lan", "NGUYEN", "lan giá treo"):
            found = await listed(client, f"q={typed}")
            assert "Giá treo cuộn chỉ xoay" in found and "Bàn ủi" not in found, typed
        assert "<table>" not in await listed(client, "q=hung gia treo"), "every word must match"
        hint = bot.runtime.graph.translator.render(WORDS["search_hint"], "vi")
        assert f'placeholder="{escape(hint)}"' in await listed(client, ""), "the hint says so"
        await rename(database_url, SECOND_WORKER, "Lê Thị Mai")
        assert "Bàn ủi hơi nước" in await listed(client, "q=le thi mai"), "the name as it is now"
        assert "<table>" not in await listed(client, "q=pham duc hung")


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Move the schema down to ``revision``."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def test_the_upgrade_folds_the_names_of_members_already_there(database_url: str) -> None:
    engine = create_engine(database_url)
    people = [("1", "Trần Thị Hoa", "Đặng Hoa"), ("2", "", None), ("3", "Zalo Bảo", None)]
    try:
        await downgrade(engine, MIGRATION.down_revision)
        async with engine.begin() as connection:
            for external_id, display_name, full_name in people:
                await connection.execute(text(
                    "INSERT INTO members (channel, external_id, display_name, language, "
                    "full_name, created_at, updated_at) VALUES ('telegram', :e, :d, 'vi', :f, "
                    ":now, :now)"), {"e": external_id, "d": display_name, "f": full_name,
                                     "now": NOW})  # fmt: skip
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT external_id, search_name FROM members ORDER BY external_id")
            )
            folded = {row.external_id: row.search_name for row in rows}
    finally:
        await upgrade(engine)
        await engine.dispose()
    assert folded == {"1": "dang hoa", "2": "", "3": "zalo bao"}
