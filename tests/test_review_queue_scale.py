"""The review queue as it is read at national scale, on both engines: each way of reaching
what waits (a walk in order, by kind and field, through the scope's units) finds the same
page, and a narrowed queue is counted only so far, the page then saying "more than"."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from domain.model import FieldOfUse, Initiative, InitiativeStatus, SolutionKind, Step
from domain.ports import PendingFilter
from domain.text import _
from handlers.web import queue as queue_page
from locales import Translator
from storage.db import create_engine
from storage.repositories import initiatives as initiative_storage
from storage.repositories import waiting
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import StartBot, seed_units
from tests.fakebotapi import Harness, Member
from tests.test_review import WORKER, setup
from tests.web_world import PUBLIC_URL, sign_in, web_client

NOW = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)
TRANSLATOR = Translator(ZoneInfo("Asia/Ho_Chi_Minh"))
# May 10 is the admin's unit; Đức Giang is beside it, under the same district.
SPREAD = {"HN-LB-MAY10": 5, "HN-LB-DUCGIANG": 3}


async def add_pending(database_url: str, spread: dict[str, int]) -> None:
    """Pending initiatives of the worker in these units, submitted a minute apart, the
    units taking turns; every second one technical, in production."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            author = await uow.members.by_external_id("telegram", str(WORKER))
            assert author is not None
            found = {code: await uow.units.by_code(code) for code in spread}
            left = dict(spread)
            minute = 0
            while any(left.values()):
                for code, unit in found.items():
                    if not left[code]:
                        continue
                    assert unit is not None
                    left[code] -= 1
                    minute += 1
                    technical = minute % 2 == 0
                    await uow.initiatives.add(Initiative(
                        0, author.id, author.id, unit.id, InitiativeStatus.PENDING, NOW, NOW,
                        step=Step.SUMMARY, title=f"Sáng kiến {minute}", version=1,
                        submitted_at=NOW - dt.timedelta(days=40, minutes=-minute),
                        kind=SolutionKind.TECHNICAL if technical else SolutionKind.MANAGEMENT,
                        field=FieldOfUse.PRODUCTION,
                    ))  # fmt: skip
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def queue_bot(start_bot: StartBot, database_url: str) -> tuple[Harness, Member]:
    """The bot serving the web view, what waits (SPREAD), and May 10's admin."""
    await seed_units(database_url)
    bot = await start_bot(public_url=PUBLIC_URL)
    _worker, admin, _b, _upper = await setup(bot, database_url)
    await add_pending(database_url, SPREAD)
    return bot, admin


FILTERS = [
    None,
    PendingFilter(SolutionKind.TECHNICAL, FieldOfUse.PRODUCTION),
    PendingFilter(SolutionKind.TECHNICAL),
    PendingFilter(field=FieldOfUse.PRODUCTION, submitted_before=NOW),
]


@pytest.mark.parametrize("only", FILTERS)
async def test_every_way_of_reaching_the_queue_finds_the_same_page(
    start_bot: StartBot, database_url: str, only: PendingFilter | None
) -> None:
    bot, _admin = await queue_bot(start_bot, database_url)
    async with bot.runtime.graph.units_of_work() as uow:
        district, national = await uow.units.by_code("HN-LB"), await uow.units.by_code("TLD")
        assert district is not None and national is not None
        db = uow.initiatives._db  # the repository's own connection, for the plans' parts
        tops = [district.id]
        # Few waiting among many: through the units; as many as everywhere: a walk.
        small = waiting.Scope(tops, False, 1, 1_000_000)
        large = waiting.Scope(tops, False, 1_000_000, 1_000_000)
        pages = []
        for where in (small, large):
            query = waiting.reach(where, only, 6, True, db.dialect.name).offset(2).limit(4)
            pages.append([row.id for row in await db.execute(query)])
        counts = [await waiting.counted(db, where, only) for where in (small, large)]
        whole = await waiting.scope(db, [national.id])
    expected = {None: 8, FILTERS[1]: 4, FILTERS[2]: 4, FILTERS[3]: 8}[only]
    assert pages[0] == pages[1] and len(pages[0]) == min(4, expected - 2), pages
    assert pages[0] == sorted(pages[0]), "oldest first (ids follow submission here)"
    assert counts == [expected, expected]
    assert whole.whole and whole.waiting == 8, "the national unit holds every unit"


async def test_a_narrowed_queue_says_more_than_past_the_limit(
    start_bot: StartBot, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot, admin = await queue_bot(start_bot, database_url)
    # Five wait in the admin's unit, all in production: a limit of one is passed.
    for module in (initiative_storage, queue_page):
        monkeypatch.setattr(module, "NARROWED_COUNT_LIMIT", 1)
    async with web_client(bot) as client:
        await sign_in(client, admin)
        narrowed = await (await client.get("/web/queue?field=production")).text()
        everything = await (await client.get("/web/queue")).text()
        oldest_first = await (await client.get("/web/queue?field=production&page=9")).text()
    heading = re.compile(r"<h1>[^<]*</h1>")
    more = TRANSLATOR.render(_("more than {count}", count=1), "vi")  # "hơn 1"
    assert f": {more}</h1>" in narrowed, heading.findall(narrowed)
    assert ": 5</h1>" in everything, "not narrowed: counted in full, however many"
    assert "Sáng kiến" in oldest_first, "past the last page counted: the last there is"
