"""Leaving and coming back: cancel, several drafts, restarts, redelivery, /my."""

from __future__ import annotations

from domain.model import InitiativeStatus
from tests.conftest import StartBot, seed_units, stop
from tests.fakebotapi import Harness
from tests.scenario import answer_all, join
from tests.test_submission import load, new_draft


async def test_cancel_keeps_the_draft_and_new_offers_it(bot: Harness, database_url: str) -> None:
    worker = bot.member(301, "Lan")
    await join(worker)
    await worker.say("/new")
    await worker.say("Băng tải tự dừng")
    await worker.tap("Giải pháp quản lý")
    await worker.say("/cancel")
    assert "SK-000001" in worker.last().text
    assert "📝 Nộp sáng kiến" in worker.last().keyboard
    await worker.say("/new")
    labels = [label for label, _ in worker.last().buttons]
    assert any("SK-000001" in label and "Băng tải" in label for label in labels), labels
    assert any("Bắt đầu mới" in label for label in labels)
    await worker.tap("SK-000001")
    assert "Câu hỏi 3/11" in worker.last().text, "continues at the same step"
    await worker.tap("Chất lượng")
    draft = await load(database_url, 1)
    assert draft.title == "Băng tải tự dừng" and draft.kind and draft.field


async def test_several_drafts(bot: Harness, database_url: str) -> None:
    worker = bot.member(302, "Minh")
    await join(worker)
    await worker.say("/new")
    await worker.say("Sáng kiến thứ nhất")
    await new_draft(worker)
    await worker.say("Sáng kiến thứ hai")
    await worker.say("/new")
    labels = [label for label, _ in worker.last().buttons]
    assert sum("SK-00000" in label for label in labels) == 2
    first = await load(database_url, 1)
    second = await load(database_url, 2)
    assert (first.title, second.title) == ("Sáng kiến thứ nhất", "Sáng kiến thứ hai")


async def test_restart_resumes_at_the_same_step(start_bot: StartBot, database_url: str) -> None:
    await seed_units(database_url)
    first = await start_bot()
    worker = first.member(303, "Tuấn")
    await join(worker)
    await worker.say("/new")
    await worker.say("Máy ép có đèn báo")
    await worker.tap("Giải pháp kỹ thuật")
    await worker.tap("Sản xuất")
    await worker.say("Phần đầu của mô tả.")
    await stop(first)

    second = await start_bot()
    again = second.member(303, "Tuấn")
    # The next message simply continues the step the worker was at.
    await again.say("Phần sau của mô tả.")
    assert "Xong" in " ".join(label for label, _ in again.last().buttons)
    await again.tap("Xong")
    assert "Câu hỏi 5/11" in again.last().text
    draft = await load(database_url, 1)
    assert draft.problem == "Phần đầu của mô tả.\nPhần sau của mô tả."
    assert draft.title == "Máy ép có đèn báo"


async def test_same_update_twice_changes_nothing(bot: Harness, database_url: str) -> None:
    worker = bot.member(304, "Vy")
    await join(worker)
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("✏️ Đồng tác giả")
    update = worker.text_update("Ngô Thị Hạnh 20%")
    await worker.deliver(update)
    replies = await worker.deliver(update)
    assert replies == [], "a redelivered update is answered once"
    draft = await load(database_url, 1)
    assert [c.name for c in draft.coauthors] == ["Trần Văn Bình", "Ngô Thị Hạnh"]
    press = worker.button_update(worker.button("Xong"))
    await worker.deliver(press)
    calls = await worker.deliver(press)
    assert [c.method for c in calls] == ["answerCallbackQuery"]


async def test_two_workers_interleaved(bot: Harness, database_url: str) -> None:
    lan, hung = bot.member(305, "Lan"), bot.member(306, "Hùng")
    await join(lan, name="Nguyễn Thị Lan")
    await join(hung, code="TH-KCN-ANNORA", name="Lê Văn Hùng")
    await lan.say("/new")
    await hung.say("/new")
    # Both type at once, several messages each, without waiting for answers.
    for index in range(3):
        await bot.put(lan.text_update(f"Lan {index}") if index else lan.text_update("Tiêu đề Lan"))
        await bot.put(hung.text_update("Tiêu đề Hùng") if not index else hung.text_update("/help"))
    await bot.settle()
    lan_draft, hung_draft = await load(database_url, 1), await load(database_url, 2)
    assert lan_draft.author_id != hung_draft.author_id
    assert lan_draft.title == "Tiêu đề Lan" and hung_draft.title == "Tiêu đề Hùng"
    assert lan_draft.unit_id != hung_draft.unit_id


async def test_one_members_updates_run_in_order(bot: Harness, database_url: str) -> None:
    worker = bot.member(307, "Thảo")
    await join(worker)
    await worker.say("/new")
    await worker.say("Tiêu đề")
    await worker.tap("Khác")
    await worker.tap("Khác")
    parts = [f"Đoạn {index}." for index in range(12)]
    for part in parts:
        await bot.put(worker.text_update(part))
    await bot.settle()
    draft = await load(database_url, 1)
    assert draft.problem == "\n".join(parts)


async def test_discard_after_confirmation(bot: Harness, database_url: str) -> None:
    worker = bot.member(308, "Phúc")
    await join(worker)
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("Hủy")
    await worker.tap("Không, giữ lại")
    assert any("Gửi duyệt" in label for label, _ in worker.last().buttons)
    await worker.tap("Hủy")
    await worker.tap("Có, hủy")
    assert "SK-000001" in worker.last().text
    draft = await load(database_url, 1)
    assert draft.status is InitiativeStatus.DISCARDED, "marked, not erased"
    last = draft.history[-1]  # type: ignore[attr-defined]
    assert (last.action, last.role, last.actor_name) == ("discarded", "author", "Nguyễn Thị Lan")
    await worker.say("/my")
    assert "SK-000001" not in worker.last().text


async def test_my_initiatives_paginated_and_open(bot: Harness, database_url: str) -> None:
    worker = bot.member(309, "Quang")
    await join(worker)
    for index in range(7):
        await new_draft(worker)
        await worker.say(f"Sáng kiến số {index + 1}")
    await worker.say("/my")
    first_page = worker.last()
    assert "7" in first_page.text and "1/2" in first_page.text
    assert "Sáng kiến số 7" in first_page.text and "Sáng kiến số 2" not in first_page.text
    assert "Bản nháp" in first_page.text
    await worker.tap("Cũ hơn")
    second_page = worker.last()
    assert "Sáng kiến số 1" in second_page.text and "2/2" in second_page.text
    await worker.tap("SK-000001")
    full = worker.last()
    assert "Sáng kiến số 1" in full.text and "Bản nháp" in full.text
    await worker.tap("Tiếp tục")
    assert "Câu hỏi 2/11" in worker.last().text


async def test_a_long_full_view_is_split_under_telegrams_limit(
    bot: Harness, database_url: str
) -> None:
    worker = bot.member(310, "Khoa")
    await join(worker)
    await worker.say("/new")
    await worker.say("Tiêu đề dài")
    await worker.tap("Khác")
    await worker.tap("Khác")
    await worker.say("a" * 3990)
    await worker.tap("Xong")
    await worker.say("b" * 3990)
    await worker.tap("Xong")
    await worker.say("/my")
    calls = await worker.tap("SK-000001")
    sent = [c for c in calls if c.method == "sendMessage"]
    assert len(sent) >= 2 and all(len(c.params["text"]) <= 4096 for c in sent)
    assert "a" * 3990 in "".join(c.params["text"] for c in sent)
