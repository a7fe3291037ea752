"""Joining a grassroots union: deep links, search, name and phone."""

from __future__ import annotations

from tests.fakebotapi import Harness
from tests.scenario import AGREE, MAY10, join


async def test_deep_link_shows_path_and_joins(bot: Harness) -> None:
    worker = bot.member(101, "Lan", "Nguyễn")
    await worker.say(f"/start {MAY10}")
    card = worker.last().text
    assert "CĐCS Công ty May 10 › LĐLĐ quận Long Biên › LĐLĐ TP Hà Nội" in card
    await worker.tap("Đúng")
    await worker.tap(AGREE)
    name_question = worker.last()
    assert [label for label, _ in name_question.buttons] == ["Dùng tên “Lan Nguyễn”"]
    await worker.tap("Lan Nguyễn")
    phone_question = worker.last()
    assert "📱" in phone_question.keyboard[0]
    contact = {"phone_number": "+84912345678", "first_name": "Lan", "user_id": worker.id}
    await worker.send(contact=contact)
    assert "📝 Nộp sáng kiến" in worker.last().keyboard
    assert "Lan Nguyễn" in worker.last().text


async def test_someone_elses_contact_is_refused(bot: Harness) -> None:
    worker = bot.member(102, "Hùng")
    await worker.say(f"/start {MAY10}")
    await worker.tap("Đúng")
    await worker.say("Đồng ý")
    await worker.say("Lê Văn Hùng")
    await worker.send(contact={"phone_number": "0900000000", "first_name": "X", "user_id": 999})
    assert "📱" in worker.last().keyboard[0], "still asked for the phone"
    await worker.say("0912 345 678")
    assert "📝 Nộp sáng kiến" in worker.last().keyboard


async def test_search_ignores_case_and_diacritics(bot: Harness) -> None:
    worker = bot.member(103, "Hoa")
    await worker.say("/start")
    await worker.say("may 10")
    labels = [label for label, _ in worker.last().buttons]
    assert "CĐCS Công ty May 10" in labels
    await worker.say("thanh hoa")
    labels = [label for label, _ in worker.last().buttons]
    assert labels and len(labels) <= 8
    assert any("Nghi Sơn" in label for label in labels), labels
    await worker.tap("May 10")
    assert "LĐLĐ quận Long Biên" in worker.last().text


async def test_search_offers_at_most_eight(bot: Harness) -> None:
    worker = bot.member(104, "Mai")
    await worker.say("/start")
    await worker.say("cdcs")
    reply = worker.last()
    assert len(reply.buttons) == 8
    assert "8" in reply.text


async def test_search_without_match_and_too_short(bot: Harness) -> None:
    worker = bot.member(105, "Tú")
    await worker.say("/start")
    await worker.say("xyzxyz")
    assert "xyzxyz" in worker.last().text and not worker.last().buttons
    await worker.say("a")
    assert not worker.last().buttons


async def test_unknown_code_leads_to_search(bot: Harness) -> None:
    worker = bot.member(106, "Nam")
    await worker.say("/start KHONG-CO")
    assert "KHONG-CO" in worker.last().text
    await worker.say("May 10")
    assert any("May 10" in label for label, _ in worker.last().buttons)


async def test_a_non_grassroots_code_is_not_joinable(bot: Harness) -> None:
    worker = bot.member(107, "Bình")
    await worker.say("/start HN")
    assert not worker.last().buttons
    assert "HN" in worker.last().text


async def test_input_before_joining_sends_to_join(bot: Harness) -> None:
    worker = bot.member(108, "Cúc")
    await worker.say("/new")
    first = worker.last().text
    await worker.press("d:pick:1:kind:technical")
    await worker.send(sticker={"file_id": "s", "file_unique_id": "s", "type": "regular",
                               "width": 512, "height": 512, "is_animated": False,
                               "is_video": False})  # fmt: skip
    assert "May 10" in first  # the search prompt's example
    assert "May 10" in worker.last().text


async def test_change_unit_keeps_name(bot: Harness) -> None:
    worker = bot.member(109, "Đức")
    await join(worker, name="Phạm Minh Đức")
    await worker.say("/unit")
    await worker.say("buu dien ha tinh")
    await worker.tap("Bưu điện tỉnh Hà Tĩnh")
    await worker.tap("Đúng")
    assert "Bưu điện tỉnh Hà Tĩnh" in worker.last().text
    assert "📝 Nộp sáng kiến" in worker.last().keyboard
    await worker.say("/start")
    assert "Phạm Minh Đức" in worker.last().text


async def test_join_confirm_button_from_old_card_is_refused(bot: Harness) -> None:
    worker = bot.member(110, "Yến")
    await worker.say(f"/start {MAY10}")
    stale = worker.button("Đúng")
    await worker.say("/start TH-KCN-ANNORA")
    calls = await worker.press(stale)
    notices = [c for c in calls if c.method == "answerCallbackQuery"]
    assert notices and notices[0].text, "a stale press gets a notice"
    assert "Annora" in worker.last().text


async def test_a_huge_search_gets_an_ordinary_answer(bot: Harness) -> None:
    worker = bot.member(111, "Hải")
    await worker.say("/start")
    await worker.say("x" * 50_000)
    reply = worker.last()
    assert "Không có công đoàn cơ sở nào khớp" in reply.text and not reply.buttons
    assert len(reply.text) < 300, "the query is not echoed in full"
    await worker.say("may 10 " * 7_000)
    assert any("May 10" in label for label, _ in worker.last().buttons)
