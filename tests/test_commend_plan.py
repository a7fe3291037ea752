"""The weekly plan streamed through the database chooses as the plan that held everyone did."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from domain.commend import Path, scopes, week_before
from domain.erasure import erase_member
from domain.model import Initiative, InitiativeStatus, Step
from domain.model import Member as Person
from domain.progress import add_phase, phase_on
from domain.proxy import PROXY_CHANNEL
from tests.conftest import Clock
from tests.fakebotapi import Harness
from tests.test_commend import MONDAY_0805
from tests.test_progress import PHASE, Database
from tests.test_review import drain, grant, run_job

WEEK = dt.datetime(2026, 11, 15, 17, 0, tzinfo=dt.UTC)  # Monday 16/11 00:00 in Hà Nội
LINKED_CHAT = -100_777


@dataclass(frozen=True)
class Someone:
    """A member made for the test: where they are and what they turned off."""

    key: str
    unit: str | None
    named: bool = True
    nudges: bool = True
    reachable: bool = True
    channel: str = "telegram"


PEOPLE = (
    Someone("may10_author", "HN-LB-MAY10"),
    Someone("may10_unnamed", "HN-LB-MAY10", named=False),
    Someone("may10_quiet", "HN-LB-MAY10", nudges=False),
    Someone("may10_blocked", "HN-LB-MAY10", reachable=False),
    Someone("may10_erased", "HN-LB-MAY10"),
    Someone("may10_proxy", "HN-LB-MAY10", channel=PROXY_CHANNEL),
    # Admin of Long Biên: their own unit's message, and Long Biên's card.
    Someone("ducgiang_admin", "HN-LB-DUCGIANG"),
    Someone("ducgiang", "HN-LB-DUCGIANG"),
    Someone("locdau_author", "TH-KCN-LOCDAU"),
    Someone("annora", "TH-KCN-ANNORA"),
    Someone("nghe_an", "NA"),
    Someone("no_unit", None),
)
# (author, title, benefit, confidential): May 10 and Lọc dầu have news of their own,
# so Long Biên, Thanh Hóa's KCN and the nation have theirs too.
APPROVALS = (
    ("may10_author", "Giá treo cuộn chỉ xoay", 9_000_000, False),
    ("may10_unnamed", "Bàn là hơi tiết kiệm điện", 1_200_000, False),
    ("may10_erased", "Máng hứng dầu máy khâu", 500_000, False),
    ("locdau_author", "Van an toàn bí mật", 50_000_000, True),
    ("locdau_author", "Sổ bảo dưỡng có mã QR", 3_000_000, False),
)


async def a_week_with_every_case(database_url: str) -> dict[str, Person]:
    """Members of every kind, approvals in a few units, a chat linked to Long Biên."""
    db = Database(database_url)
    people: dict[str, Person] = {}
    try:
        await add_phase(db.units_of_work, *PHASE)
        async with db.units_of_work() as uow:
            for index, someone in enumerate(PEOPLE):
                unit = await uow.units.by_code(someone.unit) if someone.unit else None
                name = f"Người {someone.key}"
                people[someone.key] = await uow.members.add(Person(
                    0, someone.channel, str(71_000 + index), name, "vi", full_name=name,
                    unit_id=unit.id if unit else None, nudges=someone.nudges,
                    named=someone.named), WEEK)  # fmt: skip
                if not someone.reachable:  # they blocked the bot
                    await uow.outbox.set_reachable(someone.channel, str(71_000 + index), False)
            for index, (key, title, benefit, confidential) in enumerate(APPROVALS):
                author, at = people[key], WEEK + dt.timedelta(hours=10 + index)
                initiative = await uow.initiatives.add(Initiative(
                    0, author.id, author.id, author.unit_id or 0, InitiativeStatus.APPROVED,
                    at, at, step=Step.SUMMARY, title=title, confidential=confidential,
                    benefit_vnd=benefit, version=1, phase_id=1))  # fmt: skip
                await uow.initiatives.record(initiative, author.id, "approve", at)
            long_bien = await uow.units.by_code("HN-LB")
            assert long_bien is not None
            await uow.chats.link(long_bien.id, str(LINKED_CHAT), "Long Biên", people["ducgiang"].id,
                                 WEEK, None)  # fmt: skip
            await uow.commit()
        async with db.units_of_work() as uow:
            await erase_member(uow, people["may10_erased"].id, "operator", WEEK)
            await uow.commit()
    finally:
        await db.close()
    await grant(database_url, "HN-LB", int(people["ducgiang_admin"].external_id))
    return people


async def chosen_as_before(database_url: str, people: dict[str, Person]) -> dict[str, str]:
    """Each member's commendation (its unit's name) chosen as the plan did before it was
    streamed: every recipient in memory, each given the nearest scope with news."""
    db = Database(database_url)
    try:
        async with db.units_of_work() as uow:
            due = dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.UTC)
            start, end = week_before(due)
            phase = await phase_on(uow, (end - dt.timedelta(seconds=1)).date())
            path = Path(await uow.weekly.parents())
            found = await scopes(uow, start, end, MONDAY_0805, phase, path)
            with_news = {unit_id for unit_id, scope in found.items() if scope.has_news}
            now = await uow.members.by_ids([p.id for p in people.values()])
            chosen: dict[str, str] = {}
            for key, person in people.items():
                member = now[person.id]
                if (member.unit_id is None or not member.nudges or not member.reachable
                        or member.channel == PROXY_CHANNEL):  # fmt: skip
                    continue
                scope = next(u for u in path(member.unit_id) if u in with_news)
                unit = await uow.units.get(scope)
                assert unit is not None
                chosen[key] = unit.name
    finally:
        await db.close()
    return chosen


def heard(bot: Harness, chat_id: int) -> list[str]:
    """The units whose commendation a chat got."""
    return [c.text.splitlines()[0].rsplit(" · ", 1)[-1] for c in bot.api.sent_to(chat_id)
            if "Biểu dương tuần" in c.text]  # fmt: skip


async def test_the_streamed_plan_chooses_as_the_old_one(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    people = await a_week_with_every_case(database_url)
    expected = await chosen_as_before(database_url, people)
    assert set(expected) == {"may10_author", "may10_unnamed", "ducgiang_admin", "ducgiang",
                             "locdau_author", "annora", "nghe_an"}  # fmt: skip
    assert expected["ducgiang"] == "LĐLĐ quận Long Biên", "the nearest unit with news"

    clock.now = MONDAY_0805
    commendations = bot.application.bot_data.commendations
    plan = await commendations.plan(commendations._schedule.due(clock.now), clock.now)
    assert plan is not None
    planned = {item.commendation.unit.name: item.members for item in plan.items}
    assert {u: n for u, n in planned.items() if n} == dict(Counter(expected.values()))

    await run_job(bot, "weekly")
    await drain(bot)
    got = {key: heard(bot, int(p.external_id)) for key, p in people.items()}
    assert got == {key: [expected[key]] if key in expected else [] for key in people}
    everything = "\n".join(c.text for c in bot.api.calls if c.method == "sendMessage")
    assert "Người may10_author" in everything
    for hidden in ("Người may10_unnamed", "Người may10_erased", "Van an toàn bí mật"):
        assert hidden not in everything, f"{hidden} must not be shown"
    card = bot.api.photos_to(int(people["ducgiang_admin"].external_id))
    assert len(card) == 1 and "LĐLĐ quận Long Biên" in card[0].text, "the admin's card too"
    assert heard(bot, LINKED_CHAT) == ["LĐLĐ quận Long Biên"], "and the unit's linked chat"
