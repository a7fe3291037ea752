"""A worker on Zalo, by typing only: the real bot with its Zalo channel on, against a fake
Zalo Bot API over HTTP, polling as in production."""

from __future__ import annotations

from domain.model import InitiativeStatus
from tests.scenario import MAY10
from tests.test_review import ADMIN_A, grant
from tests.zalo_world import Worker, status_of_first, submit_by_typing


async def test_a_worker_joins_and_submits_by_typing(zalo: Worker, database_url: str) -> None:
    answer = await submit_by_typing(zalo)
    assert any("SK-000001" in text for text in answer), answer
    assert await status_of_first(database_url) is InitiativeStatus.PENDING
    assert all(0 < len(text) <= 2000 for text in zalo.texts())


async def test_the_same_message_delivered_twice_is_answered_once(zalo: Worker) -> None:
    first = await zalo.say(f"/start {MAY10}", message_id="m-1")
    again = await zalo.say(f"/start {MAY10}", message_id="m-1")
    assert first and not again


async def test_a_decision_reaches_the_zalo_author_through_the_queue(
    zalo: Worker, database_url: str
) -> None:
    await grant(database_url, MAY10, ADMIN_A)
    await submit_by_typing(zalo)
    await zalo.harness.settle()
    admin = zalo.harness.member(ADMIN_A, "An")
    seen = len(zalo.texts())
    await admin.tap("✅ Duyệt")
    await admin.tap("Xác nhận")
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    told = zalo.texts()[-1]
    assert "SK-000001" in told and "đã được duyệt" in told, told
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED
