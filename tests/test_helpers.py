"""The initiative support team enters initiatives on members' behalf."""

from __future__ import annotations

from domain.model import InitiativeStatus, RoleKind
from tests.fakebotapi import Harness
from tests.scenario import answer_all, join
from tests.test_review import ADMIN_A, WORKER, grant, notice
from tests.test_submission import load

HELPER = 950


async def test_helper_submits_for_a_member_who_is_told(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    await grant(database_url, "HN-LB-MAY10", HELPER, kind=RoleKind.HELPER)
    lan = bot.member(WORKER, "Lan")
    await join(lan, name="Nguyễn Thị Lan")
    helper = bot.member(HELPER, "Tổ")
    await join(helper, name="Đỗ Văn Tổ")
    admin = bot.member(ADMIN_A, "An")

    await helper.say("/new")
    assert "của ai" in helper.last().text
    await helper.tap("Nộp thay đoàn viên")
    await helper.say("thi lan")
    await helper.tap("Nguyễn Thị Lan")
    assert "thay cho Nguyễn Thị Lan" in helper.transcript(2)
    await answer_all(helper)
    await helper.tap("Gửi duyệt")

    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.PENDING
    assert stored.author_id != stored.entered_by_id
    assert [(e.action, e.role) for e in stored.history] == [  # type: ignore[attr-defined]
        ("created", "helper"), ("submitted", "helper")]  # fmt: skip
    assert "Nguyễn Thị Lan" in admin.last().text, "the card names the author"
    assert "Đỗ Văn Tổ" in lan.last().text and "SK-000001" in lan.last().text

    await admin.tap("Yêu cầu bổ sung")
    await admin.tap("Chưa rõ giải pháp")
    await admin.tap("Xác nhận")
    assert "Chưa rõ giải pháp" in lan.last().text
    assert "Chưa rõ giải pháp" in helper.last().text and "thay cho" in helper.last().text
    await helper.tap("Sửa và gửi lại")
    await helper.tap("✏️ Giải pháp")
    await helper.say("Giá treo xoay 360 độ, lắp trên trục cố định.")
    await helper.tap("Xong")
    await helper.tap("Gửi duyệt")
    stored = await load(database_url, 1)
    assert stored.version == 2 and stored.status is InitiativeStatus.PENDING
    calls = await helper.press("r:full:1")
    assert any("360 độ" in c.text for c in calls), "who entered it may read it"


async def test_helper_enters_for_someone_without_the_bot(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    await grant(database_url, "HN-LB-MAY10", HELPER, kind=RoleKind.HELPER)
    helper = bot.member(HELPER, "Tổ")
    await helper.say("/new")
    assert "Của tôi" not in " ".join(label for label, _ in helper.last().buttons)
    await helper.tap("Nộp thay đoàn viên")
    await helper.say("Phạm Văn Tèo")
    assert "Không có đoàn viên" in helper.last().text
    await helper.tap("chưa dùng bot")
    await helper.say("đồng ý")  # the helper states that the member agreed
    await answer_all(helper)
    await helper.tap("Gửi duyệt")
    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.PENDING and stored.author_id != stored.entered_by_id
    assert "Phạm Văn Tèo" in bot.member(ADMIN_A, "An").last().text
    await helper.say("/my")
    assert "SK-000001" in helper.last().text, "the helper follows what they entered"


async def test_only_helpers_and_only_their_members(bot: Harness, database_url: str) -> None:
    await grant(database_url, "HN-LB-MAY10", HELPER, kind=RoleKind.HELPER)
    outsider = bot.member(960, "Ngoài")
    await join(outsider, code="TH-KCN-ANNORA", name="Trịnh Văn Ngoài")
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    for data in ("h:other", "h:pick:1", "h:new"):
        calls = await worker.press(data)
        assert notice(calls), data
    helper = bot.member(HELPER, "Tổ")
    await helper.press("h:other")
    calls = await helper.press(f"h:pick:{1}")
    assert notice(calls), "the outsider (member 1) is not in the helper's union"
    await helper.say("ngoai")
    assert "Không có đoàn viên" in helper.last().text
    assert (await load_count(database_url)) == 0


async def load_count(database_url: str) -> int:
    from storage.db import create_engine
    from storage.uow import SqlUnitOfWorkFactory

    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            return await uow.initiatives.count()
    finally:
        units_of_work.dispose()
        await engine.dispose()
