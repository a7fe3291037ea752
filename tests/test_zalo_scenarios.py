"""The Telegram suite's worker and admin scenarios, replayed on Zalo by typing only: back
and edit, a restart mid-draft, bad input of every kind, two admins deciding by number,
a rejection typed with its reason, and an announcement."""

from __future__ import annotations

from bot.zalo import ZaloSide
from domain.model import InitiativeStatus
from tests.conftest import StartBot
from tests.zalo_world import (
    Worker,
    ZaloUser,
    answer_solution_to_coauthors,
    start_draft,
    status_of_first,
    submit_by_typing,
    zalo_admins,
)

ADMIN_1, ADMIN_2, COLLEAGUE = "5550901", "5550902", "5550003"


async def test_back_and_edit_by_number(zalo: Worker) -> None:
    await start_draft(zalo)
    await zalo.say("Giá treo cuộn chỉ")
    answer = await zalo.say("quay lai")
    assert "Câu hỏi 1/11" in answer[-1] and "Giá treo cuộn chỉ" in answer[-1], answer
    answer = await zalo.say("Giá treo cuộn chỉ xoay")
    assert "Câu hỏi 2/11" in answer[-1], answer
    answer = await zalo.choose("Quay lại")
    assert "Câu hỏi 1/11" in answer[-1], answer
    answer = await zalo.choose("Giữ nguyên")
    assert "Câu hỏi 2/11" in answer[-1], answer

    summary = (await submit_rest(zalo))[-1]
    assert "Giá treo cuộn chỉ xoay" in summary, summary
    answer = await zalo.choose("Tên")
    assert "Câu trả lời hiện tại: Giá treo cuộn chỉ xoay" in answer[-1], answer
    answer = await zalo.say("Giá treo cuộn chỉ xoay 360 độ")
    assert "Giá treo cuộn chỉ xoay 360 độ" in "\n".join(answer), answer
    answer = await zalo.choose("Gửi")
    assert any("SK-000001" in text for text in answer), answer


async def submit_rest(zalo: ZaloUser) -> list[str]:
    """From the kind of solution to the summary."""
    await zalo.choose("Giải pháp kỹ thuật")
    await zalo.say("san xuat")
    await zalo.say("Công nhân phải cúi người thay cuộn chỉ, mất 5 phút mỗi lần.")
    await zalo.choose("Xong")
    await answer_solution_to_coauthors(zalo, benefit="5 tỷ")
    await zalo.choose("Bỏ qua")
    return await zalo.choose("Không")


async def test_a_draft_survives_a_restart(zalo: Worker, start_bot: StartBot) -> None:
    await start_draft(zalo)
    await zalo.say("Giá treo cuộn chỉ xoay")
    first = zalo.harness.runtime.channel("zalo")
    assert isinstance(first, ZaloSide)
    await first.stop_receiving()

    # Another process takes over: it knows the draft and the numbers last shown.
    harness = await start_bot(zalo_bot_token=zalo.fake.token, zalo_api_base_url=zalo.fake.base_url)
    side = harness.runtime.channel("zalo")
    assert isinstance(side, ZaloSide)
    await side.receive(webhook=False)
    try:
        again = ZaloUser(zalo.fake, side.channel, zalo.user_id)
        answer = await again.say("1")
        assert "Câu hỏi 3/11" in answer[-1], answer
    finally:
        await side.stop_receiving()


async def test_bad_input_gets_a_kind_answer_and_loses_nothing(zalo: Worker) -> None:
    await start_draft(zalo)
    await zalo.say("Giá treo cuộn chỉ xoay")
    answer = await zalo.say("9")
    assert "Câu hỏi 2/11" in answer[-1], answer
    assert "Bạn chọn một số từ 1 đến 6" in answer[0] and "(1–6)" in answer[-1], answer
    answer = await zalo.answered(lambda: zalo.fake.send_sticker(zalo.user_id))
    assert "nhãn dán" in answer[0] and "Câu hỏi 2/11" in answer[-1], answer
    answer = await zalo.say("x" * 10_000)
    assert all(len(text) <= 2000 for text in answer), answer
    assert "Câu hỏi 2/11" in answer[-1], answer
    answer = await zalo.choose("Quay lại")
    assert "Câu trả lời hiện tại: Giá treo cuộn chỉ xoay" in answer[-1], answer


async def test_two_admins_on_zalo_decide_once_by_number(zalo: Worker, database_url: str) -> None:
    await zalo_admins(database_url, ADMIN_1, ADMIN_2)
    await submit_by_typing(zalo)
    first, second = (ZaloUser(zalo.fake, zalo.channel, a) for a in (ADMIN_1, ADMIN_2))
    for admin in (first, second):
        (card,) = await zalo.fake.wait_for_messages(admin.user_id, 1)
        assert card.text is not None and "1. ✅ Duyệt" in card.text, card
    answer = await first.say("1")
    assert any("Xác nhận" in text for text in answer), answer
    answer = await first.choose("Xác nhận")
    assert any("Đã báo cho tác giả" in text for text in answer), answer

    answer = await second.say("1")
    assert "Đã xử lý rồi: ✅ Đã duyệt bởi" in answer[0], answer
    assert await status_of_first(database_url) is InitiativeStatus.APPROVED


async def test_a_rejection_typed_with_its_reason_reaches_the_author(
    zalo: Worker, database_url: str
) -> None:
    await zalo_admins(database_url, ADMIN_1)
    await submit_by_typing(zalo)
    admin = ZaloUser(zalo.fake, zalo.channel, ADMIN_1)
    await zalo.fake.wait_for_messages(ADMIN_1, 1)
    seen = len(zalo.texts())
    answer = await admin.say("tu choi SK-000001 Trùng với sáng kiến năm ngoái")
    assert "❌ Đã từ chối bởi" in answer[0] and "Đã báo cho tác giả" in answer[0], answer
    await zalo.fake.wait_for_messages(zalo.user_id, seen + 1)
    told = zalo.texts()[-1]
    assert "SK-000001" in told and "Trùng với sáng kiến năm ngoái" in told, told
    assert await status_of_first(database_url) is InitiativeStatus.REJECTED


async def test_an_announcement_from_a_zalo_admin_reaches_zalo_members(
    zalo: Worker, database_url: str
) -> None:
    await zalo_admins(database_url, ADMIN_1)
    await start_draft(zalo)
    colleague = ZaloUser(zalo.fake, zalo.channel, COLLEAGUE)
    await start_draft(colleague)
    admin = ZaloUser(zalo.fake, zalo.channel, ADMIN_1)
    await admin.say("/announce")
    answer = await admin.say("Chiều thứ Sáu họp tổ sáng kiến lúc 16 giờ.")
    assert any("1. " in text for text in answer), answer
    await admin.say("/help")  # the question comes back with its numbers
    answer = await admin.choose("Mọi đoàn viên")
    assert "Thông báo sẽ gửi tới 2 đoàn viên" in answer[-1], answer
    await admin.choose("📣 Gửi")
    for member in (zalo, colleague):
        await zalo.fake.wait_for_messages(member.user_id, len(member.texts()) + 1)
        assert "họp tổ sáng kiến" in member.texts()[-1], member.texts()[-2:]


async def test_zero_goes_back_and_menu_leaves_the_question(zalo: Worker) -> None:
    await start_draft(zalo)
    await zalo.say("Giá treo cuộn chỉ xoay")
    answer = await zalo.say("0")
    assert "Câu hỏi 1/11" in answer[-1], answer
    answer = await zalo.say("menu")
    assert "Bản nháp SK-000001 đã được lưu" in answer[0], answer
    assert "1. 📝 Nộp sáng kiến" in answer[-1], answer
    answer = await zalo.say("Menu")
    assert answer[0].startswith("Chọn “📝 Nộp sáng kiến”"), answer
