"""Review by typing: "duyet SK-000001", "tu choi SK-000001 <lý do>"… decide as the
buttons do, for admins only, on Telegram and on Zalo (where a number after a card acts on
that card)."""

from __future__ import annotations

import asyncio

from domain.model import InitiativeStatus
from domain.review_typed import parse
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Harness
from tests.scenario import MAY10
from tests.test_review import ADMIN_A, ADMIN_B, OUTSIDER, decisions, edits, grant, setup, submit
from tests.test_submission import load
from tests.zalo_world import Worker, status_of_first, submit_by_typing, zalo_admins

ZALO_ADMIN = "5550009"


def test_the_typed_forms() -> None:
    approve = parse("Duyệt sk-000123: Rất thiết thực")
    assert approve is not None and approve.initiative == 123
    assert (approve.decision.value, approve.reason) == ("approve", "Rất thiết thực")
    for text, decision, reason in [
        ("tu choi SK-000001 Trùng lặp", "reject", "Trùng lặp"),
        ("TỪ CHỐI SK-1 — trùng", "reject", "trùng"),
        ("yêu cầu bổ sung SK 000001 thiếu số liệu", "return", "thiếu số liệu"),
        ("bo sung sk1", "return", None),
        ("reject SK-000001 duplicate", "reject", "duplicate"),
        ("return SK-000001 figures?", "return", "figures?"),
        ("approve SK 1", "approve", None),
    ]:
        typed = parse(text)
        assert typed is not None and typed.initiative == 1, text
        assert (typed.decision.value, typed.reason) == (decision, reason), text
    assert parse("duyet") == parse("duyet abc") and parse("duyet abc") is not None
    assert parse("duyet abc").initiative is None  # type: ignore[union-attr]
    # A bare number is part of a sentence, not an initiative's number.
    assert parse("tu choi 3 lan roi").initiative is None  # type: ignore[union-attr]
    for text in ("hello SK-000001", "duyetx 1", "1", "", "bo qua", "xin duyet SK-000001"):
        assert parse(text) is None, text


async def test_an_admin_approves_by_typing(bot: Harness, database_url: str) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.say("duyet SK-000001 Rất thiết thực")
    answer = a.last().text
    assert "Đã duyệt bởi" in answer and "Đã báo cho tác giả." in answer, answer
    told = worker.last().text
    assert "SK-000001" in told and "duyệt" in told and "Rất thiết thực" in told, told
    for admin in (ADMIN_A, ADMIN_B):
        edit = edits(bot, admin)[-1]
        assert "✅ Đã duyệt bởi" in edit.text and not edit.buttons
    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.APPROVED
    assert stored.history[-1].note == "Rất thiết thực"  # type: ignore[attr-defined]


async def test_an_admin_rejects_with_a_reason_by_typing(bot: Harness, database_url: str) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.say("Từ chối SK-000001 Trùng với sáng kiến đã có")
    assert "Đã báo cho tác giả." in a.last().text, a.transcript()
    assert "Trùng với sáng kiến đã có" in worker.last().text
    assert await decisions(database_url) == ["reject"]
    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.REJECTED
    assert stored.history[-1].note == "Trùng với sáng kiến đã có"  # type: ignore[attr-defined]


async def test_a_return_without_reason_asks_for_one(bot: Harness, database_url: str) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.say("bo sung SK-000001")
    asked = a.last()
    assert "Bạn chọn hoặc gõ lý do trước nhé." in asked.text and "Vì sao" in asked.text
    assert await decisions(database_url) == []
    # The next typed text is the reason, as after a press.
    await a.say("Thiếu số liệu tiết kiệm")
    assert "Thiếu số liệu tiết kiệm" in a.last().text
    await a.tap("Xác nhận")
    assert await decisions(database_url) == ["return"]
    assert "Thiếu số liệu tiết kiệm" in worker.last().text


async def test_a_second_admin_is_told_who_decided(bot: Harness, database_url: str) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.say("approve SK-000001")
    await b.say("reject SK-000001 too late")
    assert "Đã xử lý rồi" in b.last().text and "An" in b.last().text, b.transcript()
    assert await decisions(database_url) == ["approve"]


async def test_an_admin_of_another_unit_is_refused(bot: Harness, database_url: str) -> None:
    worker, _a, _b, _upper = await setup(bot, database_url)
    await grant(database_url, "TH-KCN-ANNORA", OUTSIDER)
    outsider = bot.member(OUTSIDER, "Người ngoài")
    await submit(worker)
    await outsider.say("duyet SK-000001")
    assert "Bạn không có quyền duyệt sáng kiến này." in outsider.last().text
    await outsider.say("duyet SK-000999")
    assert "Không tìm thấy sáng kiến" in outsider.last().text
    await outsider.say("duyet")
    assert "SK-000123" in outsider.last().text, "how to type it"
    assert await decisions(database_url) == []


async def test_a_worker_typing_a_decision_gets_the_ordinary_answer(
    bot: Harness, database_url: str
) -> None:
    worker, _a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await worker.say("xin chao")
    ordinary = worker.last().text
    await worker.say("duyet SK-000001")
    assert worker.last().text == ordinary
    assert "Nộp sáng kiến" in ordinary
    assert await decisions(database_url) == []
    stranger = bot.member(OUTSIDER, "Người ngoài")
    await stranger.say("duyet SK-000001")
    assert "công đoàn" in stranger.last().text.lower(), "asked to find their union first"
    assert await decisions(database_url) == []


async def shown_choices(database_url: str, user_id: str) -> tuple[str, ...]:
    """The choices a number typed next by this Zalo user would pick."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            member = await uow.members.by_external_id("zalo", user_id)
            assert member is not None
            return tuple((await uow.conversations.get(member.id)).choices)
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def card_seen(author: Worker, database_url: str) -> str:
    """Wait for the review card to reach the Zalo admin, its choices remembered."""
    await author.fake.wait_for_messages(ZALO_ADMIN, 1)
    async with asyncio.timeout(10):
        # The sender remembers the choices just after Zalo took the message.
        while not await shown_choices(database_url, ZALO_ADMIN):  # noqa: ASYNC110 - a row
            await asyncio.sleep(0.02)
    return author.fake.texts(ZALO_ADMIN)[-1]


async def test_a_zalo_admin_decides_by_the_numbers_of_the_card(
    zalo: Worker,
    database_url: str,
) -> None:
    await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
    admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
    await submit_by_typing(zalo)
    card = await card_seen(zalo, database_url)
    assert "SK-000001" in card and "1. ✅ Duyệt" in card, card
    answer = await admin.say("1")
    assert any("Xác nhận" in text for text in answer), answer
    seen = len(zalo.texts())
    answer = await admin.choose("Xác nhận")
    assert any("Đã báo cho tác giả." in text for text in answer), answer
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    assert "đã được duyệt" in zalo.texts()[-1], zalo.texts()[-1]
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED


async def test_a_zalo_admin_decides_by_typing(
    zalo: Worker,
    database_url: str,
) -> None:
    await zalo_admins(database_url, ZALO_ADMIN, unit_code=MAY10)
    admin = Worker(zalo.fake, zalo.channel, ZALO_ADMIN, zalo.harness)
    await submit_by_typing(zalo)
    await card_seen(zalo, database_url)
    seen = len(zalo.texts())
    answer = await admin.say("tu choi SK-000001 Trùng với sáng kiến đã có")
    assert any("Đã báo cho tác giả." in text for text in answer), answer
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    assert "Trùng với sáng kiến đã có" in zalo.texts()[-1], zalo.texts()[-1]
    assert await status_of_first(database_url) is InitiativeStatus.REJECTED
