"""Review by the union's admins: cards, decisions, the record, and every refusal."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from domain.model import InitiativeStatus, RoleKind
from domain.roles import grant_role, revoke_role
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests.conftest import Clock, StartBot
from tests.fakebotapi import Call, Harness, Member
from tests.scenario import agreed_before, answer_all, join
from tests.test_submission import PHOTO, load

WORKER, ADMIN_A, ADMIN_B, UPPER, OUTSIDER = 701, 801, 802, 803, 804


async def grant(
    database_url: str,
    code: str,
    telegram_id: int,
    revoke: bool = False,
    kind: RoleKind = RoleKind.ADMIN,
) -> None:
    """Give (or take back) a role as the operator's command does."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    where = {"unit_code": code, "channel": "telegram", "external_id": str(telegram_id),
             "kind": kind, "now": dt.datetime.now(dt.UTC)}  # fmt: skip
    try:
        if revoke:
            await revoke_role(units_of_work, **where)  # type: ignore[arg-type]
        else:
            await grant_role(units_of_work, **where)  # type: ignore[arg-type]
            await agreed_before(database_url, "telegram", str(telegram_id))
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def setup(bot: Harness, database_url: str) -> tuple[Member, Member, Member, Member]:
    """A worker of CĐCS May 10, its two admins and the admin one level up."""
    await grant(database_url, "HN-LB-MAY10", ADMIN_A)
    await grant(database_url, "HN-LB-MAY10", ADMIN_B)
    await grant(database_url, "HN-LB", UPPER)
    worker = bot.member(WORKER, "Lan")
    await join(worker)
    return (
        worker,
        bot.member(ADMIN_A, "An"),
        bot.member(ADMIN_B, "Bình"),
        bot.member(UPPER, "Cường"),
    )


async def submit(worker: Member, title: str = "Giá treo cuộn chỉ xoay") -> None:
    await worker.say("/new")
    if any("Bắt đầu mới" in label for label, _ in worker.last().buttons):
        await worker.tap("Bắt đầu mới")
    await answer_all(worker, title)
    await worker.tap("Gửi duyệt")


def edits(bot: Harness, chat_id: int) -> list[Call]:
    return [c for c in bot.api.by_chat[chat_id] if c.method == "editMessageText"]


def notice(calls: list[Call]) -> str:
    return next(c.text for c in calls if c.method == "answerCallbackQuery")


async def decisions(database_url: str, initiative_id: int = 1) -> list[str]:
    stored = await load(database_url, initiative_id)
    return [e.action for e in stored.history if e.action in ("approve", "return", "reject")]  # type: ignore[attr-defined]


async def test_card_reaches_every_admin_of_the_unit(bot: Harness, database_url: str) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    for admin in (a, b):
        card = admin.last()
        for expected in ("SK-000001", "Giá treo cuộn chỉ xoay", "1.200.000 ₫", "Nguyễn Thị Lan",
                         "CĐCS Công ty May 10", "Giải pháp kỹ thuật", "Trần Văn Bình"):  # fmt: skip
            assert expected in card.text, (expected, card.text)
        labels = [label for label, _ in card.buttons]
        assert labels == ["✅ Duyệt", "✏️ Yêu cầu bổ sung", "❌ Từ chối", "📄 Xem đầy đủ"]
    assert not bot.api.sent_to(UPPER), "the admin above is not bothered while the unit has one"


async def test_approve_with_comment(bot: Harness, database_url: str) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.tap("✅ Duyệt")
    await a.say("Sáng kiến rất thiết thực.")
    assert "Sáng kiến rất thiết thực." in a.last().text
    await a.tap("Xác nhận")
    told = worker.last().text
    assert "SK-000001" in told and "duyệt" in told and "Sáng kiến rất thiết thực." in told
    for admin in (ADMIN_A, ADMIN_B):
        edit = edits(bot, admin)[-1]
        assert "✅ Đã duyệt bởi" in edit.text and "22/11/2026" in edit.text
        assert not edit.buttons, "the decided card has no buttons"
    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.APPROVED
    approve = stored.history[-1]  # type: ignore[attr-defined]
    assert (approve.action, approve.role, approve.version) == ("approve", "admin", 1)
    assert approve.note == "Sáng kiến rất thiết thực."


async def test_return_edit_resubmit_approve(bot: Harness, database_url: str) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    old_card = a.button("✅ Duyệt")
    await a.tap("Yêu cầu bổ sung")
    await a.tap("Thiếu số liệu hiệu quả")
    await a.tap("Xác nhận")
    told = worker.last()
    assert "Thiếu số liệu hiệu quả" in told.text
    assert "✏️ Đã yêu cầu bổ sung bởi" in edits(bot, ADMIN_B)[-1].text
    await worker.tap("Sửa và gửi lại")
    assert "Thiếu số liệu hiệu quả" in worker.last().text
    await worker.tap("✏️ Hiệu quả")
    await worker.say("Giảm 30 phút dừng máy mỗi ca, tiết kiệm 1,2 triệu đồng mỗi tháng.")
    await worker.tap("Gửi duyệt")
    card = b.last()
    assert "lần 2" in card.text
    calls = await a.press(old_card)
    assert "trước" in notice(calls) or "cũ" in notice(calls) or "mới" in notice(calls)
    await b.tap("✅ Duyệt")
    await b.tap("Xác nhận")
    stored = await load(database_url, 1)
    assert stored.status is InitiativeStatus.APPROVED and stored.version == 2
    actions = [(e.action, e.version) for e in stored.history]  # type: ignore[attr-defined]
    assert actions == [("created", 0), ("submitted", 1), ("return", 1), ("resubmitted", 2),
                       ("approve", 2)]  # fmt: skip
    await worker.say("/history SK-000001")
    trail = worker.last().text
    assert "Thiếu số liệu hiệu quả" in trail and "Đã duyệt" in trail


async def test_reject_with_typed_reason(bot: Harness, database_url: str) -> None:
    worker, _a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    await b.tap("Từ chối")
    assert not any("Xác nhận" in label for label, _ in b.last().buttons)
    await b.press("r:yes:1:1")
    assert "lý do" in b.last().text.lower(), "a reason is required before confirming"
    assert await decisions(database_url) == []
    await b.say("Đã có sáng kiến tương tự năm 2023.")
    await b.tap("Xác nhận")
    assert "Đã có sáng kiến tương tự năm 2023." in worker.last().text
    assert (await load(database_url, 1)).status is InitiativeStatus.REJECTED
    assert "❌ Đã từ chối bởi" in edits(bot, ADMIN_A)[-1].text


async def test_two_admins_press_at_the_same_moment(bot: Harness, database_url: str) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.tap("✅ Duyệt")
    await b.tap("Từ chối")
    await b.tap("Trùng sáng kiến đã có")
    yes_a = a.button_update(a.button("Xác nhận"))
    yes_b = b.button_update(b.button("Xác nhận"))
    await bot.put(yes_a)
    await bot.put(yes_b)
    await bot.settle()
    assert len(await decisions(database_url)) == 1, "exactly one decision per version"
    stored = await load(database_url, 1)
    loser = b if stored.status is InitiativeStatus.APPROVED else a
    loser_calls = bot.api.by_chat[loser.id]
    notices = [c for c in bot.api.calls if c.method == "answerCallbackQuery" and c.text]
    assert any("Đã duyệt bởi" in c.text or "Đã từ chối bởi" in c.text for c in notices)
    assert any(c.method == "editMessageText" and "bởi" in c.text for c in loser_calls)


async def test_forged_stale_and_unauthorised_presses(
    bot: Harness, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    outsider = bot.member(OUTSIDER, "Người ngoài")
    await join(outsider, code="TH-KCN-ANNORA", name="Người Ngoài")
    await submit(worker)
    for who, data in [(outsider, "r:ok:1:1"), (worker, "r:ok:1:1"), (outsider, "r:full:1"),
                      (a, "r:ok:1"), (a, "r:yes:1:1"), (a, "r:why:1:1:nope"), (a, "r:ok:x:1"),
                      (a, "r:ok:99:1"), (a, "r:" + "9" * 70), (a, "r:ok:1:2")]:  # fmt: skip
        calls = await who.press(data)
        assert calls[0].method == "answerCallbackQuery" and calls[0].text, data
    assert await decisions(database_url) == []
    assert (await load(database_url, 1)).status is InitiativeStatus.PENDING
    refusals = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"telegram:{OUTSIDER}" in line for line in refusals), "logged with the user id"
    assert any(f"telegram:{WORKER}" in line for line in refusals)
    await a.tap("✅ Duyệt")
    await a.tap("Xác nhận")
    calls = await b.tap("✅ Duyệt")
    assert "Đã duyệt bởi" in notice(calls)
    assert await decisions(database_url) == ["approve"]


async def test_orphan_unit_goes_to_the_nearest_admin_above(bot: Harness, database_url: str) -> None:
    await grant(database_url, "TH", UPPER)
    worker = bot.member(WORKER, "Hùng")
    await join(worker, code="TH-KCN-ANNORA", name="Lê Văn Hùng")
    await submit(worker)
    upper = bot.member(UPPER, "Cường")
    assert "SK-000001" in upper.last().text
    await upper.tap("✅ Duyệt")
    await upper.tap("Xác nhận")
    assert (await load(database_url, 1)).status is InitiativeStatus.APPROVED


async def test_upper_admin_may_decide_and_revoked_admin_may_not(
    bot: Harness, database_url: str
) -> None:
    worker, a, _b, upper = await setup(bot, database_url)
    await submit(worker)
    await grant(database_url, "HN-LB-MAY10", ADMIN_A, revoke=True)
    calls = await a.tap("✅ Duyệt")
    assert "không có quyền" in notice(calls)
    await upper.press("r:ok:1:1")
    await upper.tap("Xác nhận")
    assert await decisions(database_url) == ["approve"]


async def test_full_view_with_confidential_part_and_files(bot: Harness, database_url: str) -> None:
    worker, a, _b, _upper = await setup(bot, database_url)
    await worker.say("/new")
    await answer_all(worker)
    await worker.tap("✏️ Tệp")
    await worker.send(photo=PHOTO)
    await worker.tap("Xong")
    await worker.tap("✏️ Bảo mật")
    await worker.tap("Có")
    await worker.say("Bản vẽ khuôn ép.")
    await worker.tap("Gửi duyệt")
    assert "🔒" in a.last().text and "Bản vẽ khuôn ép." not in a.last().text
    calls = await a.tap("Xem đầy đủ")
    assert any("Bản vẽ khuôn ép." in c.text for c in calls if c.method == "sendMessage")
    assert [c.params.get("photo") for c in calls if c.method == "sendPhoto"] == ["big-1"]
    outsider = bot.member(OUTSIDER, "Người ngoài")
    await join(outsider, code="TH-KCN-ANNORA", name="Người Ngoài")
    calls = await outsider.press("r:full:1")
    assert not any("Bản vẽ khuôn ép." in c.text for c in calls)
    await outsider.say("/history SK-000001")
    assert "Bản vẽ" not in outsider.last().text and "SK-000001" in outsider.last().text


async def test_pending_lists_the_scope_oldest_first(
    bot: Harness, database_url: str, clock: Clock
) -> None:
    worker, a, _b, upper = await setup(bot, database_url)
    for index in range(6):
        await submit(worker, title=f"Sáng kiến {index + 1}")
        clock.now += dt.timedelta(days=1)
    await upper.say("/pending")
    listing = upper.last()
    assert "6" in listing.text and "1/2" in listing.text
    assert "CĐCS Công ty May 10: 6" in listing.text
    assert listing.text.index("Sáng kiến 1") < listing.text.index("Sáng kiến 5")
    assert "Sáng kiến 6" not in listing.text
    await upper.tap("Mới hơn")
    assert "Sáng kiến 6" in upper.last().text
    await upper.tap("SK-000006")
    assert any("Duyệt" in label for label, _ in upper.last().buttons)
    await upper.tap("✅ Duyệt")
    await upper.tap("Xác nhận")
    assert "Đã duyệt bởi" in edits(bot, UPPER)[-1].text, "the card opened from /pending too"
    await worker.say("/pending")
    assert "quản trị" in worker.last().text
    await a.say("/pending")
    assert "5" in a.last().text


async def run_job(harness: Harness, name: str) -> None:
    """Run a scheduled job now, as the job queue would, and wait until the messages it
    queued are sent."""
    await harness.runtime.jobs.run(name)
    await drain(harness)


async def drain(harness: Harness) -> None:
    """Wait until the delivery queue has sent everything."""
    deliveries = harness.application.bot_data.deliveries
    for _ in range(600):
        if not await deliveries.backlog():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the delivery queue did not drain")


def digests(bot: Harness, chat_id: int) -> list[Call]:
    return [c for c in bot.api.sent_to(chat_id) if "⏰" in c.text]


async def test_reminders_once_a_day_then_raised_one_level_up(
    bot: Harness, database_url: str, clock: Clock, start_bot: StartBot
) -> None:
    worker, _a, _b, _upper = await setup(bot, database_url)
    await submit(worker, title="Chờ lâu")
    clock.now += dt.timedelta(days=3)
    await submit(worker, title="Chờ chưa lâu")
    clock.now += dt.timedelta(days=5)
    await run_job(bot, "review_reminders")
    for admin in (ADMIN_A, ADMIN_B):
        (digest,) = digests(bot, admin)
        assert "Chờ lâu" in digest.text and "8 ngày" in digest.text
        assert "Chờ chưa lâu" not in digest.text, "5 days is within the limit of 7"
    assert not digests(bot, UPPER)
    # A restart the same day sends nothing more.
    again = await start_bot()
    await run_job(again, "review_reminders")
    assert not any("⏰" in c.text for c in again.api.calls)
    # Twice the limit: the admin one level up hears of it too.
    clock.now += dt.timedelta(days=7)
    await run_job(bot, "review_reminders")
    assert len(digests(bot, ADMIN_A)) == 2
    assert "Chờ chưa lâu" in digests(bot, ADMIN_A)[-1].text, "12 days now"
    (raised,) = digests(bot, UPPER)
    assert "Chờ lâu" in raised.text and "⬆️" in raised.text
    assert "Chờ chưa lâu" not in raised.text, "12 days is less than twice the limit"


async def test_an_old_card_does_not_cancel_a_decision_in_progress(
    bot: Harness, database_url: str
) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker, title="Thứ nhất")
    first_card = b.button("✅ Duyệt")
    await submit(worker, title="Thứ hai")
    await a.press("r:ok:1:1")
    await a.tap("Xác nhận")
    await b.press("r:ok:2:1")
    confirm_second = b.button("Xác nhận")
    calls = await b.press(first_card)
    assert "Đã duyệt bởi" in notice(calls)
    await b.press(confirm_second)
    assert await decisions(database_url, 2) == ["approve"], "the second decision went through"


async def test_the_record_names_people_as_telegram_shows_them_now(
    bot: Harness, database_url: str
) -> None:
    worker, a, b, _upper = await setup(bot, database_url)
    await submit(worker)
    await a.tap("✅ Duyệt")
    await a.tap("Xác nhận")
    calls = await b.tap("✅ Duyệt")
    assert "Đã duyệt bởi An" in notice(calls), "not the Telegram id the operator typed"
    await worker.say("/history SK-000001")
    assert "An" in worker.last().text and str(ADMIN_A) not in worker.last().text


async def test_a_decision_made_while_the_sender_is_down_is_told_after_a_restart(
    bot: Harness, database_url: str, start_bot: StartBot
) -> None:
    worker, admin, _other, _upper = await setup(bot, database_url)
    await submit(worker)
    bot.application.bot_data.duty.kill()  # the process dies just after the decision
    await asyncio.sleep(0)
    await admin.press("r:ok:1:1")
    await admin.press("r:yes:1:1")
    assert not [c for c in bot.api.sent_to(worker.id) if "được duyệt" in c.text]
    restarted = await start_bot()
    await run_job(restarted, "nudges")  # any job: it waits for the queue to drain
    told = [c for c in restarted.api.sent_to(worker.id) if "được duyệt" in c.text]
    assert len(told) == 1, "the decision was queued with it, and is told exactly once"
