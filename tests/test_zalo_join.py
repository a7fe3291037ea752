"""Joining on Zalo from a union's poster: Zalo's link carries no start payload, so the
worker sends the unit code printed on the poster, or types part of the union's name
(without diacritics if they like) and answers with the number of the union found. The
real bot with its Zalo channel on, against the fake Zalo Bot API over HTTP."""

from __future__ import annotations

from handlers.zalo.render import CHANNEL
from storage.uow import SqlUnitOfWorkFactory
from tests.scenario import MAY10
from tests.zalo_world import Worker


async def unit_of(units_of_work: SqlUnitOfWorkFactory, worker: Worker) -> str | None:
    """The code of the union the Zalo worker is a member of, as stored."""
    async with units_of_work() as uow:
        member = await uow.members.by_external_id(CHANNEL, worker.user_id)
        if member is None or member.unit_id is None:
            return None
        unit = await uow.units.get(member.unit_id)
        return unit.code if unit else None


async def finish_joining(zalo: Worker) -> list[str]:
    """Confirm the union offered, give a name, skip the phone; the last answer."""
    await zalo.choose("Đúng")
    await zalo.say("đồng ý")
    answer = await zalo.say("Nguyễn Thị Lan")
    assert "1. Bỏ qua" in answer[-1], answer
    return await zalo.say("1")


async def test_a_worker_joins_by_sending_the_code_printed_on_the_poster(
    zalo: Worker, units_of_work: SqlUnitOfWorkFactory
) -> None:
    # The first message ever, typed in small letters as phones often do.
    answer = await zalo.say(MAY10.lower())
    assert "CĐCS Công ty May 10" in answer[-1] and "1. ✅ Đúng, tham gia" in answer[-1], answer
    welcome = await finish_joining(zalo)
    assert "Nguyễn Thị Lan" in welcome[-1] and "1. 📝 Nộp sáng kiến" in welcome[-1], welcome
    assert await unit_of(units_of_work, zalo) == MAY10
    again = await zalo.say(f"  {MAY10} ")
    assert "Bạn đã là đoàn viên" in again[-1] and "CĐCS Công ty May 10" in again[-1], again


async def test_a_worker_finds_the_union_by_part_of_its_name_without_diacritics(
    zalo: Worker, units_of_work: SqlUnitOfWorkFactory
) -> None:
    answer = await zalo.say("xin chao")
    assert "Gõ một phần tên công đoàn" in answer[-1], answer
    found = await zalo.say("cong ty may")
    listed = found[-1].splitlines()
    assert "1. CĐCS Công ty May 10" in listed and "2. CĐCS Công ty May Đức Giang" in listed, found
    offered = await zalo.say("2")
    assert "CĐCS Công ty May Đức Giang" in offered[-1], offered
    await finish_joining(zalo)
    assert await unit_of(units_of_work, zalo) == "HN-LB-DUCGIANG"


async def test_the_code_also_answers_the_name_question(zalo: Worker) -> None:
    await zalo.say("xin chao")
    offered = await zalo.say(MAY10)
    assert "CĐCS Công ty May 10" in offered[-1] and "1. ✅ Đúng, tham gia" in offered[-1]


async def test_the_code_of_a_union_above_the_grassroots_is_not_offered(zalo: Worker) -> None:
    # "HN" is the city's federation: members join a grassroots union, not it.
    answer = await zalo.say("HN")
    assert "Gõ một phần tên công đoàn" in answer[-1], answer
    assert not any("Đây có phải công đoàn của bạn" in text for text in answer), answer
