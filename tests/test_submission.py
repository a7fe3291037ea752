"""Submitting an initiative through the whole dialog, with every way back and out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from domain.model import Initiative, InitiativeStatus
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.fakebotapi import Call, Harness, Member
from tests.scenario import answer_all, join

PHOTO = [
    {"file_id": "small-1", "file_unique_id": "u-small-1", "width": 90, "height": 90,
     "file_size": 1200},
    {"file_id": "big-1", "file_unique_id": "u-big-1", "width": 1280, "height": 960,
     "file_size": 245000},
]  # fmt: skip


async def load(database_url: str, initiative_id: int) -> Initiative:
    """An initiative as stored."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            initiative = await uow.initiatives.get(initiative_id)
            history = await uow.initiatives.history(initiative_id)
    finally:
        units_of_work.dispose()
        await engine.dispose()
    assert initiative is not None
    initiative.history = history  # type: ignore[attr-defined]
    return initiative


async def new_draft(worker: Member) -> None:
    """Open a fresh draft, whether or not others exist."""
    await worker.say("/new")
    if "Bắt đầu mới" in " ".join(label for label, _ in worker.last().buttons):
        await worker.tap("Bắt đầu mới")


async def test_full_submission_with_every_field(bot: Harness, database_url: str) -> None:
    worker = bot.member(201, "Lan")
    await join(worker)
    await worker.say("📝 Nộp sáng kiến")
    assert "SK-000001" in worker.last().text
    await worker.say("Giá treo cuộn chỉ xoay")
    await worker.tap("Ứng dụng tiến bộ")
    await worker.tap("An toàn lao động")
    # A long description may arrive in several messages.
    await worker.say("Công nhân phải cúi người thay cuộn chỉ.")
    await worker.say("Mỗi lần mất 5 phút, dễ đau lưng.")
    await worker.tap("Xong")
    await worker.say("Giá treo xoay bằng thép tận dụng.")
    await worker.tap("Xong")
    await worker.say("15/03/2026")
    assert "15/03/2026" in worker.last().text
    await worker.say("Giảm 80% thời gian thay chỉ.")
    await worker.say("1,5 tỷ")
    assert "1.500.000.000 ₫" in worker.last().text, "the amount is echoed, formatted"
    await worker.say("Trần Văn Bình 30%\nLê Thị Cúc 12,5%")
    assert "12,5%" in worker.last().text
    await worker.tap("Xong")
    await worker.send(photo=PHOTO)
    await worker.send(document={"file_id": "doc-1", "file_unique_id": "u-doc-1",
                                "file_name": "ban-ve.pdf", "mime_type": "application/pdf",
                                "file_size": 52000})  # fmt: skip
    assert "2/10" in worker.last().text
    await worker.tap("Xong")
    await worker.tap("Có")
    await worker.say("Bản vẽ kích thước giá treo.")
    summary = worker.last().text
    for expected in ("Giá treo cuộn chỉ xoay", "An toàn lao động", "15/03/2026",
                     "1.500.000.000 ₫", "Trần Văn Bình (30%)", "Lê Thị Cúc (12,5%)",
                     "Bản vẽ kích thước"):  # fmt: skip
        assert expected in summary, (expected, summary)
    await worker.tap("Gửi duyệt")
    assert "SK-000001" in worker.last().text
    assert "📝 Nộp sáng kiến" in worker.last().keyboard

    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.PENDING
    assert stored.version == 1 and stored.submitted_at is not None
    assert (
        stored.problem
        == "Công nhân phải cúi người thay cuộn chỉ.\nMỗi lần mất 5 phút, dễ đau lưng."
    )
    assert stored.applied_since == dt.date(2026, 3, 15)
    assert stored.benefit_vnd == 1_500_000_000
    assert [a.file_id for a in stored.attachments] == ["big-1", "doc-1"]
    assert stored.attachments[0].file_size == 245000
    assert stored.confidential and stored.confidential_note == "Bản vẽ kích thước giá treo."
    assert stored.author_id == stored.entered_by_id
    assert [entry.action for entry in stored.history] == ["created", "submitted"]  # type: ignore[attr-defined]

    await worker.say("📋 Sáng kiến của tôi")
    listing = worker.last().text
    assert "SK-000001" in listing and "Chờ duyệt" in listing and "22/11/2026" in listing


async def test_edit_from_summary_returns_to_summary(bot: Harness, database_url: str) -> None:
    worker = bot.member(202, "Hà")
    await join(worker)
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("✏️ Tên")
    assert "Giá treo cuộn chỉ xoay" in worker.last().text, "the current answer is shown"
    await worker.say("Giá treo cuộn chỉ bằng thép")
    assert "Giá treo cuộn chỉ bằng thép" in worker.last().text
    assert any("Gửi duyệt" in label for label, _ in worker.last().buttons)
    await worker.tap("✏️ Giải pháp")
    await worker.say("Giải pháp mới thay hoàn toàn.")
    await worker.tap("Xong")
    await worker.tap("✏️ Giá trị")
    await worker.say("200 triệu")
    assert "200.000.000 ₫" in worker.last().text
    await worker.tap("✏️ Bảo mật")
    await worker.tap("Có")
    await worker.say("Thông số máy.")
    assert "Thông số máy." in worker.last().text
    await worker.tap("Gửi duyệt")
    stored = await load(database_url, 1)
    assert stored.title == "Giá treo cuộn chỉ bằng thép"
    assert stored.solution == "Giải pháp mới thay hoàn toàn."
    assert stored.benefit_vnd == 200_000_000 and stored.status is InitiativeStatus.PENDING


async def test_back_at_every_step(bot: Harness, database_url: str) -> None:
    worker = bot.member(203, "Sơn")
    await join(worker)
    await worker.say("/new")
    answers: list[Callable[[], Awaitable[list[Call]]]] = [
        lambda: worker.say("Tên thử"),
        lambda: worker.tap("Khác"),
        lambda: worker.tap("Sản xuất"),
        lambda: worker.say("Trước đây chậm."),
        lambda: worker.tap("Xong"),
        lambda: worker.say("Làm nhanh hơn."),
        lambda: worker.tap("Xong"),
        lambda: worker.tap("Chưa áp dụng"),
        lambda: worker.say("Nhanh hơn."),
        lambda: worker.tap("Không xác định"),
        lambda: worker.tap("Không có đồng tác giả"),
        lambda: worker.tap("Bỏ qua"),
    ]
    for answer in answers:
        await answer()
    assert "Câu hỏi 11/11" in worker.last().text
    # Now at the confidentiality question (11/11): walk back to the first question.
    walked = []
    for _ in range(10):
        await worker.tap("Quay lại")
        walked.append(next(line for line in worker.last().text.splitlines()
                           if line.startswith("Câu hỏi")))  # fmt: skip
    assert walked == [f"Câu hỏi {n}/11" for n in range(10, 0, -1)], walked
    # Every answer survived the walk back.
    draft = await load(database_url, 1)
    assert draft.title == "Tên thử" and draft.problem == "Trước đây chậm."
    assert draft.applied is False and draft.benefit_known is False
    # Back from the first question leaves the dialog with the draft saved.
    await worker.tap("Quay lại")
    assert "📝 Nộp sáng kiến" in worker.last().keyboard
    assert (await load(database_url, 1)).status is InitiativeStatus.DRAFT


async def test_back_from_an_edit_keeps_the_answer(bot: Harness, database_url: str) -> None:
    worker = bot.member(204, "Tâm")
    await join(worker)
    await worker.say("/new")
    await answer_all(worker)
    for label in ("✏️ Tên", "✏️ Hiện trạng", "✏️ Giá trị", "✏️ Đồng tác giả", "✏️ Bảo mật"):
        await worker.tap(label)
        await worker.tap("Quay lại")
        assert any("Gửi duyệt" in text for text, _ in worker.last().buttons), label
    draft = await load(database_url, 1)
    assert draft.title == "Giá treo cuộn chỉ xoay" and draft.benefit_vnd == 1_200_000
    assert [c.name for c in draft.coauthors] == ["Trần Văn Bình"]
