"""Announcement use cases called directly, without a chat: whom, queue, stop."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from domain.announce_cases import announce, announcement_audience, stop_announcement
from domain.delivery import OutgoingState
from domain.errors import InputError, NotAllowed
from domain.model import Member
from domain.proxy import PROXY_CHANNEL
from tests.usecase_world import NOW, TODAY, World, open_world


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url) as opened:
        yield opened


async def long_bien(world: World) -> dict[str, Member]:
    """An admin of Long Biên (a member of May 10 too), three workers at May 10, one at
    Đức Giang, one in Thanh Hóa; May 10 lags its target, Đức Giang has reached its own."""
    phase = await world.phase()
    await world.figures(phase, approved={"HN-LB-DUCGIANG": 5},
                        targets={"HN-LB-MAY10": 100, "HN-LB-DUCGIANG": 5})  # fmt: skip
    return {
        "admin": await world.person(unit="HN-LB-MAY10", admin_of="HN-LB"),
        "other_admin": await world.person(admin_of="HN-LB"),
        **{f"may10_{i}": await world.person(unit="HN-LB-MAY10") for i in range(3)},
        "ducgiang": await world.person(unit="HN-LB-DUCGIANG"),
        "thanh_hoa": await world.person(unit="TH-KCN-ANNORA"),
    }


async def test_the_audience_is_everyone_below_or_the_lagging_units_only(world: World) -> None:
    people = await long_bien(world)
    may10 = {people[f"may10_{i}"].id for i in range(3)}
    async with world.session() as uow:
        everyone = await announcement_audience(uow, people["admin"], "all", TODAY)
        lagging = await announcement_audience(uow, people["admin"], "lag", TODAY)
        with pytest.raises(NotAllowed):
            await announcement_audience(uow, people["may10_0"], "all", TODAY)
    assert set(everyone.members) == may10 | {people["ducgiang"].id}, "not the sender"
    assert everyone.count == 4
    assert set(lagging.members) == may10


async def test_no_unit_lags_outside_a_phase(world: World) -> None:
    people = await long_bien(world)
    async with world.session() as uow:
        after = await announcement_audience(uow, people["admin"], "lag", dt.date(2027, 2, 1))
    assert after.count == 0


async def test_an_announcement_is_queued_and_only_its_sender_stops_it(world: World) -> None:
    people = await long_bien(world)
    async with world.session() as uow:
        sent = await announce(uow, people["admin"], "  Hội thi sáng kiến Chủ nhật này!  ", None,
                              "lag", NOW, TODAY, caption_limit=1024)  # fmt: skip
        await uow.commit()
    assert (sent.count, sent.queued, sent.closed) == (3, 3, False)
    async with world.session() as uow:
        for someone in (people["other_admin"], people["may10_0"]):
            with pytest.raises(NotAllowed):
                await stop_announcement(uow, someone, sent.broadcast_id)
        assert (await uow.outbox.tally(sent.broadcast_id))[OutgoingState.QUEUED] == 3
        stopped = await stop_announcement(uow, people["admin"], sent.broadcast_id)
        await uow.commit()
    assert (stopped.cancelled, stopped.total) == (3, 3)
    async with world.session() as uow:
        tally = await uow.outbox.tally(sent.broadcast_id)
        again = await stop_announcement(uow, people["admin"], sent.broadcast_id)
    assert tally[OutgoingState.CANCELLED] == 3 and tally[OutgoingState.QUEUED] == 0
    assert again.cancelled == 0, "nothing left to stop"


async def test_an_announcement_nobody_can_receive_is_closed_at_once(world: World) -> None:
    people = await long_bien(world)
    async with world.session() as uow:
        for i in range(3):
            await uow.outbox.set_reachable("telegram", people[f"may10_{i}"].external_id, False)
        sent = await announce(uow, people["admin"], "Thông báo", None, "lag", NOW, TODAY,
                              caption_limit=1024)  # fmt: skip
        assert (sent.count, sent.queued, sent.closed) == (3, 0, True)
        assert not await uow.outbox.close(sent.broadcast_id), "closed already"


async def test_a_refused_announcement_queues_nothing(world: World) -> None:
    people = await long_bien(world)
    async with world.session() as uow:
        with pytest.raises(NotAllowed):
            await announce(uow, people["may10_0"], "Thông báo", None, "all", NOW, TODAY,
                           caption_limit=1024)  # fmt: skip
        with pytest.raises(InputError):
            await announce(uow, people["admin"], "x" * 30, "photo-id", "all", NOW, TODAY,
                           caption_limit=20)  # fmt: skip
        with pytest.raises(InputError):
            await announce(uow, people["admin"], "   ", None, "all", NOW, TODAY,
                           caption_limit=1024)  # fmt: skip
        assert await uow.outbox.backlog() == 0
        with_photo = await announce(uow, people["admin"], "x" * 20, "photo-id", "all", NOW,
                                    TODAY, caption_limit=20)  # fmt: skip
        assert with_photo.queued == 4
        assert await uow.outbox.backlog() == 4


async def test_members_a_helper_entered_are_counted_but_not_reached(world: World) -> None:
    people = await long_bien(world)
    async with world.session() as uow:
        await uow.members.add(
            Member(id=0, channel=PROXY_CHANNEL, external_id="p1", display_name="Hoa",
                   language="vi", full_name="Lê Thị Hoa", unit_id=people["ducgiang"].unit_id),
            NOW,
        )  # fmt: skip
        sent = await announce(uow, people["admin"], "Thông báo", None, "all", NOW, TODAY,
                              caption_limit=1024)  # fmt: skip
    assert (sent.count, sent.queued) == (5, 4)
