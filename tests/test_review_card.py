"""What the review card tells an admin: whole words, the effect, who entered it, and for
a resubmission why it came back and what changed; and what the author is told."""

from __future__ import annotations

from domain.model import RoleKind
from domain.review import NUMBER_NOT_KNOWN
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Harness, Member
from tests.scenario import answer_all, join
from tests.test_review import grant, setup, submit
from tests.test_review_similar import vi

HELPER = 951
# 265 characters; a plain cut at 199 would leave "… hơn, t…" of "trưởng".
LONG_PROBLEM = (
    "Ở tổ may số 12, công nhân phải cúi người thay cuộn chỉ ở giá đặt sát sàn, mỗi lần mất "
    "chừng năm phút và dễ đau lưng; cuối ca nhiều người để chừa đến lần thay sau cùng mới làm, "
    "nên máy dừng lâu hơn, tổ trưởng phải nhắc nhở liên tục mà vẫn chưa đổi được thói quen cũ."
)
EFFECT = "Giảm thời gian dừng máy, đỡ đau lưng cho công nhân."


def line(text: str, label: str) -> str:
    """The rest of the card's line that starts with ``label``."""
    found = [row[len(label) :] for row in text.splitlines() if row.startswith(label)]
    assert found, (label, text)
    return found[0]


async def in_english(member: Member) -> None:
    await member.say("/lang")
    await member.tap("English")


async def test_the_card_cuts_at_a_word_and_shows_the_effect(
    bot: Harness, database_url: str
) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await in_english(b)
    await worker.say("/new")
    await answer_all(worker, problem=LONG_PROBLEM)
    await worker.tap("Gửi duyệt")
    assert LONG_PROBLEM[198].isalpha() and LONG_PROBLEM[199].isalpha(), "a word spans the cut"
    for admin, before, effect in ((a, "Hiện trạng: ", "Hiệu quả: "), (b, "Before: ", "Effect: ")):
        card = admin.last().text
        shown = line(card, before)
        assert shown.endswith("…") and len(shown) <= 200, shown
        kept = shown.removesuffix("…")
        assert LONG_PROBLEM.startswith(kept), shown
        assert not LONG_PROBLEM[len(kept)].isalpha(), f"cut inside a word: {shown!r}"
        assert line(card, effect) == EFFECT
        assert "Nhập hộ" not in card and "Entered for" not in card, "she entered it herself"


async def test_the_card_names_the_helper_who_entered_it(bot: Harness, database_url: str) -> None:
    _worker, a, b, _upper = await setup(bot, database_url)
    await in_english(b)
    await grant(database_url, "HN-LB-MAY10", HELPER, kind=RoleKind.HELPER)
    helper = bot.member(HELPER, "Tổ")
    await join(helper, name="Đỗ Văn Tổ")
    await helper.say("/new")
    await helper.tap("Nộp thay đoàn viên")
    await helper.say("thi lan")
    await helper.tap("Nguyễn Thị Lan")
    await answer_all(helper)
    await helper.tap("Gửi duyệt")
    vietnamese, english = a.last().text, b.last().text
    assert "Tác giả: Nguyễn Thị Lan" in vietnamese
    assert "Nhập hộ bởi: Đỗ Văn Tổ (tổ hỗ trợ)" in vietnamese, vietnamese
    assert "Author: Nguyễn Thị Lan" in english
    assert "Entered for the author by: Đỗ Văn Tổ (initiative support team)" in english, english


async def resubmit_with_changes(worker: Member) -> None:
    """Open the returned initiative, change the solution and the effect, send it again."""
    await worker.tap("Sửa và gửi lại")
    await worker.tap("✏️ Giải pháp")
    await worker.say("Giá treo xoay 360 độ, lắp trên trục cố định.")
    await worker.tap("Xong")
    await worker.tap("✏️ Hiệu quả")
    await worker.say("Giảm 30 phút dừng máy mỗi ca, tiết kiệm 1,2 triệu đồng mỗi tháng.")
    await worker.tap("Gửi duyệt")


async def snapshot_versions(database_url: str) -> list[int]:
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            return sorted(await uow.snapshots.of_versions(1, range(1, 10)))
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def test_a_resubmitted_card_says_why_it_came_back_and_what_changed(
    bot: Harness, database_url: str
) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await in_english(b)
    await submit(worker)
    first = a.last().text
    assert "lần trước" not in first and "Đã sửa" not in first, "nothing to compare the first with"
    await a.tap("Yêu cầu bổ sung")
    await a.tap("Thiếu số liệu hiệu quả")
    await a.tap("Xác nhận")
    await resubmit_with_changes(worker)
    card = a.last().text
    assert "(lần 2)" in card
    assert "↩️ Lý do yêu cầu bổ sung lần trước: Thiếu số liệu hiệu quả" in card, card
    # Only what she changed: the title, the co-authors' shares and the rest are the same.
    assert "✏️ Đã sửa so với lần 1: Giải pháp, Hiệu quả" in card.splitlines(), card
    english = b.last().text
    assert "↩️ Returned last time: Figures on the effect are missing" in english, english
    assert "✏️ Changed since version 1: Solution, Effect" in english.splitlines(), english
    assert await snapshot_versions(database_url) == [1, 2]


async def test_a_card_sent_back_unchanged_or_after_a_reopen(
    bot: Harness, database_url: str
) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.tap("Yêu cầu bổ sung")
    await a.say("Cần thêm ảnh chụp giá treo.")
    await a.tap("Xác nhận")
    await worker.tap("Sửa và gửi lại")
    await worker.tap("Gửi duyệt")
    card = a.last().text
    assert "↩️ Lý do yêu cầu bổ sung lần trước: Cần thêm ảnh chụp giá treo." in card, card
    assert "✏️ Chưa sửa gì so với lần 1." in card, card
    await a.tap("✅ Duyệt")
    await a.tap("Xác nhận")
    await a.say("/reopen SK-000001 Trùng với sáng kiến SK-000009 của tổ cắt.")
    await resubmit_with_changes(worker)
    card = a.last().text
    assert "(lần 3)" in card
    assert "↩️ Lý do yêu cầu bổ sung lần trước: Trùng với sáng kiến SK-000009 của tổ cắt." in card
    assert "✏️ Đã sửa so với lần 2: Giải pháp, Hiệu quả" in card.splitlines(), card
    assert await snapshot_versions(database_url) == [1, 2, 3]


async def test_the_author_hears_rejected_or_changes_requested_with_the_reason(
    bot: Harness, database_url: str
) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker, title="Gá cắt chỉ thừa")
    await a.tap("Từ chối")
    await a.say("Đã có sáng kiến tương tự năm 2023.")
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "❌ Sáng kiến SK-000001 “Gá cắt chỉ thừa” của bạn đã bị từ chối." in told, told
    assert "Lý do: Đã có sáng kiến tương tự năm 2023." in told
    await submit(worker, title="Giá treo cuộn chỉ xoay")
    await a.press("r:ret:2:1")
    await a.tap("Chưa rõ giải pháp")
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "yêu cầu bổ sung" in told and "Lý do: Chưa rõ giải pháp" in told, told

    await submit(worker, title="Spool holder")
    await submit(worker, title="Thread cutter")
    await in_english(worker)
    await a.press("r:rej:3:1")
    await a.tap("Trùng sáng kiến đã có")
    # Like the ones before it (the same solution): which one is asked; not known.
    await a.tap(vi(NUMBER_NOT_KNOWN))
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "❌ Your initiative SK-000003 “Spool holder” has been rejected." in told, told
    assert "Reason: Duplicates an existing initiative" in told
    await a.press("r:ret:4:1")
    await a.tap("Không thuộc phạm vi")
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "Changes are requested to your initiative SK-000004" in told, told
    assert "Reason: Outside the programme's scope" in told
