"""The delivery queue: Telegram's limits, blocked members, and resuming after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

from domain.delivery import NO_EXTRAS, DeliveryService, OutgoingState
from domain.model import Member
from storage.db import create_engine
from storage.uow import SqlUnitOfWorkFactory
from tests import fakebotapi
from tests.conftest import StartBot
from tests.fakebotapi import Call, FakeBotApi, Harness

TEXT = "📣 Thông báo: hạn nộp sáng kiến giai đoạn 2 là 30/09/2023."


async def members(database_url: str, count: int, first: int = 50_000) -> list[int]:
    """Members who talked to the bot, by id."""
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    now = dt.datetime.now(dt.UTC)
    try:
        async with units_of_work() as uow:
            ids = []
            for index in range(count):
                member = await uow.members.add(
                    Member(0, "telegram", str(first + index), f"Đoàn viên {index}", "vi"), now
                )
                ids.append(member.id)
            await uow.commit()
        return ids
    finally:
        units_of_work.dispose()
        await engine.dispose()


async def finished(
    bot: Harness, broadcast_id: int, timeout: float = 30.0
) -> dict[OutgoingState, int]:
    """Wait until nothing of the broadcast is queued or being sent."""
    deliveries: DeliveryService = bot.application.bot_data.deliveries
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        tally = await deliveries.tally(broadcast_id)
        if not tally[OutgoingState.QUEUED] and not tally[OutgoingState.SENDING]:
            return tally
        assert asyncio.get_running_loop().time() < deadline, tally
        await asyncio.sleep(0.1)


def received(api: FakeBotApi) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in api.calls
                   if c.method == "sendMessage" and c.params.get("text") == TEXT)  # fmt: skip


async def test_everyone_once_and_the_blocked_counted(
    start_bot: StartBot, database_url: str
) -> None:
    ids = await members(database_url, 40)
    api = FakeBotApi()
    api.blocked = {50_003, 50_017, 50_029}
    bot = await start_bot(api)
    deliveries = bot.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, None)
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 37 and tally[OutgoingState.BLOCKED] == 3
    counts = received(api)
    assert set(counts.values()) == {1} and len(counts) == 37
    again = await deliveries.broadcast("announce", TEXT, ids, None)
    assert sum((await finished(bot, again)).values()) == 37, "the blocked are skipped from now"


async def test_too_many_requests_are_waited_out(start_bot: StartBot, database_url: str) -> None:
    ids = await members(database_url, 15)
    api = FakeBotApi(per_second=5)
    bot = await start_bot(api)
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 15
    assert api.too_many > 0, "the fake did push back"
    assert set(received(api).values()) == {1}


async def test_crashes_at_random_moments_miss_none_and_repeat_at_most_one_per_slot(
    start_bot: StartBot, database_url: str
) -> None:
    import random

    chance = random.Random(5)
    ids = await members(database_url, 60)
    apis = [FakeBotApi()]
    bot = await start_bot(apis[0], send_slots=2)
    broadcast = await bot.application.bot_data.deliveries.broadcast("announce", TEXT, ids, None)
    for _crash in range(3):
        while not received(apis[-1]):  # noqa: ASYNC110 - the fake has no event
            await asyncio.sleep(0.01)
        await asyncio.sleep(chance.uniform(0, 0.3))
        bot.application.bot_data.duty.kill()  # mid-send, mid-record or between
        await asyncio.sleep(0)
        apis.append(FakeBotApi())
        bot = await start_bot(apis[-1], send_slots=2)
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 60
    everywhere = sum((received(api) for api in apis), Counter[int]())
    assert set(everywhere) == {50_000 + i for i in range(60)}, "none is missed"
    assert bot.application.bot_data.sender.slots == 2
    assert sum(everywhere.values()) - 60 <= 3 * 2, "at most one message per slot per crash"
    sent_by_each = [sum(received(api).values()) for api in apis]
    assert all(sent_by_each[:-1]), f"each process sent some before its crash: {sent_by_each}"


async def test_admin_announces_to_their_units_with_preview_progress_and_stop(
    bot: Harness, database_url: str
) -> None:
    from tests.scenario import join
    from tests.test_review import drain, grant

    await grant(database_url, "HN-LB", 5001)
    admin = bot.member(5001, "Long Biên")
    workers = [bot.member(5100 + i, f"Người {i}") for i in range(4)]
    for index, worker in enumerate(workers):
        code = "HN-LB-MAY10" if index < 3 else "TH-KCN-ANNORA"
        await join(worker, code=code, name=f"Nguyễn Văn {chr(65 + index)}")
    await admin.say("/announce")
    await admin.say("Chủ nhật này công đoàn tổ chức hội thi sáng kiến, mời các bạn tham gia!")
    preview = bot.api.sent_to(admin.id)[-2]
    assert preview.text == "Chủ nhật này công đoàn tổ chức hội thi sáng kiến, mời các bạn tham gia!"
    await admin.tap("Mọi đoàn viên")
    assert "3 đoàn viên" in admin.last().text, "Long Biên's three, not Thanh Hóa's"
    await admin.tap("📣 Gửi")
    assert "Dừng gửi" in " ".join(label for label, _ in admin.last().buttons)
    await drain(bot)
    for worker in workers:
        got = [c for c in bot.api.sent_to(worker.id) if "hội thi sáng kiến" in c.text]
        assert len(got) == (1 if worker is not workers[3] else 0)
    for _ in range(50):
        if "Đã gửi xong" in admin.last().text:
            break
        await asyncio.sleep(0.05)
    assert "3 người đã nhận" in admin.last().text
    calls = await workers[0].press(admin.button("Dừng gửi"))
    assert next(c.text for c in calls if c.method == "answerCallbackQuery"), "only the sender"
    await workers[0].say("/announce")
    assert "quản trị" in workers[0].last().text


async def test_stopping_an_announcement_midway(bot: Harness, database_url: str) -> None:
    from tests.test_review import drain, grant

    ids = await members(database_url, 40, first=60_000)
    await grant(database_url, "TLD", 5002)
    admin = bot.member(5002, "Tổng")
    await admin.say("/start")
    deliveries = bot.application.bot_data.deliveries
    engine = create_engine(database_url)
    units_of_work = SqlUnitOfWorkFactory(engine)
    try:
        async with units_of_work() as uow:
            sender = await uow.members.by_external_id("telegram", "5002")
            assert sender is not None
            broadcast = await uow.outbox.create("announce", TEXT, ids, sender.id,
                                                dt.datetime.now(dt.UTC), NO_EXTRAS)  # fmt: skip
            await uow.commit()
    finally:
        units_of_work.dispose()
        await engine.dispose()
    await admin.press(f"a:stop:{broadcast}")
    assert "Đã dừng" in admin.last().text
    await drain(bot)
    tally = await deliveries.tally(broadcast)
    assert tally[OutgoingState.CANCELLED] > 0 and sum(received(bot.api).values()) < 40
    assert tally[OutgoingState.SENT] + tally[OutgoingState.CANCELLED] == 40


async def test_blocking_and_unblocking_the_bot(bot: Harness, database_url: str) -> None:
    import time

    from tests.fakebotapi import BOT_USER, next_update_id

    (member_id,) = await members(database_url, 1, first=70_000)
    person = bot.member(70_000, "Đoàn viên")

    def change(old: str, new: str) -> dict[str, object]:
        return {
            "update_id": next_update_id(),
            "my_chat_member": {
                "chat": person.chat, "from": person.user, "date": int(time.time()),
                "old_chat_member": {"status": old, "user": BOT_USER, "until_date": 0},
                "new_chat_member": {"status": new, "user": BOT_USER, "until_date": 0},
            },
        }  # fmt: skip

    deliveries = bot.application.bot_data.deliveries
    await person.deliver(change("member", "kicked"))
    skipped = await deliveries.broadcast("announce", TEXT, [member_id], None)
    assert sum((await finished(bot, skipped)).values()) == 0, "a member who blocked is skipped"
    await person.deliver(change("kicked", "member"))
    again = await deliveries.broadcast("announce", TEXT, [member_id], None)
    assert (await finished(bot, again))[OutgoingState.SENT] == 1


async def test_an_announcement_with_a_photo(bot: Harness, database_url: str) -> None:
    from tests.scenario import join
    from tests.test_review import drain, grant

    await grant(database_url, "HN-LB", 5001)
    admin = bot.member(5001, "Long Biên")
    worker = bot.member(5100, "Hoa")
    await join(worker, code="HN-LB-MAY10", name="Nguyễn Thị Hoa")
    photo = [{"file_id": "hoi-thi-photo", "file_unique_id": "p1", "width": 800,
              "height": 600}]  # fmt: skip
    await admin.say("/announce")
    assert "gửi một ảnh" in admin.last().text
    await admin.send(document={"file_id": "d1", "file_unique_id": "d1", "file_name": "a.pdf"})
    assert "không kèm được tệp" in admin.last().text
    await admin.send(photo=photo)
    assert "Đã nhận ảnh" in admin.last().text
    await admin.say("Hội thi sáng kiến " * 100)
    assert "tối đa 1.024 ký tự" in admin.last().text and "1.799" in admin.last().text
    assert "gõ nội dung đi kèm" in admin.last().text, "asks again for the photo's text"
    await admin.say("Mời các bạn dự hội thi sáng kiến Chủ nhật này!")
    preview = bot.api.photos_to(admin.id)[-1]
    assert preview.params["photo"] == "hoi-thi-photo"
    assert preview.text == "Mời các bạn dự hội thi sáng kiến Chủ nhật này!"
    await admin.tap("Mọi đoàn viên")
    await admin.tap("📣 Gửi")
    await drain(bot)
    got = bot.api.photos_to(worker.id)
    assert [(c.params["photo"], c.text) for c in got] == [
        ("hoi-thi-photo", "Mời các bạn dự hội thi sáng kiến Chủ nhật này!")
    ]
    assert not [c for c in bot.api.sent_to(worker.id) if "hội thi" in c.text], "one message"


async def test_a_photo_can_be_removed_before_sending(bot: Harness, database_url: str) -> None:
    from tests.test_review import grant

    await grant(database_url, "HN-LB", 5001)
    admin = bot.member(5001, "Long Biên")
    photo = [{"file_id": "anh", "file_unique_id": "p1", "width": 8, "height": 6}]
    await admin.say("/announce")
    await admin.send(photo=photo, caption="Thông báo có ảnh")
    assert bot.api.photos_to(admin.id)[-1].text == "Thông báo có ảnh"
    await admin.tap("Bỏ ảnh")
    assert bot.api.sent_to(admin.id)[-2].text == "Thông báo có ảnh", "the preview, as text"
    assert "Bỏ ảnh" not in str(admin.last().buttons)
    long_text = "Nội dung dài. " * 100
    await admin.say(long_text)
    await admin.send(photo=photo)
    assert "gửi thông báo không kèm ảnh" in admin.last().text
    await admin.tap("Mọi đoàn viên")
    assert "0 đoàn viên" in admin.last().text, "the long text is kept, without the photo"


async def test_a_worker_mid_submission_is_answered_while_a_broadcast_runs(
    start_bot: StartBot, database_url: str
) -> None:
    from tests.conftest import seed_units
    from tests.scenario import join
    from tests.test_review import submit

    await seed_units(database_url)
    ids = await members(database_url, 120)
    api = FakeBotApi(per_second=30)  # Telegram's limit for the whole bot, enforced
    bot = await start_bot(api)
    deliveries = bot.application.bot_data.deliveries
    broadcast = await deliveries.broadcast("announce", TEXT, ids, None)
    worker = bot.member(7001, "Hoa")
    await join(worker, code="HN-LB-MAY10", name="Nguyễn Thị Hoa")
    await submit(worker)
    assert "SK-" in worker.last().text, worker.transcript()
    under_way = await deliveries.tally(broadcast)
    assert under_way[OutgoingState.QUEUED] > 0, "every answer came while the broadcast ran"
    tally = await finished(bot, broadcast)
    assert tally[OutgoingState.SENT] == 120
    assert api.too_many == 0, "replies and broadcast together kept within 30 a second"


class LateProgress(FakeBotApi):
    """Holds the announcement's progress message back until the announcement is done, as
    a slow network might: the broadcast ends before the bot knows where that message is."""

    async def do_request(self, url: str, method: str, request_data: Any = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:  # fmt: skip
        params = request_data.parameters if request_data else {}
        if url.endswith("/sendMessage") and str(params.get("text", "")).startswith("📣 Đang gửi"):
            for _ in range(200):
                if any("Đã gửi xong" in c.text for c in self.calls):
                    break
                await asyncio.sleep(0.05)
        return await super().do_request(url, method, request_data, *args, **kwargs)


async def announce_to_three(bot: Harness, database_url: str, admin_id: int) -> fakebotapi.Member:
    """An admin of Long Biên sends an announcement to the three workers of CĐCS May 10."""
    from tests.scenario import join
    from tests.test_review import grant

    await grant(database_url, "HN-LB", admin_id)
    admin = bot.member(admin_id, "Long Biên")
    for index in range(3):
        await join(bot.member(admin_id + 100 + index, f"Người {index}"),
                   name=f"Trần Văn {chr(65 + index)}")  # fmt: skip
    await admin.say("/announce")
    await admin.say("Chủ nhật này công đoàn tổ chức hội thi sáng kiến!")
    await admin.tap("Mọi đoàn viên")
    await admin.tap("📣 Gửi")
    return admin


async def buttons_removed(bot: Harness, chat_id: int, message_id: int | None) -> Call:
    """Wait for the edit that takes the buttons off that message."""
    for _ in range(200):
        edits = [c for c in bot.api.by_chat[chat_id] if c.method == "editMessageReplyMarkup"
                 and c.params.get("message_id") == message_id]  # fmt: skip
        if edits:
            return edits[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"the buttons of message {message_id} stayed")


async def test_the_stop_button_goes_when_the_announcement_is_done(
    bot: Harness, database_url: str
) -> None:
    admin = await announce_to_three(bot, database_url, 5301)
    progress = admin.last()
    assert "Dừng gửi" in " ".join(label for label, _ in progress.buttons)
    removed = await buttons_removed(bot, admin.id, progress.message_id)
    assert removed.buttons == [], "no stop button on a finished announcement"
    assert any("Đã gửi xong" in c.text for c in bot.api.sent_to(admin.id))


async def test_the_stop_button_goes_even_when_the_announcement_ends_first(
    start_bot: StartBot, database_url: str
) -> None:
    from tests.conftest import seed_units

    await seed_units(database_url)
    bot = await start_bot(LateProgress())
    admin = await announce_to_three(bot, database_url, 5302)
    progress = admin.last()
    assert progress.text.startswith("📣 Đang gửi") and progress.buttons
    sent = bot.api.calls.index(progress)
    assert any("Đã gửi xong" in c.text for c in bot.api.calls[:sent]), "it did end first"
    removed = await buttons_removed(bot, admin.id, progress.message_id)
    assert removed.buttons == []


async def test_a_stopped_announcement_loses_its_stop_button(
    bot: Harness, database_url: str
) -> None:
    admin = await announce_to_three(bot, database_url, 5303)
    calls = await admin.tap("Dừng gửi")
    (face,) = [c for c in calls if c.method == "editMessageText"]
    assert "đã dừng gửi" in face.text and face.buttons == [], face.text
    assert "Đã dừng" in admin.last().text


async def test_an_announcement_nobody_can_receive_has_no_stop_button(
    bot: Harness, database_url: str
) -> None:
    from tests.test_review import grant

    await grant(database_url, "HT", 5304)
    admin = bot.member(5304, "Hà Tĩnh")
    await admin.say("/announce")
    await admin.say("Mời các bạn nộp sáng kiến trước ngày 30/09.")
    await admin.tap("Mọi đoàn viên")
    assert "0 đoàn viên" in admin.last().text
    await admin.tap("📣 Gửi")
    assert "chưa gửi" in admin.last().text, admin.last().text
    assert not any("Dừng gửi" in label for c in bot.api.sent_to(admin.id) for label, _ in c.buttons)
